import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { PrivateLinkError } from '@privatelink/dns'

/**
 * Runs a caller's protocol upgrade on a TCP winner. It settles when `signal` aborts even if the
 * upgrade does not: the socket is destroyed and the abort's reason is the rejection, so a hedge
 * that won or a zone ejected never waits on an upgrade that ignores its signal. A socket the
 * upgrade resolves with after that is destroyed.
 */
export function runUpgrade<C extends { signal: AbortSignal }>(
  upgrade: (socket: Socket, context: C) => Promise<Socket | TLSSocket>,
  socket: Socket,
  context: C,
): Promise<Socket | TLSSocket> {
  const { signal } = context
  if (signal.aborted) {
    socket.destroy()
    return Promise.reject(signal.reason)
  }
  return new Promise((resolve, reject) => {
    // Registered before the upgrade runs, so it fires before the upgrade's own abort listener.
    const onAbort = () => {
      socket.destroy()
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    let running: Promise<Socket | TLSSocket>
    try {
      running = Promise.resolve(upgrade(socket, context))
    } catch (error) {
      running = Promise.reject(error)
    }
    running.then(
      (upgraded) => {
        signal.removeEventListener('abort', onAbort)
        if (signal.aborted) upgraded.destroy()
        else resolve(upgraded)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        socket.destroy()
        // Whatever the upgrade saw of an abort (a closed socket, say), the abort is the reason.
        reject(signal.aborted ? signal.reason : error)
      },
    )
  })
}

/**
 * Whether an upgrade's typed failure ends the connect: a typed error of the upgrade's own (pg's
 * ERR_PG_TLS_REFUSED: the service answered "no TLS") is configuration no other zone fixes, and so
 * are certificate name and trust errors (checked by the caller for every handshake). A failed
 * or timed-out handshake (ERR_TLS_HANDSHAKE, ERR_TLS_HANDSHAKE_TIMEOUT) and raw socket errors (ECONNRESET, ETIMEDOUT, EPIPE) are the
 * zone's: the connect moves on.
 */
export function isFatalUpgradeError(error: unknown): boolean {
  return PrivateLinkError.isInstance(error) && !ZONE_TLS_FAILURES.has(error.code)
}

// A handshake that failed or timed out over a connected socket: another zone may complete it.
const ZONE_TLS_FAILURES: ReadonlySet<string> = new Set([
  'ERR_TLS_HANDSHAKE',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
])
