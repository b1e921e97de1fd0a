import type { LRUCache } from 'lru-cache'
import type { PrivateLinkError } from './errors.js'
import type { ResolvedAddress } from './resolver.js'

/** One cached answer, keyed by record type and name (`4:host`, `6:host`). */
export interface CacheEntry {
  /** Addresses the guard allowed; empty for a refusal or a NODATA answer. */
  addresses: ResolvedAddress[]
  /** Clock time when the entry stops being fresh. */
  expiresAt: number
  /** A cached refusal (NXDOMAIN, or an answer the guard blocked). */
  error?: PrivateLinkError
  /** The server failed after expiry: serve this entry at once and refresh in the background. */
  servingStale?: boolean
}

/**
 * The resolver's answer cache. lru-cache loads with the first resolution, not at import: ~5 ms of
 * every cold start, and a dispatcher whose zones have addresses never resolves a name.
 */
export class AnswerCache {
  /** The cache once loaded; callers use it directly so a warm lookup does not yield a tick. */
  loaded: LRUCache<string, CacheEntry> | undefined
  #opening: Promise<LRUCache<string, CacheEntry>> | undefined
  readonly #maxEntries: number

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries
  }

  /** Loads lru-cache once; concurrent first calls share the one import. */
  open(): Promise<LRUCache<string, CacheEntry>> {
    this.#opening ??= import('lru-cache').then(({ LRUCache: Lru }) => {
      this.loaded = new Lru<string, CacheEntry>({ max: this.#maxEntries })
      return this.loaded
    })
    return this.#opening
  }

  /** Entries now; 0 before the first resolution. */
  get size(): number {
    return this.loaded?.size ?? 0
  }

  /** Empties the cache, stale entries included. */
  clear(): void {
    this.loaded?.clear()
  }
}
