import type { ElastiCacheEvent, ElastiCacheStats } from './elasticache-front.js'
import type { ElastiCacheSession, SessionEvent } from './elasticache-front-session.js'

const MAX_EVENTS = 10_000

/**
 * What the ElastiCache front has seen: counters, the open sessions the 12-hour sweep walks, the
 * event log and its listeners. They change together as sessions report, so they live in one
 * place apart from the server's wiring.
 */
export class ElastiCacheLedger {
  readonly #stats: ElastiCacheStats = {
    connections: 0,
    tlsFailures: 0,
    authenticated: 0,
    reauthenticated: 0,
    refused: {},
    noauth: 0,
    expired: 0,
    active: 0,
  }
  readonly #events: ElastiCacheEvent[] = []
  readonly #listeners = new Set<(event: ElastiCacheEvent) => void>()
  readonly #sessions = new Set<ElastiCacheSession>()
  // Date.now until the front starts: a sweep before then finds no session anyway.
  #clock: () => number = Date.now

  /** Stamps events and sweeps with the lab's clock from now on. */
  useClock(clock: () => number): void {
    this.#clock = clock
  }

  /** A TLS connection was accepted. */
  connected(): void {
    this.#stats.connections++
    this.#stats.active++
  }

  /** A session the sweep should check until it closes. */
  addSession(session: ElastiCacheSession): void {
    this.#sessions.add(session)
  }

  /** The session's connection closed. */
  deleteSession(session: ElastiCacheSession): void {
    this.#sessions.delete(session)
  }

  /** A TLS handshake failed. */
  tlsFailed(): void {
    this.#stats.tlsFailures++
    this.#emit({ type: 'tls-failed' })
  }

  /** Counts a session's event and logs it (NOAUTH answers are only counted). */
  report(event: SessionEvent): void {
    const stats = this.#stats
    if (event.type === 'authenticated') {
      stats.authenticated++
      if (event.reauth) stats.reauthenticated++
    } else if (event.type === 'refused')
      stats.refused[event.reason] = (stats.refused[event.reason] ?? 0) + 1
    else if (event.type === 'noauth') {
      stats.noauth++
      return
    } else if (event.type === 'expired') stats.expired++
    else if (event.type === 'closed') stats.active--
    this.#emit(event)
  }

  /** Drops every session past its re-auth deadline by the clock now; returns how many. */
  sweep(): number {
    let dropped = 0
    const now = this.#clock()
    for (const session of this.#sessions) if (session.expireIfStale(now)) dropped++
    return dropped
  }

  /** A copy of the counters. */
  stats(): ElastiCacheStats {
    return { ...this.#stats, refused: { ...this.#stats.refused } }
  }

  /** Events so far, oldest first. */
  events(): readonly ElastiCacheEvent[] {
    return [...this.#events]
  }

  /** Calls `listener` for every event; returns the unsubscribe function. */
  onEvent(listener: (event: ElastiCacheEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #emit(event: Omit<ElastiCacheEvent, 'at'>): void {
    const stamped = { ...event, at: this.#clock() }
    this.#events.push(stamped)
    if (this.#events.length > MAX_EVENTS) this.#events.shift()
    for (const listener of this.#listeners) listener(stamped)
  }
}
