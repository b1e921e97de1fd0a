import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { HealthCheckOptions } from '@privatelink/core'
import type { StreamTls } from './endpoint-stream.js'
import { rdsCaBundle } from './rds-ca-bundle.js'
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
  // The RDS bundle is loaded by the first stream that connects; a check may come first.
  const ca = tls.caSource === 'rds' && tls.ca === undefined ? await rdsCaBundle() : tls.ca
  const secure = await sslRequestTls(
    socket as Socket,
    { servername: tls.servername, ca, insecure: tls.insecure, caSource: tls.caSource },
    { signal },
  )
  secure.destroy()
}

type CheckHandshake = NonNullable<HealthCheckOptions['handshake']>

/** One check function per proxy set (see `checkHandshake`); a process has a handful. */
const handshakes = new Map<string, CheckHandshake>()

/**
 * The health check's handshake for targets whose proxies are `tls` (by target index; `tlsOf`
 * reads them when a check runs, as the 'rds' bundle and failover plans come later). Core shares
 * one zone health per endpoint among connectors whose health-defining options match, the check
 * function included by identity: every pool and client of the same proxies gets the same
 * function, so a pg pool, a LISTEN client and an ORM's pool of one endpoint share one zone table
 * and one set of checks (a zone one ejects, the others avoid from their next connect).
 */
export function checkHandshake(
  tls: readonly StreamTls[],
  tlsOf: (target: number) => StreamTls,
): CheckHandshake {
  const key = JSON.stringify(
    tls.map(({ servername, insecure, caSource, ca }) => [servername, insecure, caSource, ca]),
  )
  let handshake = handshakes.get(key)
  if (handshake === undefined) {
    handshake = (socket, check) => probeHandshake(socket, tlsOf(check.target.index), check.signal)
    handshakes.set(key, handshake)
  }
  return handshake
}
