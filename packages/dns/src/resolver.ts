import { promises as dnsPromises } from 'node:dns'
import { isIP } from 'node:net'
import { createAddressMatcher } from './address-ranges.js'
import { checkOptions } from './checked-options.js'
import { resolveChannel } from './diagnostics.js'
import { resolutionError } from './dns-errors.js'
import { invalidOption } from './errors.js'
import { FamilyResolver } from './family-resolver.js'
import { createLookup, type LookupFunction } from './lookup.js'
import { normaliseHostname } from './normalise-hostname.js'
import {
  type AddressFamily,
  type ResolvedResolverOptions,
  type ResolverOptions,
  resolveOptions,
} from './options.js'
import { resolveBoth } from './resolve-both.js'

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

/**
 * A resolver for VPC endpoint names: queries the servers through c-ares with a hard deadline,
 * caches within TTL bounds, coalesces concurrent queries, serves stale answers when the server
 * fails and, with `privateOnly`, refuses any answer outside the allowed ranges.
 */
export function createResolver(options: ResolverOptions = {}): Resolver {
  const settings = Object.freeze(checkOptions('options', options, () => resolveOptions(options)))
  const cares = caresResolver(settings)
  const servers = cares.getServers()
  const families = new FamilyResolver(
    settings,
    cares,
    servers,
    createAddressMatcher(settings.allowedRanges),
  )
  const resolveFamily = (hostname: string, family: 4 | 6) =>
    families.resolveFamily(hostname, family)

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
    if (literal !== 0) return literalResolution(families, hostname, literal as 4 | 6)
    const resolution =
      family === 0
        ? await resolveBoth(resolveFamily, hostname, settings.resolutionDelayMs)
        : await resolveFamily(hostname, family)
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

  const resolver: Resolver = {
    resolve,
    lookup: createLookup(resolve),
    stats: () => ({ ...families.counters, entries: families.cache.size }),
    clear: () => families.cache.clear(),
  }
  return resolver
}

/** The c-ares resolver for the configured servers; a server list it cannot parse names `servers`. */
function caresResolver(settings: Readonly<ResolvedResolverOptions>): dnsPromises.Resolver {
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
  return cares
}

/** An IP literal answers itself, once the guard lets it through. */
function literalResolution(families: FamilyResolver, hostname: string, family: 4 | 6): Resolution {
  const refused = families.guard(hostname, hostname, family)
  if (refused !== undefined) throw refused
  return {
    addresses: [{ address: hostname, family, ttlMs: Number.POSITIVE_INFINITY }],
    expiresAt: Number.POSITIVE_INFINITY,
    source: 'literal',
  }
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
