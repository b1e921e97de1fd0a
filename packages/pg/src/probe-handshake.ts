import type { Socket } from 'node:net'
import { type TLSSocket, connect as tlsConnect } from 'node:tls'
import type { StreamTls } from './endpoint-stream.js'

/** PostgreSQL's SSLRequest: length 8, code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 4, 210, 22, 47])

/**
 * The connector's health check for a PostgreSQL port: SSLRequest, 'S', then a TLS handshake with
 * the proxy's name. TCP alone passes through a proxy that accepts and never answers (a hung
 * target behind the NLB); this does not. Nothing is sent after the handshake.
 */
export function probeHandshake(
  socket: Socket | TLSSocket,
  tls: StreamTls,
  signal: AbortSignal,
): Promise<void> {
  if (tls.insecure === 'plaintext') return Promise.resolve()
  return new Promise<void>((resolve, reject) => {
    let secure: TLSSocket | undefined
    const done = (error?: unknown) => {
      signal.removeEventListener('abort', onAbort)
      socket.off('data', onAnswer)
      socket.off('error', done)
      secure?.destroy()
      if (error === undefined) resolve()
      else reject(error)
    }
    const onAbort = () => done(signal.reason)
    const onAnswer = (answer: Buffer) => {
      socket.off('data', onAnswer)
      if (answer[0] !== 0x53) {
        done(Object.assign(new Error('the proxy refused TLS'), { code: 'EPROTO' }))
        return
      }
      secure = tlsConnect({
        socket: socket as Socket,
        servername: tls.servername,
        ...(tls.ca === undefined ? {} : { ca: tls.ca }),
        rejectUnauthorized: tls.insecure !== true,
      })
      secure.once('secureConnect', () => done())
      secure.once('error', done)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    socket.on('data', onAnswer)
    socket.once('error', done)
    socket.write(SSL_REQUEST)
  })
}
