import { createServer, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createSecureContext } from 'node:tls'
import { invalidOption } from '@privatelink/core'
import type { LabFront, LabFrontContext } from './lab.js'
import type { Greeting } from './mysql-wire.js'
import { newProxyId } from './rds-proxy-config.js'
import { type MysqlSessionEvent, runMysqlSession } from './rds-proxy-mysql-session.js'
import type { MysqlUpstream } from './rds-proxy-mysql-upstream.js'
import type { RdsProxyRefusal } from './rds-proxy-token.js'

/** An RDS Proxy for MySQL front: TLS and IAM auth in front of a real MySQL or MariaDB. */
export interface RdsProxyMysqlFrontOptions {
  /** The front's name, for a lab service's `target: { front }`. @default 'rds-proxy-mysql' */
  name?: string
  /**
   * The proxy endpoint name: its certificate's name and the host IAM tokens must be signed for.
   * @default `lab-mysql.proxy-<12 random lower-case characters>.<lab region>.rds.amazonaws.com`
   */
  proxyHost?: string
  /** The port tokens must name: the endpoint's (NLB listener's) port. @default 3306 */
  port?: number
  /** The real database the proxy relays to, logged in with its own credentials. */
  upstream: MysqlUpstream
  /** Database users allowed to log in with IAM; others are refused. @default any user */
  users?: string[]
  /** Refuse a client that does not ask for TLS, as RDS Proxy with IAM does. @default true */
  requireTls?: boolean
}

/** One thing that happened, for tests: never a token, password or key. */
export interface RdsProxyMysqlEvent {
  /** What happened to the connection. */
  type: 'connected' | 'refused' | 'closed' | 'tls-failed'
  /** Lab-clock milliseconds. */
  at: number
  /** The user of the handshake response. */
  user?: string
  /** The database asked for. */
  database?: string
  /** The ARN that signed the token (connected only). */
  principal?: string
  /** Why the proxy refused (refused only). */
  reason?: RdsProxyRefusal
  /** Whether the connection was over TLS. */
  tls?: boolean
}

/** Counters since the front started. */
export interface RdsProxyMysqlStats {
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
}

/** The RDS Proxy for MySQL emulator: a lab front, plus its name, counters and events. */
export interface RdsProxyMysqlFront extends LabFront {
  /** The proxy endpoint name (available once the lab started the front, unless given). */
  readonly proxyHost: string
  /** The port IAM tokens must be signed for. */
  readonly port: number
  /** Counters so far. */
  stats(): RdsProxyMysqlStats
  /** Events so far, oldest first. */
  events(): readonly RdsProxyMysqlEvent[]
}

const isPort = (value: unknown) =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535

function checkOptions(options: RdsProxyMysqlFrontOptions): void {
  if (options === null || typeof options !== 'object')
    throw invalidOption('options', 'an object with upstream', options)
  const { name, proxyHost, port, upstream, users, requireTls } = options
  if (name !== undefined && (typeof name !== 'string' || name === ''))
    throw invalidOption('name', 'a non-empty string', name)
  if (
    proxyHost !== undefined &&
    (typeof proxyHost !== 'string' || !/^[a-z0-9.-]+$/.test(proxyHost))
  )
    throw invalidOption('proxyHost', 'a lower-case DNS name', proxyHost)
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
  if (users !== undefined && (!Array.isArray(users) || users.some((u) => typeof u !== 'string')))
    throw invalidOption('users', 'an array of database user names', users)
  if (requireTls !== undefined && typeof requireTls !== 'boolean')
    throw invalidOption('requireTls', 'a boolean', requireTls)
}

/**
 * An RDS Proxy for MySQL for the lab: TLS with a lab-CA certificate for the proxy name (after
 * MySQL's SSLRequest), IAM tokens sent with the cleartext plugin and checked against the lab's
 * keys, STS sessions and clock, then a relay to a real MySQL or MariaDB the proxy logs in to as
 * its own user. Refusals are ERR packets worded as MySQL words them (1045 Access denied, 3159
 * insecure transport); the reason is in `events()` and `stats().refused`.
 */
export function rdsProxyMysqlFront(options: RdsProxyMysqlFrontOptions): RdsProxyMysqlFront {
  checkOptions(options)
  const name = options.name ?? 'rds-proxy-mysql'
  const port = options.port ?? 3306
  const upstream = { ...options.upstream }
  const users = options.users === undefined ? undefined : [...options.users]
  let proxyHost = options.proxyHost
  let clock: () => number = Date.now
  const log: RdsProxyMysqlEvent[] = []
  const stats: RdsProxyMysqlStats = {
    connections: 0,
    tls: 0,
    tlsFailures: 0,
    authenticated: 0,
    active: 0,
    refused: {},
  }
  let connectionId = 1000
  // The database's greeting, read by the first session (see MysqlSessionContext.known).
  const known: { greeting?: Greeting } = {}
  const report = (event: MysqlSessionEvent) => {
    if (event.type === 'tls') {
      stats.tls++
      return
    }
    if (event.type === 'tls-failed') stats.tlsFailures++
    if (event.type === 'refused')
      stats.refused[event.reason] = (stats.refused[event.reason] ?? 0) + 1
    if (event.type === 'connected') {
      stats.authenticated++
      stats.active++
    }
    if (event.type === 'closed') stats.active--
    log.push({ ...event, at: clock() })
  }
  return {
    name,
    port,
    get proxyHost(): string {
      if (proxyHost === undefined)
        throw new Error(
          `rds-proxy-mysql front '${name}': proxyHost is known once the lab has started`,
        )
      return proxyHost
    },
    stats: () => structuredClone(stats),
    events: () => [...log],
    async start(context: LabFrontContext) {
      const host =
        proxyHost ?? `lab-mysql.proxy-${newProxyId()}.${context.region}.rds.amazonaws.com`
      proxyHost = host
      clock = context.clock
      const certificate = await context.ca.issue([host, host.replace(/^[^.]+\./, '*.')])
      const secureContext = createSecureContext({
        cert: certificate.certificatePem,
        key: certificate.privateKeyPem,
      })
      const sockets = new Set<Duplex>()
      const track = (socket: Duplex) => {
        sockets.add(socket)
        socket.once('close', () => sockets.delete(socket))
      }
      const server: Server = createServer((socket: Socket) => {
        stats.connections++
        track(socket)
        socket.setNoDelay(true)
        socket.on('error', () => {})
        runMysqlSession(socket, {
          proxyHost: host,
          port,
          region: context.region,
          clock: context.clock,
          store: context.store,
          secureContext,
          upstream,
          users,
          requireTls: options.requireTls ?? true,
          nextConnectionId: () => ++connectionId,
          known,
          track,
          report,
        }).catch(() => socket.destroy())
      })
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => resolve())
      })
      const address = server.address()
      if (address === null || typeof address === 'string')
        throw new Error('rds-proxy-mysql: no address')
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
