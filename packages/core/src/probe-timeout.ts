const MIN_PROBE_MS = 300
const MAX_PROBE_MS = 1_000

/**
 * How long a health check waits for a zone: 10x its smoothed TCP connect plus handshake time,
 * 300 to 1000 ms, and 1000 ms until something is measured. Inside a region a check takes a few
 * milliseconds, so a silent zone is known in a few hundred rather than a full second; the 300 ms
 * floor leaves room for a GC pause or a busy loop (and a check that timed out on a busy loop is
 * inconclusive, never a failure). `healthCheck.timeoutMs` fixes it.
 */
export function probeTimeout(
  connectMs: number | undefined,
  handshakeMs: number | undefined,
): number {
  if (connectMs === undefined) return MAX_PROBE_MS
  const expected = connectMs + (handshakeMs ?? 0)
  return Math.min(MAX_PROBE_MS, Math.max(MIN_PROBE_MS, Math.ceil(expected * 10)))
}
