import { createServer, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createSecureContext, type SecureContext } from 'node:tls'
import type { LabFront, LabFrontContext } from './lab.js'
import { newProxyId, rdsProxyConfig } from './rds-proxy-config.js'
import { RdsProxyLedger } from './rds-proxy-ledger.js'
import type { PinCause } from './rds-proxy-pinning.js'
import { runSession, type SessionContext } from './rds-proxy-session.js'
import type { RdsProxyRefusal } from './rds-proxy-token.js'
import type { RdsProxyUpstream } from './rds-proxy-upstream.js'

/** An RDS Proxy front: TLS and IAM auth in front of a real PostgreSQL. */
export interface RdsProxyFrontOptions {
  /** The front's name, for a lab service's `target: { front }`. @default 'rds-proxy' */
  name?: string
  /**
   * The proxy endpoint name: its certificate's name and the host IAM tokens must be signed for.
   * @default `lab-proxy.proxy-<12 random lower-case characters>.<lab region>.rds.amazonaws.com`
   */
  proxyHost?: string
  /** The port tokens must name: the endpoint's (NLB listener's) port. @default 5432 */
  port?: number
  /** The real PostgreSQL the proxy relays to, logged in with its own credentials. */
  upstream: RdsProxyUpstream
  /** Database users allowed to log in with IAM; others are refused like a role without rds-db:connect. @default any user */
  users?: string[]
  /** Refuse a StartupMessage not preceded by SSLRequest, as RDS Proxy does. @default true */
  requireTls?: boolean
  /**
   * The target group's MaxConnectionsPercent: `MaxDatabaseConnectionsAllowed` is this share of the
   * database's `max_connections` (reported, not enforced: the emulator keeps one database
   * connection per client session). @default 100
   */
  maxConnectionsPercent?: number
  /**
   * Pin on every Parse message, named or not, as RDS Proxy did before it multiplexed the extended
   * query protocol (November 2023): the log then says "A parse message was detected.".
   * @default false
   */
  pinUnnamedStatements?: boolean
}

/** One thing that happened, for tests: no token, no password, no key ever appears here. */
export interface RdsProxyEvent {
  /** What happened to the connection. */
  type: 'connected' | 'refused' | 'closed' | 'cancel' | 'tls-failed' | 'pinned'
  /** Lab-clock milliseconds. */
  at: number
  /** The database user of the StartupMessage. */
  user?: string
  /** The database asked for. */
  database?: string
  /** The ARN that signed the token (connected only). */
  principal?: string
  /** Why the proxy refused (refused only). */
  reason?: RdsProxyRefusal
  /** Whether the connection was over TLS. */
  tls?: boolean
  /** Why the session was pinned (pinned only). */
  cause?: PinCause
  /** The SQL that pinned it with every literal replaced by `$n` (pinned only; '' for protocol causes). */
  digest?: string
  /** RDS Proxy's log line: "The client session was pinned to the database connection [dbConnection=...] ... Reason: ..." (pinned only). */
  message?: string
  /** The database connection the session is pinned to: the backend's process ID (pinned only). */
  databaseConnection?: number
}

/** Counters since the front started. */
export interface RdsProxyStats {
  /** TCP connections accepted. */
  connections: number
  /** TLS handshakes completed. */
  tls: number
  /** TLS handshakes that failed. */
  tlsFailures: number
  /** Connections that passed IAM auth and reached the database. */
  authenticated: number
  /** Connections relaying now. */
  active: number
  /** Refusals, by reason. */
  refused: Partial<Record<RdsProxyRefusal, number>>
  /** CancelRequests received. */
  cancels: number
  /** Sessions pinned since start, by the cause that pinned them (the first one seen). */
  pinned: Partial<Record<PinCause, number>>
}

/** CloudWatch statistics of a latency metric, in microseconds. */
export interface LatencyStatistics {
  /** Requests measured. */
  SampleCount: number
  /** Their total, µs. */
  Sum: number
  /** The smallest, µs (0 when none). */
  Minimum: number
  /** The largest, µs (0 when none). */
  Maximum: number
  /** Sum / SampleCount (0 when none). */
  Average: number
}

/**
 * The proxy's CloudWatch metrics (namespace AWS/RDS, dimension ProxyName), named and defined as
 * AWS defines them; gauges are the value now, counts are since the front started.
 */
