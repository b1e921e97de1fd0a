import type { promises as dnsPromises } from 'node:dns'
import type { AddressMatcher } from './address-ranges.js'
import { AnswerCache, type CacheEntry } from './answer-cache.js'
import { blockedChannel, refreshChannel, staleChannel } from './diagnostics.js'
import { notPrivateError, resolutionError } from './dns-errors.js'
import { PrivateLinkError } from './errors.js'
import type { ResolvedResolverOptions } from './options.js'
import type { FamilyResult } from './resolve-both.js'
import type { ResolutionSource, ResolverStats } from './resolver.js'

// Authoritative answers: a server that says "no such name" is not a failing server.
const AUTHORITATIVE = new Set(['ERR_DNS_NOT_FOUND', 'ERR_DNS_NOT_PRIVATE'])

/**
 * One record type at a time: the cache, the coalescing of concurrent queries, the remembered
 * timeouts and stale serving, which change together, kept apart from the resolver's wiring.
 */
export class FamilyResolver {
  readonly cache: AnswerCache
  readonly counters: Omit<ResolverStats, 'entries'> = {
    hits: 0,
    misses: 0,
    staleServes: 0,
    inflightMerges: 0,
    queriesSent: 0,
    blocked: 0,
  }
  readonly #inflight = new Map<string, Promise<CacheEntry>>()
  // Timeouts remembered briefly, apart from the answers: a stale answer must survive them.
  readonly #timeouts = new Map<string, { error: PrivateLinkError; until: number }>()
  // The documented budget: c-ares alone doubles its timeout per retry (1000 ms x 2 tries is 3 s).
  readonly #deadlineMs: number

  constructor(
    private readonly settings: Readonly<ResolvedResolverOptions>,
    private readonly cares: dnsPromises.Resolver,
    private readonly servers: string[],
    private readonly isAllowed: AddressMatcher,
  ) {
    this.cache = new AnswerCache(settings.maxEntries)
    this.#deadlineMs = settings.timeoutMs * settings.tries
  }

  /** The private-address guard: the refusal for `address`, or undefined when it may be used. */
  guard(hostname: string, address: string, family: 4 | 6): PrivateLinkError | undefined {
    const { settings } = this
    if (!settings.privateOnly || this.isAllowed(address, family)) return undefined
    this.counters.blocked++
    if (blockedChannel.hasSubscribers) blockedChannel.publish({ hostname, address })
    return notPrivateError(hostname, address, settings.allowedRanges, settings.customRanges)
  }

  /** One family's answer: fresh cache, stale when the server fails, else a query. */
  async resolveFamily(hostname: string, family: 4 | 6): Promise<FamilyResult> {
    const { clock, staleTtlMs } = this.settings
    const key = `${family}:${hostname}`
    const entries = this.cache.loaded ?? (await this.cache.open())
    const now = clock()
    const entry = entries.get(key)
    if (entry !== undefined && now < entry.expiresAt) {
      this.counters.hits++
      return fromEntry(entry, 'cache', now)
    }
    this.counters.misses++
    const staleUsable =
      entry !== undefined && entry.error === undefined && now < entry.expiresAt + staleTtlMs
    if (staleUsable && entry.servingStale === true) {
      // The server already failed us for this name: answer now, try it again in the background.
      this.#startQuery(key, hostname, family).then(
        () =>
          refreshChannel.hasSubscribers && refreshChannel.publish({ hostname, family, ok: true }),
        () =>
          refreshChannel.hasSubscribers && refreshChannel.publish({ hostname, family, ok: false }),
      )
      return this.#serveStale(hostname, family, entry, now, 'previous failure')
    }
    const timedOut = this.#timeouts.get(key)
    if (timedOut !== undefined) {
      if (now < timedOut.until) {
        // A server that just let this query time out would only make the caller wait again.
        if (staleUsable) return this.#serveStale(hostname, family, entry, now, timedOut.error.code)
        throw timedOut.error
      }
      this.#timeouts.delete(key)
    }
    try {
      return fromEntry(await this.#startQuery(key, hostname, family), 'network', clock())
    } catch (error) {
      const code = PrivateLinkError.isInstance(error) ? error.code : 'UNKNOWN'
      if (staleUsable && !AUTHORITATIVE.has(code))
        return this.#serveStale(hostname, family, entry, clock(), code)
      throw error
    }
  }

