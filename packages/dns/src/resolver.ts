import { promises as dnsPromises } from 'node:dns'
import { isIP } from 'node:net'
import type { LRUCache } from 'lru-cache'
import { createAddressMatcher } from './address-ranges.js'
import { checkOptions } from './checked-options.js'
import { blockedChannel, refreshChannel, resolveChannel, staleChannel } from './diagnostics.js'
import { invalidHostname, notPrivateError, resolutionError } from './dns-errors.js'
import { invalidOption, PrivateLinkError } from './errors.js'
import { createLookup, type LookupFunction } from './lookup.js'
import { type AddressFamily, type ResolverOptions, resolveOptions } from './options.js'
import { redactUrlCredentials } from './redact-url.js'

/** One address of a resolution. */
export interface ResolvedAddress {
  /** IP literal; inside `allowedRanges` unless `privateOnly` is false. */
  address: string
  /** IP version of `address`. */
  family: 4 | 6
  /** Time left before this answer expires. */
  ttlMs: number
}

/**
 * Where an answer came from: a DNS query just now, a fresh cache entry, an expired entry served
 * because the server failed (RFC 8767), or no query at all: the hostname is an IP literal, or
 * `localhost` (loopback, RFC 6761).
 */
export type ResolutionSource = 'network' | 'cache' | 'stale' | 'literal'

/** The answer of `Resolver.resolve`. */
export interface Resolution {
  /** At least one address; IPv4 before IPv6 when both families were resolved. */
  addresses: ResolvedAddress[]
  /** Clock time when the answer expires; Infinity for IP literals and `localhost`. */
  expiresAt: number
  /** Where the answer came from; `stale` when any family was served past its TTL. */
  source: ResolutionSource
}

/** Counters since the resolver was created, for metrics and tests. */
export interface ResolverStats {
  /** Record-type lookups answered from a fresh cache entry. */
  hits: number
  /** Record-type lookups that had no fresh entry. */
  misses: number
  /** Answers served past their TTL because the server failed. */
  staleServes: number
  /** Lookups that joined a query already in flight. */
  inflightMerges: number
  /** Queries sent to the DNS server (one per name and record type). */
  queriesSent: number
  /** Resolutions refused by the private-address guard. */
  blocked: number
  /** Entries in the cache now. */
  entries: number
}

/** A caching DNS resolver that, by default, only answers private addresses; see `createResolver`. */
export interface Resolver {
  /**
   * Resolves `hostname` (an IP literal is only checked by the guard; `localhost` is loopback,
   * without a query). Rejects with a PrivateLinkError: ERR_DNS_NOT_PRIVATE, ERR_DNS_NOT_FOUND,
   * ERR_DNS_TIMEOUT, ERR_DNS_SERVFAIL, ERR_DNS_FAILED or ERR_DNS_INVALID_NAME, each also carrying
   * dns.lookup's `errno`, `syscall` and `hostname`; ERR_INVALID_OPTION for a family other than
   * 0, 4 or 6.
   */
  resolve(hostname: string, options?: { family?: AddressFamily }): Promise<Resolution>
  /**
   * Drop-in for `dns.lookup`; bound, so it can be passed as `lookup` to net, tls, undici and
   * ioredis. A bad family or option, or no callback, throws ERR_INVALID_OPTION at the call, where
   * dns.lookup throws; the differences left are listed in the README.
   */
  readonly lookup: LookupFunction
  /** A snapshot of the counters. */
  stats(): ResolverStats
  /** Empties the answer cache (stale entries included); the next lookups query the server. */
  clear(): void
}

interface Entry {
  addresses: ResolvedAddress[]
  expiresAt: number
  /** A cached refusal (NXDOMAIN, or an answer the guard blocked). */
  error?: PrivateLinkError
  /** The server failed after expiry: serve this entry at once and refresh in the background. */
  servingStale?: boolean
}

interface FamilyResult {
  addresses: ResolvedAddress[]
  expiresAt: number
  source: ResolutionSource
}

// Authoritative answers: a server that says "no such name" is not a failing server.
const AUTHORITATIVE = new Set(['ERR_DNS_NOT_FOUND', 'ERR_DNS_NOT_PRIVATE'])

/**
 * A resolver for VPC endpoint names: queries the servers through c-ares with a hard deadline,
 * caches within TTL bounds, coalesces concurrent queries, serves stale answers when the server
 * fails and, with `privateOnly`, refuses any answer outside the allowed ranges.
 */
