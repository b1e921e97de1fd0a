import type { Socket } from 'node:net'
import { type TLSSocket, connect as tlsConnect } from 'node:tls'

/** The protocols doctor speaks before TLS: PostgreSQL's SSLRequest, MySQL's SSLRequest. */
export type StartTls = 'postgres' | 'mysql'

// CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH, as clients send.
const SSL_REQUEST_FLAGS = 0x200 | 0x800 | 0x8000 | 0x80000
const CLIENT_SSL = 0x800

/**
 * MySQL's TLS upgrade, as mysql2 and the mysql client do it against RDS Proxy for MySQL: read the
 * server's greeting (the server speaks first), check it offers TLS, send the 32-byte SSLRequest,
 * then a TLS handshake with SNI `servername`. Certificates are not refused here: doctor reads them
 * to say which names they carry. No TLS offered: `ERR_NO_TLS`, doctor's own code for that.
 */
export function mysqlTls(
  socket: Socket,
  servername: string,
  ca: string | undefined,
  signal: AbortSignal,
): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    let bytes: Buffer = Buffer.alloc(0)
    let secure: TLSSocket | undefined
    const fail = (error: unknown) => {
      cleanup()
      secure?.destroy()
      reject(error)
    }
    const cleanup = () => {
      socket.off('data', onData)
      socket.off('error', fail)
      socket.off('close', onClose)
      signal.removeEventListener('abort', onAbort)
    }
    const onAbort = () => fail(signal.reason)
    const onClose = () =>
      fail(
        Object.assign(new Error('connection closed before the MySQL greeting'), {
          code: 'ECONNRESET',
        }),
      )
    const onData = (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk])
      if (bytes.length < 4 || bytes.length < 4 + bytes.readUIntLE(0, 3)) return
      socket.off('data', onData)
      const payload = bytes.subarray(4, 4 + bytes.readUIntLE(0, 3))
      const versionEnd = payload.indexOf(0, 1)
      if (payload[0] !== 10 || versionEnd < 0 || payload.length < versionEnd + 16) {
        const what =
          payload[0] === 0xff ? `an error: ${payload.toString('utf8', 9)}` : 'not a MySQL greeting'
        fail(Object.assign(new Error(`the server answered with ${what}`), { code: 'ERR_NO_TLS' }))
        return
      }
      const capabilities = payload.readUInt16LE(versionEnd + 1 + 4 + 8 + 1)
      if ((capabilities & CLIENT_SSL) === 0) {
        fail(Object.assign(new Error('the MySQL server offers no TLS'), { code: 'ERR_NO_TLS' }))
        return
      }
      const request = Buffer.alloc(36)
      request.writeUIntLE(32, 0, 3)
      request[3] = 1
      request.writeUInt32LE(SSL_REQUEST_FLAGS, 4)
      request.writeUInt32LE(16 * 1024 * 1024, 8)
      request[12] = 45 // utf8mb4_general_ci
      socket.write(request)
      secure = tlsConnect({
        socket,
        servername,
        rejectUnauthorized: false,
        ...(ca === undefined ? {} : { ca }),
      })
      secure.once('secureConnect', () => {
        cleanup()
        secure!.off('error', fail)
        resolve(secure!)
      })
      secure.once('error', fail)
    }
    socket.on('data', onData)
    socket.once('error', fail)
    socket.once('close', onClose)
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** What doctor speaks before TLS on a port when --starttls is not given. */
export function defaultStartTls(port: number): StartTls | 'none' {
  return port === 5432 ? 'postgres' : port === 3306 ? 'mysql' : 'none'
}
