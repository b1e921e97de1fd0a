import { randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createSecureContext } from 'node:tls'
import { invalidOption } from '@privatelink/core'
import type { LabFront, LabFrontContext } from './lab.js'
import { ProxySession } from './rds-proxy-observer.js'
import type { PinCause } from './rds-proxy-pinning.js'
import { runSession, type SessionContext, type SessionEvent } from './rds-proxy-session.js'
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

const hostnamePattern = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/
const MAX_EVENTS = 10_000

function newProxyId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  let id = ''
  for (const byte of randomBytes(12)) id += alphabet[byte % alphabet.length]
  return id
}

function validate(options: RdsProxyFrontOptions): void {
  if (options === null || typeof options !== 'object')
    throw invalidOption('options', 'an object with upstream', options)
  const {
    name,
    proxyHost,
    port,
    upstream,
    users,
    requireTls,
    maxConnectionsPercent,
    pinUnnamedStatements,
  } = options
  if (name !== undefined && (typeof name !== 'string' || name === ''))
    throw invalidOption('name', 'a non-empty string', name)
  if (
    proxyHost !== undefined &&
    (typeof proxyHost !== 'string' || !hostnamePattern.test(proxyHost))
  )
    throw invalidOption('proxyHost', 'a lower-case DNS name', proxyHost)
  const isPort = (value: unknown) =>
    typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535
  if (port !== undefined && !isPort(port)) throw invalidOption('port', 'an integer 1-65535', port)
  if (upstream === null || typeof upstream !== 'object')
    throw invalidOption('upstream', '{ host, port, user, password?, database? }', upstream)
  if (typeof upstream.host !== 'string' || upstream.host === '')
    throw invalidOption('upstream.host', 'a host name or address', upstream.host)
  if (!isPort(upstream.port))
    throw invalidOption('upstream.port', 'an integer 1-65535', upstream.port)
  if (typeof upstream.user !== 'string' || upstream.user === '')
    throw invalidOption('upstream.user', 'a database user name', upstream.user)
  if (upstream.password !== undefined && typeof upstream.password !== 'string')
    throw invalidOption('upstream.password', 'a string', typeof upstream.password)
  if (
    upstream.database !== undefined &&
    (typeof upstream.database !== 'string' || upstream.database === '')
  )
    throw invalidOption('upstream.database', 'a database name', upstream.database)
  if (users !== undefined && (!Array.isArray(users) || users.some((u) => typeof u !== 'string')))
    throw invalidOption('users', 'an array of database user names', users)
  if (requireTls !== undefined && typeof requireTls !== 'boolean')
    throw invalidOption('requireTls', 'a boolean', requireTls)
  if (
    maxConnectionsPercent !== undefined &&
    (!Number.isInteger(maxConnectionsPercent) ||
      maxConnectionsPercent < 1 ||
      maxConnectionsPercent > 100)
  )
    throw invalidOption('maxConnectionsPercent', 'an integer 1-100', maxConnectionsPercent)
  if (pinUnnamedStatements !== undefined && typeof pinUnnamedStatements !== 'boolean')
    throw invalidOption('pinUnnamedStatements', 'a boolean', pinUnnamedStatements)
}

/**
 * An RDS Proxy for the lab: TLS with a lab-CA certificate for the proxy name, IAM auth tokens
 * checked against the lab's keys, STS sessions and clock, then a relay to a real PostgreSQL that
 * the proxy logs in to with its own credentials. Refusals are ErrorResponses worded like RDS
 * Proxy's, with a `reason: ...` detail telling the failures apart.
 */