  #startQuery(key: string, hostname: string, family: 4 | 6): Promise<CacheEntry> {
    let pending = this.#inflight.get(key)
    if (pending !== undefined) {
      this.counters.inflightMerges++
      return pending
    }
    pending = this.#query(key, hostname, family).finally(() => this.#inflight.delete(key))
    this.#inflight.set(key, pending)
    return pending
  }

  async #query(key: string, hostname: string, family: 4 | 6): Promise<CacheEntry> {
    const { settings } = this
    const { clock } = settings
    this.counters.queriesSent++
    let records: { address: string; ttl: number }[]
    try {
      records = await withDeadline(
        family === 4
          ? this.cares.resolve4(hostname, { ttl: true })
          : this.cares.resolve6(hostname, { ttl: true }),
        this.#deadlineMs,
      )
    } catch (cause) {
      const error = resolutionError(hostname, this.servers, cause, this.#deadlineMs)
      const code = (cause as { code?: string }).code
      if (code === 'ETIMEOUT' && settings.timeoutTtlMs > 0)
        this.#timeouts.set(key, { error, until: clock() + settings.timeoutTtlMs })
      if (code === 'ENODATA' || code === 'ENOTFOUND') {
        // Negative caching: NXDOMAIN is cached as an error; NODATA as an empty answer, since
        // the other record type may still have addresses.
        const entry: CacheEntry = {
          addresses: [],
          expiresAt: clock() + settings.negativeTtlMs,
        }
        if (code === 'ENOTFOUND') entry.error = error
        ;(this.cache.loaded ?? (await this.cache.open())).set(key, entry)
        this.#timeouts.delete(key)
        return entry
      }
      throw error
    }
    this.#timeouts.delete(key)
    const entry = this.#toEntry(hostname, family, records)
    ;(this.cache.loaded ?? (await this.cache.open())).set(key, entry)
    return entry
  }

  /** The answer as a cache entry: TTL within bounds, every address through the guard. */
  #toEntry(hostname: string, family: 4 | 6, records: { address: string; ttl: number }[]) {
    const { settings } = this
    const { clock } = settings
    const now = clock()
    let ttlMs = settings.maxTtlMs
    // c-ares reports TTLs for the first 256 records only: the rest read as undefined (NaN).
    for (const record of records)
      if (Number.isFinite(record.ttl)) ttlMs = Math.min(ttlMs, record.ttl * 1000)
    ttlMs = Math.max(ttlMs, settings.minTtlMs)
    const entry: CacheEntry = { addresses: [], expiresAt: now + ttlMs }
    // The guard runs once per resolution; cached answers were already checked.
    for (const record of records) {
      const refused = this.guard(hostname, record.address, family)
      if (refused !== undefined) {
        entry.addresses = []
        entry.error = refused
        break
      }
      entry.addresses.push({ address: record.address, family, ttlMs })
    }
    return entry
  }

  #serveStale(hostname: string, family: 4 | 6, entry: CacheEntry, now: number, cause: string) {
    entry.servingStale = true
    this.counters.staleServes++
    if (staleChannel.hasSubscribers) {
      staleChannel.publish({ hostname, family, ageMs: now - entry.expiresAt, cause })
    }
    return fromEntry(entry, 'stale', now)
  }
}

function fromEntry(entry: CacheEntry, source: ResolutionSource, now: number): FamilyResult {
  if (entry.error !== undefined) throw entry.error
  const ttlMs = Math.max(0, entry.expiresAt - now)
  return {
    addresses: entry.addresses.map((a) => ({ address: a.address, family: a.family, ttlMs })),
    expiresAt: entry.expiresAt,
    source,
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEOUT' })),
      ms,
    )
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