export function createResolver(options: ResolverOptions = {}): Resolver {
  const settings = checkOptions('options', options, () => resolveOptions(options))
  const { clock } = settings
  const isAllowed = createAddressMatcher(settings.allowedRanges)
  const cares = new dnsPromises.Resolver({ timeout: settings.timeoutMs, tries: settings.tries })
  if (settings.servers !== undefined) {
    try {
      cares.setServers(settings.servers)
    } catch (_error) {
      throw invalidOption(
        'servers',
        'an array of "host" or "host:port" strings',
        settings.servers.join(','),
      )
    }
  }
  const servers = cares.getServers()
  // lru-cache loads with the first resolution, not at import: ~5 ms of every cold start, and a
  // dispatcher whose zones have addresses never resolves a name.
  let cache: LRUCache<string, Entry> | undefined
  let opening: Promise<LRUCache<string, Entry>> | undefined
  const openCache = () =>
    (opening ??= import('lru-cache').then(({ LRUCache: Lru }) => {
      cache = new Lru<string, Entry>({ max: settings.maxEntries })
      return cache
    }))
  const inflight = new Map<string, Promise<Entry>>()
  // Timeouts remembered briefly, apart from the answers: a stale answer must survive them.
  const timeouts = new Map<string, { error: PrivateLinkError; until: number }>()
  // The documented budget: c-ares alone doubles its timeout per retry (1000 ms x 2 tries is 3 s).
  const deadlineMs = settings.timeoutMs * settings.tries
  const customRanges = settings.customRanges
  const counters = {
    hits: 0,
    misses: 0,
    staleServes: 0,
    inflightMerges: 0,
    queriesSent: 0,
    blocked: 0,
  }

  const guard = (
    hostname: string,
    address: string,
    family: 4 | 6,
  ): PrivateLinkError | undefined => {
    if (!settings.privateOnly || isAllowed(address, family)) return undefined
    counters.blocked++
    if (blockedChannel.hasSubscribers) blockedChannel.publish({ hostname, address })
    return notPrivateError(hostname, address, settings.allowedRanges, customRanges)
  }

  async function query(hostname: string, family: 4 | 6): Promise<Entry> {
    counters.queriesSent++
    const key = `${family}:${hostname}`
    let records: { address: string; ttl: number }[]
    try {
      records = await withDeadline(
        family === 4
          ? cares.resolve4(hostname, { ttl: true })
          : cares.resolve6(hostname, { ttl: true }),
        deadlineMs,
      )
    } catch (cause) {
      const error = resolutionError(hostname, servers, cause, deadlineMs)
      const code = (cause as { code?: string }).code
      if (code === 'ETIMEOUT' && settings.timeoutTtlMs > 0)
        timeouts.set(key, { error, until: clock() + settings.timeoutTtlMs })
      if (code === 'ENODATA' || code === 'ENOTFOUND') {
        // Negative caching: NXDOMAIN is cached as an error; NODATA as an empty answer, since
        // the other record type may still have addresses.
        const entry: Entry = { addresses: [], expiresAt: clock() + settings.negativeTtlMs }
        if (code === 'ENOTFOUND') entry.error = error
        ;(cache ?? (await openCache())).set(key, entry)
        timeouts.delete(key)
        return entry
      }
      throw error
    }
    timeouts.delete(key)
    const now = clock()
    let ttlMs = settings.maxTtlMs
    // c-ares reports TTLs for the first 256 records only: the rest read as undefined (NaN).
    for (const record of records)
      if (Number.isFinite(record.ttl)) ttlMs = Math.min(ttlMs, record.ttl * 1000)
    ttlMs = Math.max(ttlMs, settings.minTtlMs)
    const entry: Entry = { addresses: [], expiresAt: now + ttlMs }
    // The guard runs once per resolution; cached answers were already checked.
    for (const record of records) {
      const refused = guard(hostname, record.address, family)
      if (refused !== undefined) {
        entry.addresses = []
        entry.error = refused
        break
      }
      entry.addresses.push({ address: record.address, family, ttlMs })
    }
    ;(cache ?? (await openCache())).set(key, entry)
    return entry
  }

  function startQuery(key: string, hostname: string, family: 4 | 6): Promise<Entry> {
    let pending = inflight.get(key)
    if (pending !== undefined) {
      counters.inflightMerges++
      return pending
    }
    pending = query(hostname, family).finally(() => inflight.delete(key))
    inflight.set(key, pending)
    return pending
  }

  const fromEntry = (entry: Entry, source: ResolutionSource, now: number): FamilyResult => {
    if (entry.error !== undefined) throw entry.error
    const ttlMs = Math.max(0, entry.expiresAt - now)
    return {
      addresses: entry.addresses.map((a) => ({ address: a.address, family: a.family, ttlMs })),
      expiresAt: entry.expiresAt,
      source,
    }
  }

  const serveStale = (
    hostname: string,
    family: 4 | 6,
    entry: Entry,
    now: number,
    cause: string,
  ) => {
    entry.servingStale = true
    counters.staleServes++
    if (staleChannel.hasSubscribers) {
      staleChannel.publish({ hostname, family, ageMs: now - entry.expiresAt, cause })
    }
    return fromEntry(entry, 'stale', now)
  }

  async function resolveFamily(hostname: string, family: 4 | 6): Promise<FamilyResult> {
    const key = `${family}:${hostname}`
    const entries = cache ?? (await openCache())
    const now = clock()
    const entry = entries.get(key)
    if (entry !== undefined && now < entry.expiresAt) {
      counters.hits++
      return fromEntry(entry, 'cache', now)
    }
    counters.misses++
    const staleUsable =
      entry !== undefined &&
      entry.error === undefined &&
      now < entry.expiresAt + settings.staleTtlMs
    if (staleUsable && entry.servingStale === true) {
      // The server already failed us for this name: answer now, try it again in the background.
      startQuery(key, hostname, family).then(
        () =>
          refreshChannel.hasSubscribers && refreshChannel.publish({ hostname, family, ok: true }),
        () =>
          refreshChannel.hasSubscribers && refreshChannel.publish({ hostname, family, ok: false }),
      )
      return serveStale(hostname, family, entry, now, 'previous failure')
    }
    const timedOut = timeouts.get(key)
    if (timedOut !== undefined) {
      if (now < timedOut.until) {
        // A server that just let this query time out would only make the caller wait again.
        if (staleUsable) return serveStale(hostname, family, entry, now, timedOut.error.code)
        throw timedOut.error
      }
      timeouts.delete(key)
    }
    try {
      return fromEntry(await startQuery(key, hostname, family), 'network', clock())
    } catch (error) {
      const code = PrivateLinkError.isInstance(error) ? error.code : 'UNKNOWN'
      if (staleUsable && !AUTHORITATIVE.has(code))
        return serveStale(hostname, family, entry, clock(), code)
      throw error
    }
  }

  async function resolve(
    name: string,
    callOptions: { family?: AddressFamily } = {},
  ): Promise<Resolution> {
    const started = performance.now() // real elapsed time; the clock drives TTLs only
    const family = callFamily(callOptions) ?? settings.family
    const hostname = normaliseHostname(name)
    // RFC 6761: localhost is loopback, answered without a query, as dns.lookup answers it from
    // /etc/hosts. Loopback never leaves the host, so the guard has nothing to keep in.
    if (hostname === 'localhost') return localhost(family)
    const literal = isIP(hostname)
    if (literal !== 0) {
      const family = literal as 4 | 6
      const refused = guard(hostname, hostname, family)
      if (refused !== undefined) throw refused
      return {
        addresses: [{ address: hostname, family, ttlMs: Number.POSITIVE_INFINITY }],
        expiresAt: Number.POSITIVE_INFINITY,
        source: 'literal',
      }
    }
    const resolution =
      family === 0 ? await resolveBoth(hostname) : await resolveFamily(hostname, family)
    if (resolution.addresses.length === 0) {
      throw resolutionError(
        hostname,
        servers,
        Object.assign(new Error('no records'), { code: 'ENODATA' }),
      )
    }
    if (resolveChannel.hasSubscribers) {
      resolveChannel.publish({
        hostname,
        family,
        source: resolution.source,
        addressCount: resolution.addresses.length,
        durationMs: performance.now() - started,
      })
    }
    return resolution
  }

  /**
   * Both families, Happy Eyeballs style (RFC 8305 section 3): once one family has addresses, the
   * other gets `resolutionDelayMs` more, then the lookup answers with what it has. A family the
   * guard refused is dropped when the other has allowed addresses (a dual-stack endpoint whose
   * IPv6 addresses are outside the ranges still works over IPv4).
   */
  async function resolveBoth(hostname: string): Promise<FamilyResult> {
    type Settled = { ok: true; value: FamilyResult } | { ok: false; error: unknown }
    const settled: (Settled | undefined)[] = [undefined, undefined]
    await new Promise<void>((done) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const check = () => {
        if (settled[0] !== undefined && settled[1] !== undefined) {
          clearTimeout(timer)
          done()
        } else if (
          timer === undefined &&
          settled.some((s) => s?.ok === true && s.value.addresses.length > 0)
        ) {
          timer = setTimeout(done, settings.resolutionDelayMs)
        }
      }
      ;([4, 6] as const).forEach((family, index) => {
        resolveFamily(hostname, family).then(
          (value) => {
            settled[index] = { ok: true, value }
            check()
          },
          (error: unknown) => {
            settled[index] = { ok: false, error }
            check()
          },
        )
      })
    })
    const results = settled.flatMap((s) => (s?.ok === true ? [s.value] : []))
    const failures = settled.flatMap((s) => (s?.ok === false ? [s.error] : []))
    const addresses = results.flatMap((r) => r.addresses)
    if (addresses.length === 0 && failures.length > 0) {
      const codeOf = (e: unknown) => (PrivateLinkError.isInstance(e) ? e.code : 'UNKNOWN')
      // The guard's refusal first; then anything that explains more than "not found".
      throw (
        failures.find((e) => codeOf(e) === 'ERR_DNS_NOT_PRIVATE') ??
        failures.find((e) => codeOf(e) !== 'ERR_DNS_NOT_FOUND') ??
        failures[0]
      )
    }
    const withAddresses = results.filter((r) => r.addresses.length > 0)
    const sources = new Set(results.map((r) => r.source))
    return {
      addresses,
      expiresAt: Math.min(
        ...(withAddresses.length > 0 ? withAddresses : results).map((r) => r.expiresAt),
      ),
      source: sources.has('stale') ? 'stale' : sources.has('network') ? 'network' : 'cache',
    }
  }

  const resolver: Resolver = {
    resolve,
    lookup: createLookup(resolve),
    stats: () => ({ ...counters, entries: cache?.size ?? 0 }),
    clear: () => cache?.clear(),
  }
  return resolver
}

