import type {
  LatencyStatistics,
  RdsProxyEvent,
  RdsProxyMetrics,
  RdsProxyStats,
} from './rds-proxy.js'
import type { RdsProxyConfig } from './rds-proxy-config.js'
import { ProxySession, type SessionSink } from './rds-proxy-observer.js'
import type { SessionEvent } from './rds-proxy-session.js'

const MAX_EVENTS = 10_000

/**
 * What the RDS Proxy front has seen: counters, the open sessions the metrics read, the event log
 * and its listeners. They change together as sessions report, so they live in one place apart
 * from the server's wiring.
 */
export class RdsProxyLedger {
  readonly #stats: RdsProxyStats = {
    connections: 0,
    tls: 0,
    tlsFailures: 0,
    authenticated: 0,
    active: 0,
    refused: {},
    cancels: 0,
    pinned: {},
  }
  readonly #sessions = new Set<ProxySession>()
  #clientConnections = 0
  /** The database's max_connections, read by the first session. */
  maxConnections: number | undefined
  readonly #queries = { all: 0, tls: 0, noTls: 0 }
  readonly #latency = { count: 0, sum: 0, min: 0, max: 0 }
  readonly #events: RdsProxyEvent[] = []
  readonly #listeners = new Set<(event: RdsProxyEvent) => void>()
  // The lab's clock, known once the front starts; events before then cannot happen.
  #clock: () => number = () => 0

  constructor(
    private readonly config: Pick<RdsProxyConfig, 'maxConnectionsPercent' | 'pinUnnamedStatements'>,
  ) {}

  /** Stamps events with the lab's clock from now on. */
  useClock(clock: () => number): void {
    this.#clock = clock
  }

  /** A client connection was accepted; it counts until it closes. */
  clientConnected(onClose: (listener: () => void) => void): void {
    this.#stats.connections++
    this.#clientConnections++
    onClose(() => this.#clientConnections--)
  }

  /** Counts a session's event and logs the ones tests read. */
  report(event: SessionEvent): void {
    const stats = this.#stats
    if (event.type === 'tls') stats.tls++
    else if (event.type === 'tls-failed') {
      stats.tlsFailures++
      this.#emit({ type: 'tls-failed' })
    } else if (event.type === 'cancel') {
      stats.cancels++
      this.#emit({ type: 'cancel' })
    } else if (event.type === 'refused') {
      stats.refused[event.reason] = (stats.refused[event.reason] ?? 0) + 1
      this.#emit(event)
    } else if (event.type === 'connected') {
      stats.authenticated++
      stats.active++
      this.#emit(event)
    } else {
      stats.active--
      this.#emit(event)
    }
  }

  /** A session starts relaying: its observer, which the metrics read. */
  openSession(options: { tls: boolean; user: string; database: string }): ProxySession {
    const session = new ProxySession({
      tls: options.tls,
      pinUnnamedStatements: this.config.pinUnnamedStatements,
      sink: this.#sink(options),
    })
    this.#sessions.add(session)
    return session
  }

  /** The relay ended. */
  closeSession(session: ProxySession): void {
    this.#sessions.delete(session)
  }

  /** A copy of the counters. */
  stats(): RdsProxyStats {
    const stats = this.#stats
    return { ...stats, refused: { ...stats.refused }, pinned: { ...stats.pinned } }
  }

  /** The CloudWatch metrics now. */
  metrics(): RdsProxyMetrics {
    let borrowed = 0
    let inTransaction = 0
    let pinned = 0
    for (const session of this.#sessions) {
      if (session.borrowed) borrowed++
      if (session.inTransaction) inTransaction++
      if (session.pinned !== undefined) pinned++
    }
    const { maxConnections } = this
    return {
      ClientConnections: this.#clientConnections,
      DatabaseConnections: this.#sessions.size,
      DatabaseConnectionsCurrentlyBorrowed: borrowed,
      DatabaseConnectionsCurrentlyInTransaction: inTransaction,
      DatabaseConnectionsCurrentlySessionPinned: pinned,
      MaxDatabaseConnectionsAllowed:
        maxConnections === undefined
          ? undefined
          : Math.floor((maxConnections * this.config.maxConnectionsPercent) / 100),
      QueryDatabaseResponseLatency: this.#latencyStatistics(),
      QueryRequests: this.#queries.all,
      QueryRequestsTLS: this.#queries.tls,
      QueryRequestsNoTLS: this.#queries.noTls,
    }
  }

  /** Events so far, oldest first. */
  events(): readonly RdsProxyEvent[] {
    return [...this.#events]
  }

  /** Calls `listener` for every event; returns the unsubscribe function. */
  onEvent(listener: (event: RdsProxyEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #emit(event: Omit<RdsProxyEvent, 'at'>): void {
    const stamped = { ...event, at: this.#clock() }
    this.#events.push(stamped)
    if (this.#events.length > MAX_EVENTS) this.#events.shift()
    for (const listener of this.#listeners) listener(stamped)
  }

  #latencyStatistics(): LatencyStatistics {
    const latency = this.#latency
    return {
      SampleCount: latency.count,
      Sum: latency.sum,
      Minimum: latency.min,
      Maximum: latency.max,
      Average: latency.count === 0 ? 0 : latency.sum / latency.count,
    }
  }

  #sink({ tls, user, database }: { tls: boolean; user: string; database: string }): SessionSink {
    const queries = this.#queries
    const latency = this.#latency
    return {
      query(overTls) {
        queries.all++
        if (overTls) queries.tls++
        else queries.noTls++
      },
      latency(microseconds) {
        latency.min = latency.count === 0 ? microseconds : Math.min(latency.min, microseconds)
        latency.max = Math.max(latency.max, microseconds)
        latency.count++
        latency.sum += microseconds
      },
      pinned: (pinnedSession, finding, message) => {
        this.#stats.pinned[finding.cause] = (this.#stats.pinned[finding.cause] ?? 0) + 1
        this.#emit({
          type: 'pinned',
          user,
          database,
          tls,
          cause: finding.cause,
          digest: finding.digest,
          message,
          databaseConnection: pinnedSession.databaseConnection,
        })
      },
    }
  }
}