export interface RdsProxyMetrics {
  /** The current number of client connections. */
  ClientConnections: number
  /** The current number of database connections (one per relaying session in the emulator). */
  DatabaseConnections: number
  /** The current number of database connections in the borrow state: running a request, in a transaction, or pinned. */
  DatabaseConnectionsCurrentlyBorrowed: number
  /** The current number of database connections in a transaction. */
  DatabaseConnectionsCurrentlyInTransaction: number
  /** The current number of database connections currently pinned because of operations in client requests that change session state. */
  DatabaseConnectionsCurrentlySessionPinned: number
  /** The maximum number of database connections allowed: MaxConnectionsPercent of the database's max_connections; undefined until a session has read it. */
  MaxDatabaseConnectionsAllowed: number | undefined
  /** The time in microseconds that the database took to respond to the query (request in, first answer byte back). */
  QueryDatabaseResponseLatency: LatencyStatistics
  /** The number of queries received; a query including multiple statements is counted as one query. */
  QueryRequests: number
  /** The number of queries received from TLS connections. */
  QueryRequestsTLS: number
  /** The number of queries received from non-TLS connections. */
  QueryRequestsNoTLS: number
}

/** The RDS Proxy emulator: a lab front, plus its name, counters and events. */
export interface RdsProxyFront extends LabFront {
  /** The proxy endpoint name (available once the lab started the front, unless given). */
  readonly proxyHost: string
  /** The port IAM tokens must be signed for. */
  readonly port: number
  /** Counters so far. */
  stats(): RdsProxyStats
  /** The proxy's CloudWatch metrics now (see `RdsProxyMetrics`). */
  metrics(): RdsProxyMetrics
  /** Events so far, oldest first. */
  events(): readonly RdsProxyEvent[]
  /** Calls `listener` for every event; returns the unsubscribe function. */
  onEvent(listener: (event: RdsProxyEvent) => void): () => void
}

/**
 * An RDS Proxy for the lab: TLS with a lab-CA certificate for the proxy name, IAM auth tokens
 * checked against the lab's keys, STS sessions and clock, then a relay to a real PostgreSQL that
 * the proxy logs in to with its own credentials. Refusals are ErrorResponses worded like RDS
 * Proxy's, with a `reason: ...` detail telling the failures apart.
 */
export function rdsProxyFront(options: RdsProxyFrontOptions): RdsProxyFront {
  const config = rdsProxyConfig(options)
  const { name, port } = config
  const ledger = new RdsProxyLedger(config)
  let proxyHost = config.proxyHost

  return {
    name,
    port,
    get proxyHost(): string {
      if (proxyHost === undefined)
        throw new Error(`rds-proxy front '${name}': proxyHost is known once the lab has started`)
      return proxyHost
    },
    stats: () => ledger.stats(),
    metrics: () => ledger.metrics(),
    events: () => ledger.events(),
    onEvent: (listener) => ledger.onEvent(listener),
    async start(context: LabFrontContext) {
      const host =
        proxyHost ?? `lab-proxy.proxy-${newProxyId()}.${context.region}.rds.amazonaws.com`
      proxyHost = host
      ledger.useClock(context.clock)
      const sockets = new Set<Duplex>()
      const track = (socket: Duplex) => {
        sockets.add(socket)
        socket.once('close', () => sockets.delete(socket))
      }
      const sessionContext: SessionContext = {
        proxyHost: host,
        port,
        region: context.region,
        clock: context.clock,
        store: context.store,
        secureContext: await proxySecureContext(context, host),
        upstream: config.upstream,
        users: config.users,
        requireTls: config.requireTls,
        track,
        report: (event) => ledger.report(event),
        openSession: (session) => ledger.openSession(session),
        closeSession: (session) => ledger.closeSession(session),
        needsMaxConnections: () => ledger.maxConnections === undefined,
        setMaxConnections(value) {
          ledger.maxConnections = value
        },
      }
      const server: Server = createServer((socket: Socket) => {
        ledger.clientConnected((onClose) => socket.once('close', onClose))
        track(socket)
        socket.on('error', () => {})
        runSession(socket, sessionContext).catch(() => socket.destroy())
      })
      return {
        host: '127.0.0.1',
        port: await listenLoopback(server),
        close: () => close(server, sockets),
      }
    },
  }
}

/**
 * The proxy's certificate from the lab CA. RDS Proxy serves a wildcard for its endpoints; the
 * exact name is there for clients that do not match wildcards.
 */
async function proxySecureContext(context: LabFrontContext, host: string): Promise<SecureContext> {
  const wildcard = host.replace(/^[^.]+\./, '*.')
  const names = /^[^.]+\.proxy-/.test(host) ? [host, wildcard] : [host]
  const certificate = await context.ca.issue(names)
  return createSecureContext({ cert: certificate.certificatePem, key: certificate.privateKeyPem })
}

/** Listens on an ephemeral loopback port; resolves with the port. */
async function listenLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('rds-proxy: no address')
  return address.port
}

function close(server: Server, sockets: Set<Duplex>): Promise<void> {
  return new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy()
    server.close(() => resolve())
  })
}