/** The family a resolve() call asks for, checked: 0, 4 or 6 (or none: the resolver's). */
function callFamily(callOptions: unknown): AddressFamily | undefined {
  if (callOptions === undefined) return undefined
  return checkOptions('options', callOptions, () => {
    if (typeof callOptions !== 'object' || callOptions === null)
      throw invalidOption('options', 'an object such as { family: 4 }', callOptions)
    const family = (callOptions as { family?: unknown }).family
    if (family !== undefined && family !== 0 && family !== 4 && family !== 6)
      throw invalidOption('family', '0, 4 or 6', family)
    return family
  })
}

function localhost(family: AddressFamily): Resolution {
  const ttlMs = Number.POSITIVE_INFINITY
  const addresses: ResolvedAddress[] = []
  if (family !== 6) addresses.push({ address: '127.0.0.1', family: 4, ttlMs })
  if (family !== 4) addresses.push({ address: '::1', family: 6, ttlMs })
  return { addresses, expiresAt: ttlMs, source: 'literal' }
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

// Letters, digits, '-' and '_' (service labels), 1-63 per label, 253 in all. Anything else (a
// backslash, a space, an empty label) would be read by c-ares as another name, or refused late.
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/

function normaliseHostname(name: unknown): string {
  if (typeof name !== 'string') throw invalidHostname(name, 'it is not a string')
  const lower = name.toLowerCase()
  const bracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower
  if (isIP(bracketed) !== 0) {
    if (bracketed.includes('%')) throw invalidHostname(name, 'zone indexes are not supported')
    return bracketed
  }
  const trimmed = lower.endsWith('.') ? lower.slice(0, -1) : lower
  if (trimmed === '') throw invalidHostname(name, 'it is empty')
  if (trimmed.length > 253) throw invalidHostname(name, 'it is longer than 253 characters')
  const bad = trimmed.split('.').find((label) => !LABEL.test(label))
  if (bad !== undefined) {
    throw invalidHostname(
      name,
      bad === ''
        ? 'it has an empty label'
        : // A label of a URL's userinfo would show part of its password.
          redactUrlCredentials(trimmed) !== trimmed
          ? 'it holds credentials (user:password@ or ?key=value), not only a host name'
          : `the label ${JSON.stringify(bad.slice(0, 70))} is not letters, digits, '-' and '_' (1-63)`,
    )
  }
  return trimmed
}
