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
  rawHeaders: readonly (Buffer | string)[],
  now: number,
): number | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    if (name.length !== 11 || name.toString().toLowerCase() !== 'retry-after') continue
    const value = rawHeaders[i + 1]!.toString().trim()
    if (/^\d+$/.test(value)) return Number(value) * 1_000
    const date = Date.parse(value)
    return Number.isNaN(date) ? undefined : Math.max(0, date - now)
  }
  return undefined
}
