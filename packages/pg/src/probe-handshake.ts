import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { StreamTls } from './endpoint-stream.js'
import { sslRequestTls } from './ssl-request-tls.js'

/**
 * The connector's health check for a PostgreSQL port: SSLRequest, 'S', then a TLS handshake with
 * the proxy's name (the stream's own `sslRequestTls`, shared CA context included). TCP alone
 * passes through a proxy that accepts and never answers (a hung target behind the NLB); this does
 * not. Nothing is sent after the handshake. The health check's deadline comes as `signal`.
 */
export async function probeHandshake(
  socket: Socket | TLSSocket,
  tls: StreamTls,
  signal: AbortSignal,
): Promise<void> {
  if (tls.insecure === 'plaintext') return
  const secure = await sslRequestTls(
    socket as Socket,
    { servername: tls.servername, ca: tls.ca, insecure: tls.insecure, caSource: tls.caSource },
    { signal },
  )
  secure.destroy()
}
