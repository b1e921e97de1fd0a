import type { Socket } from 'node:net'
import { greetingTimeoutError, notMysqlError, tlsRefusedError } from './errors.js'

/** MySQL's CLIENT_SSL capability bit: the server can switch to TLS after an SSLRequest. */
export const CLIENT_SSL = 0x800

/** What the server's first packet says, as far as the stream needs it. */
export interface Greeting {
  /** The server's connection (thread) ID: mysql2's `threadId` for this connection. */
  connectionId: number | undefined
  /** The server's version string (RDS Proxy reports the engine's). */
  serverVersion: string
  /** Whether the server offers TLS. */
  tls: boolean
  /** The server answered with an ERR packet instead (too many connections, host blocked). */
  error: boolean
}

/** How long the greeting may take, whether TLS is required, and who asks. */
export interface GreetingOptions {
  servername: string
  requireTls: boolean
  timeoutMs: number
  signal: AbortSignal
}

/**
 * Parses the first packet (header + payload): protocol 10's version string, connection ID and
 * capability flags, or an ERR packet (0xff). Undefined until the packet is complete.
 */
export function parseGreeting(bytes: Buffer, servername: string): Greeting | undefined {
  if (bytes.length < 4) return undefined
  const length = bytes.readUIntLE(0, 3)
  if (bytes.length < 4 + length) return undefined
  const payload = bytes.subarray(4, 4 + length)
  if (payload[0] === 0xff)
    return { connectionId: undefined, serverVersion: '', tls: false, error: true }
  if (payload[0] !== 10) throw notMysqlError(servername, payload[0] ?? -1)
  const versionEnd = payload.indexOf(0, 1)
  if (versionEnd < 0 || payload.length < versionEnd + 1 + 4 + 8 + 1 + 2)
    throw notMysqlError(servername, 10)
  const at = versionEnd + 1
  const connectionId = payload.readUInt32LE(at)
  const capabilities = payload.readUInt16LE(at + 4 + 8 + 1)
  return {
    connectionId,
    serverVersion: payload.toString('latin1', 1, versionEnd),
    tls: (capabilities & CLIENT_SSL) !== 0,
    error: false,
  }
}

/**
 * The connector's `upgrade` step for MySQL: waits for the server's greeting (the server speaks
 * first), checks it offers TLS, then puts the bytes back on the socket for mysql2 to read. As an
 * upgrade, a zone that accepts TCP and never greets is hedged in another zone and counted against
 * its own, as a stalled TLS handshake is; no TLS offered ends the connect (no zone fixes that).
 */
export function awaitGreeting(
  socket: Socket,
  options: GreetingOptions,
): Promise<{ socket: Socket; greeting: Greeting }> {
  return new Promise((resolve, reject) => {
    let bytes: Buffer = Buffer.alloc(0)
    const done = (error: unknown, greeting?: Greeting) => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('error', onError)
      socket.off('close', onClose)
      options.signal.removeEventListener('abort', onAbort)
      if (greeting === undefined) {
        reject(error)
        return
      }
      socket.pause()
      socket.unshift(bytes)
      resolve({ socket, greeting })
    }
    const onData = (chunk: Buffer) => {
      bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk])
      let greeting: Greeting | undefined
      try {
        greeting = parseGreeting(bytes, options.servername)
      } catch (error) {
        done(error)
        return
      }
      if (greeting === undefined) return
      if (options.requireTls && !greeting.error && !greeting.tls)
        done(tlsRefusedError(options.servername, greeting.serverVersion))
      else done(undefined, greeting)
    }
    const onError = (error: Error) => done(error)
    const onClose = () =>
      done(
        Object.assign(new Error('connection closed before the MySQL greeting'), {
          code: 'ECONNRESET',
        }),
      )
    const onAbort = () => done(options.signal.reason)
    const timer = setTimeout(
      () => done(greetingTimeoutError(options.servername, options.timeoutMs)),
      options.timeoutMs,
    )
    socket.on('data', onData)
    socket.once('error', onError)
    socket.once('close', onClose)
    if (options.signal.aborted) onAbort()
    else options.signal.addEventListener('abort', onAbort, { once: true })
  })
}