export function rdsProxyFront(options: RdsProxyFrontOptions): RdsProxyFront {
  validate(options)
  const name = options.name ?? 'rds-proxy'
  const port = options.port ?? 5432
  const requireTls = options.requireTls ?? true
  const maxConnectionsPercent = options.maxConnectionsPercent ?? 100
  const pinUnnamedStatements = options.pinUnnamedStatements ?? false
  const upstream = { ...options.upstream }
  const users = options.users === undefined ? undefined : [...options.users]
  let proxyHost = options.proxyHost
  const stats: RdsProxyStats = {
    connections: 0,
    tls: 0,
    tlsFailures: 0,
    authenticated: 0,
    active: 0,
    refused: {},
    cancels: 0,
    pinned: {},
  }
  const sessions = new Set<ProxySession>()
  let clientConnections = 0
  let maxConnections: number | undefined
  const queries = { all: 0, tls: 0, noTls: 0 }
  const latency = { count: 0, sum: 0, min: 0, max: 0 }
  const events: RdsProxyEvent[] = []
  const listeners = new Set<(event: RdsProxyEvent) => void>()

  return {
    name,
    port,
    get proxyHost(): string {
      if (proxyHost === undefined)
        throw new Error(`rds-proxy front '${name}': proxyHost is known once the lab has started`)
      return proxyHost
    },
    stats: () => ({ ...stats, refused: { ...stats.refused }, pinned: { ...stats.pinned } }),
    metrics: () => {
      let borrowed = 0
      let inTransaction = 0
      let pinned = 0
      for (const session of sessions) {
        if (session.borrowed) borrowed++
        if (session.inTransaction) inTransaction++
        if (session.pinned !== undefined) pinned++
      }
      return {
        ClientConnections: clientConnections,
        DatabaseConnections: sessions.size,
        DatabaseConnectionsCurrentlyBorrowed: borrowed,
        DatabaseConnectionsCurrentlyInTransaction: inTransaction,
        DatabaseConnectionsCurrentlySessionPinned: pinned,
        MaxDatabaseConnectionsAllowed:
          maxConnections === undefined
            ? undefined
            : Math.floor((maxConnections * maxConnectionsPercent) / 100),
        QueryDatabaseResponseLatency: {
          SampleCount: latency.count,
          Sum: latency.sum,
          Minimum: latency.min,
          Maximum: latency.max,
          Average: latency.count === 0 ? 0 : latency.sum / latency.count,
        },
        QueryRequests: queries.all,
        QueryRequestsTLS: queries.tls,
        QueryRequestsNoTLS: queries.noTls,
      }
    },
    events: () => [...events],
    onEvent(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async start(context: LabFrontContext) {
      const host =
        proxyHost ?? `lab-proxy.proxy-${newProxyId()}.${context.region}.rds.amazonaws.com`
      proxyHost = host
      // RDS Proxy serves a wildcard for its endpoints; the exact name is there for clients that
      // do not match wildcards.
      const wildcard = host.replace(/^[^.]+\./, '*.')
      const names = /^[^.]+\.proxy-/.test(host) ? [host, wildcard] : [host]
      const certificate = await context.ca.issue(names)
      const secureContext = createSecureContext({
        cert: certificate.certificatePem,
        key: certificate.privateKeyPem,
      })
      const emit = (event: Omit<RdsProxyEvent, 'at'>) => {
        const stamped = { ...event, at: context.clock() }
        events.push(stamped)
        if (events.length > MAX_EVENTS) events.shift()
        for (const listener of listeners) listener(stamped)
      }
      const report = (event: SessionEvent) => {
        if (event.type === 'tls') stats.tls++
        else if (event.type === 'tls-failed') {
          stats.tlsFailures++
          emit({ type: 'tls-failed' })
        } else if (event.type === 'cancel') {
          stats.cancels++
          emit({ type: 'cancel' })
        } else if (event.type === 'refused') {
          stats.refused[event.reason] = (stats.refused[event.reason] ?? 0) + 1
          emit(event)
        } else if (event.type === 'connected') {
          stats.authenticated++
          stats.active++
          emit(event)
        } else {
          stats.active--
          emit(event)
        }
      }
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
        secureContext,
        upstream,
        users,
        requireTls,
        track,
        report,
        openSession({ tls, user, database }) {
          const session = new ProxySession({
            tls,
            pinUnnamedStatements,
            sink: {
              query(overTls) {
                queries.all++
                if (overTls) queries.tls++
                else queries.noTls++
              },
              latency(microseconds) {
                latency.min =
                  latency.count === 0 ? microseconds : Math.min(latency.min, microseconds)
                latency.max = Math.max(latency.max, microseconds)
                latency.count++
                latency.sum += microseconds
              },
              pinned(pinnedSession, finding, message) {
                stats.pinned[finding.cause] = (stats.pinned[finding.cause] ?? 0) + 1
                emit({
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
            },
          })
          sessions.add(session)
          return session
        },
        closeSession(session) {
          sessions.delete(session)
        },
        needsMaxConnections: () => maxConnections === undefined,
        setMaxConnections(value) {
          maxConnections = value
        },
      }
      const server: Server = createServer((socket: Socket) => {
        stats.connections++
        clientConnections++
        socket.once('close', () => clientConnections--)
        track(socket)
        socket.on('error', () => {})
        runSession(socket, sessionContext).catch(() => socket.destroy())
      })
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => {
          server.off('error', reject)
          resolve()
        })
      })
      const address = server.address()
      if (address === null || typeof address === 'string') throw new Error('rds-proxy: no address')
      return {
        host: '127.0.0.1',
        port: address.port,
        close: () =>
          new Promise<void>((resolve) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => resolve())
          }),
      }
    },
  }
}
