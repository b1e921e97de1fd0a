const MIN_DELAY_MS = 10
const MAX_DELAY_MS = 250

/**
 * How long a zone gets before the next one is started: 3x its smoothed TCP connect time, 10 to
 * 250 ms, and 250 ms (Node's autoSelectFamily default) until something is measured. Inside one
 * region a connect takes a millisecond or two, so a blackholed zone costs tens of milliseconds.
 */
export function attemptDelay(connectMs: number | undefined): number {
  if (connectMs === undefined) return MAX_DELAY_MS
  return Math.min(MAX_DELAY_MS, Math.max(MIN_DELAY_MS, Math.ceil(connectMs * 3)))
}
