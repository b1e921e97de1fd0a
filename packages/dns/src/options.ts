import { createAddressMatcher, DEFAULT_ALLOWED_RANGES } from './address-ranges.js'
import { integerOption, invalidOption } from './errors.js'

/** IP version to resolve: 4, 6, or 0 for both. */
export type AddressFamily = 0 | 4 | 6

/** Options of `createResolver`: servers, deadlines, cache lifetimes and the private-address check. */
export interface ResolverOptions {
  /**
   * DNS servers as `host` or `host:port` (IPv6 as `[addr]:port`).
   * @default the system's servers (in a VPC: the Amazon-provided resolver at the VPC CIDR base + 2)
   */
  servers?: string[]
  /** Per-query timeout. @default 1000 */
  timeoutMs?: number
  /**
   * Attempts per query. A lookup answers or fails within `timeoutMs` x `tries` (2000 ms by
   * default), whatever c-ares' own backoff would take. @default 2
   */
  tries?: number
  /**
   * How long a query that timed out is remembered as failing: lookups meanwhile fail (or serve
   * stale) at once instead of waiting out the deadline again. 0 turns it off. @default 5000
   */
  timeoutTtlMs?: number
  /**
   * Family 0: once one family has addresses, how long to wait for the other (RFC 8305 section
   * 3 recommends 50 ms). @default 50
   */
  resolutionDelayMs?: number
  /** Answers with a shorter TTL are kept this long. @default 1000 */
  minTtlMs?: number
  /** Answers are never kept longer than this. @default 300000 */
  maxTtlMs?: number
  /** How long after expiry an answer may still be served when the server fails (RFC 8767). @default 3600000 */
  staleTtlMs?: number
  /** How long NXDOMAIN and "no records" answers are kept. @default 10000 */
  negativeTtlMs?: number
  /** Most names kept; least recently used go first. @default 1000 */
  maxEntries?: number
  /** Refuse answers outside `allowedRanges`. @default true */
  privateOnly?: boolean
  /** CIDRs a private answer may fall in. @default RFC 1918, 100.64.0.0/10, fc00::/7 */
  allowedRanges?: string[]
  /** Address family to resolve when a call does not say. @default 0 (both) */
  family?: AddressFamily
  /** Milliseconds since the epoch; injected in tests. @default Date.now */
  clock?: () => number
}

export interface ResolvedResolverOptions {
  servers: string[] | undefined
  timeoutMs: number
  tries: number
  timeoutTtlMs: number
  resolutionDelayMs: number
  minTtlMs: number
  maxTtlMs: number
  staleTtlMs: number
  negativeTtlMs: number
  maxEntries: number
  privateOnly: boolean
  allowedRanges: string[]
  /** `allowedRanges` was given: refusals say "outside the allowed ranges", not "not private". */
  customRanges: boolean
  family: AddressFamily
  clock: () => number
}

export function resolveOptions(options: ResolverOptions = {}): ResolvedResolverOptions {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object', options)
  const { servers, privateOnly, allowedRanges, family, clock } = options
  if (
    servers !== undefined &&
    (!Array.isArray(servers) || servers.some((s) => typeof s !== 'string' || s === ''))
  ) {
    throw invalidOption('servers', 'an array of "host" or "host:port" strings', servers)
  }
  if (privateOnly !== undefined && typeof privateOnly !== 'boolean') {
    throw invalidOption('privateOnly', 'a boolean', privateOnly)
  }
  if (allowedRanges !== undefined && !Array.isArray(allowedRanges)) {
    throw invalidOption('allowedRanges', 'an array of CIDR strings', allowedRanges)
  }
  // Parsed now so a typo throws at construction, naming the value (see cidr.ts).
  if (allowedRanges !== undefined) createAddressMatcher([...allowedRanges])
  if (family !== undefined && family !== 0 && family !== 4 && family !== 6) {
    throw invalidOption('family', '0, 4 or 6', family)
  }
  if (clock !== undefined && typeof clock !== 'function')
    throw invalidOption('clock', 'a function returning milliseconds', clock)
  const minTtlMs = integerOption('minTtlMs', options.minTtlMs, 1_000, 0)
  const maxTtlMs = integerOption('maxTtlMs', options.maxTtlMs, 300_000, 0)
  if (maxTtlMs < minTtlMs)
    throw invalidOption('maxTtlMs', `an integer >= minTtlMs (${minTtlMs})`, maxTtlMs)
  return {
    servers,
    timeoutMs: integerOption('timeoutMs', options.timeoutMs, 1_000, 1),
    tries: integerOption('tries', options.tries, 2, 1),
    timeoutTtlMs: integerOption('timeoutTtlMs', options.timeoutTtlMs, 5_000, 0),
    resolutionDelayMs: integerOption('resolutionDelayMs', options.resolutionDelayMs, 50, 0),
    minTtlMs,
    maxTtlMs,
    staleTtlMs: integerOption('staleTtlMs', options.staleTtlMs, 3_600_000, 0),
    negativeTtlMs: integerOption('negativeTtlMs', options.negativeTtlMs, 10_000, 0),
    maxEntries: integerOption('maxEntries', options.maxEntries, 1_000, 1),
    privateOnly: privateOnly ?? true,
    allowedRanges: allowedRanges ?? [...DEFAULT_ALLOWED_RANGES],
    customRanges: allowedRanges !== undefined,
    family: family ?? 0,
    clock: clock ?? Date.now,
  }
}
