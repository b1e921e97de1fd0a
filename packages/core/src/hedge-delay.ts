const MIN_HEDGE_MS = 100
const MAX_HEDGE_MS = 1_000

/**
 * How long a TLS handshake may run before a second attempt starts in another zone: 4x the zone's
 * smoothed handshake time, 100 to 1000 ms, and 1000 ms until something is measured.
 *
 * 4x rather than the TCP race's 3x: a handshake spends CPU on both ends (key exchange, signature,
 * certificate checks), so it varies more than a SYN round trip, and a hedge costs the service a
 * whole handshake. The 100 ms floor: an in-region handshake takes a few milliseconds, but a GC
 * pause or a busy event loop adds tens, which must not start hedges. The 1000 ms ceiling: a zone
 * that accepts TCP but no longer answers then costs a new connection about a second, not the
 * ~4 s health checks need to eject it nor the 10 s handshake deadline; it is also the health
 * check's own timeout, past which a handshake counts as failed anyway. Unmeasured, the ceiling:
 * a process's first handshakes are slow (cold code, a CA bundle parsed) and a cross-region target
 * takes a few round trips of 50-100 ms.
 */
export function hedgeDelay(handshakeMs: number | undefined): number {
  if (handshakeMs === undefined) return MAX_HEDGE_MS
  return Math.min(MAX_HEDGE_MS, Math.max(MIN_HEDGE_MS, Math.ceil(handshakeMs * 4)))
}

/** A point to measure the event loop's busy share from (`performance.eventLoopUtilization()`). */
export type LoopMark = ReturnType<typeof performance.eventLoopUtilization>

/**
 * The event loop was busy for at least 90% of the time since `mark`: this host is CPU-bound (a
 * burst of handshakes), so a handshake's slowness is ours, and a hedge would add one more. A zone
 * that accepts TCP but no longer answers leaves the loop idle while we wait (a few % measured).
 */
export function loopBusySince(mark: LoopMark): boolean {
  return performance.eventLoopUtilization(mark).utilization >= 0.9
}
