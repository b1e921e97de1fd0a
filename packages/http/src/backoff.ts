import type { RetryPolicy } from './retry-policy.js'

/**
 * Full jitter (AWS's "Exponential Backoff And Jitter"): retry n waits a random time up to
 * minDelayMs * 2^(n-1), capped at maxDelayMs, so clients that failed together do not come back
 * together.
 */
export function backoffMs(policy: RetryPolicy, retry: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** (retry - 1))
  return Math.floor(policy.random() * ceiling)
}

/** Retry-After in ms (delay-seconds or an HTTP-date), or undefined when absent or unreadable. */
export function retryAfterMs(
  header: string | string[] | undefined,
  now: number,
): number | undefined {
  const first = Array.isArray(header) ? header[0] : header
  if (first === undefined) return undefined
  const value = first.trim()
  if (/^\d+$/.test(value)) return Number(value) * 1_000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
