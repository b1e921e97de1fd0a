import { createHash } from 'node:crypto'
import type { Socket } from 'node:net'
import { createServer, type TLSSocket } from 'node:tls'
import { invalidOption } from '@privatelink/core'
import { ElastiCacheSession, type SessionEvent } from './elasticache-front-session.js'
import type { ElastiCacheRefusal } from './elasticache-front-token.js'
import type { LabFront, LabFrontContext } from './lab.js'

/** An ElastiCache (or MemoryDB) front: TLS and IAM auth in front of a real redis-server. */
export interface ElastiCacheFrontOptions {
  /** The front's name, for a lab service's `target: { front }`. @default 'elasticache' */
  name?: string
  /**
   * Replication group ID, serverless cache name or MemoryDB cluster name: the host IAM tokens are
   * signed for, and part of the DNS name. @default 'lab-cache'
   */
  cacheName?: string
  /** A serverless cache: tokens carry `ResourceType=ServerlessCache`. @default false */
  serverless?: boolean
  /** @default 'elasticache' */
  service?: 'elasticache' | 'memorydb'
  /** A cluster-mode cache: the name is the configuration endpoint (`clustercfg.`). @default false */
  clusterMode?: boolean
  /** IAM-enabled user IDs allowed to connect; a valid token for another user is refused. @default any user */
  users?: string[]
  /** The real redis-server the front relays to (no password: the front authenticates). */
  upstream: {
    /** The redis-server's address (loopback). */
    host: string
    /** Its port. */
    port: number
  }
  /** Connections not re-authenticated for this long (lab clock) are dropped. @default 43200000 (12 h) */
  maxSessionMs?: number
}

/** One thing that happened, for tests: no token and no key ever appears here. */
export interface ElastiCacheEvent {
  /** What happened to the connection. */
  type: SessionEvent['type'] | 'tls-failed'
  /** Lab-clock milliseconds. */
  at: number
  /** The user ID the client authenticated as, or tried to. */
  user?: string
  /** The ARN that signed the token. */
  principal?: string
  /** Why the front refused (refusals only). */
  reason?: ElastiCacheRefusal
  /** An AUTH on a connection already authenticated. */
  reauth?: boolean
}

/** Counters since the front started. */
export interface ElastiCacheStats {
  /** TLS connections accepted. */
  connections: number
  /** TLS handshakes that failed. */
  tlsFailures: number
  /** Successful AUTH / HELLO AUTH, re-authentications included. */
  authenticated: number
  /** Successful AUTH on a connection already authenticated. */
  reauthenticated: number
  /** Refusals, by reason. */
  refused: Partial<Record<ElastiCacheRefusal, number>>
  /** Commands answered NOAUTH. */
  noauth: number
  /** Connections dropped for going 12 hours (lab clock) without re-authenticating. */
  expired: number
  /** Connections open now. */
  active: number
}

/** The ElastiCache (or MemoryDB) emulator: a lab front, plus its names, counters and events. */
export interface ElastiCacheFront extends LabFront {
  /** The cache name tokens are signed for. */
  readonly cacheName: string
  /** The signing name: `elasticache`, or `memorydb`. */
  readonly service: 'elasticache' | 'memorydb'
  /** A serverless cache (`ResourceType=ServerlessCache` in tokens). */
  readonly serverless: boolean
  /**
   * The endpoint's DNS name, on the front's certificate (known once the lab started the front):
   * - node-based: `master.<cacheName>.<id>.<region-short>.cache.amazonaws.com`
   *   (`clustercfg.` with clusterMode), certificate `*.<cacheName>.<id>.<region-short>.cache.amazonaws.com`
   * - serverless: `<cacheName>-<id>.serverless.<region-short>.cache.amazonaws.com`,
   *   certificate `*.serverless.<region-short>.cache.amazonaws.com`
   * - MemoryDB: `clustercfg.<cacheName>.<id>.memorydb.<region>.amazonaws.com`,
   *   certificate `*.<cacheName>.<id>.memorydb.<region>.amazonaws.com`
   * `<id>` is 6 characters derived from the account and region, as AWS's per-account id is.
   */
  readonly hostname: string
  /** A name for node `n` under the same certificate (for announced cluster node names). */
  nodeName(n: number): string
  /** Counters so far. */
  stats(): ElastiCacheStats
  /** Events so far, oldest first. */
  events(): readonly ElastiCacheEvent[]
  /** Calls `listener` for every event; returns the unsubscribe function. */
  onEvent(listener: (event: ElastiCacheEvent) => void): () => void
  /** Drops every connection past 12 hours without re-auth by the lab clock now (also checked each second and on each command). */
  sweep(): number
}

const MAX_EVENTS = 10_000
const TWELVE_HOURS_MS = 12 * 3_600_000
const cacheNamePattern = /^[a-z][a-z0-9-]{0,39}$/

const DIRECTIONS: Record<string, string> = {
  east: 'e',
  west: 'w',
  north: 'n',
  south: 's',
  central: 'c',
  northeast: 'ne',
  northwest: 'nw',
  southeast: 'se',
  southwest: 'sw',
}

/** ElastiCache's region code in DNS names: us-west-2 -> usw2, ap-southeast-2 -> apse2. */
export function elastiCacheRegionCode(region: string): string {
  const match = /^([a-z]{2})-([a-z]+)-(\d+)$/.exec(region)
  if (match === null) return region.replace(/-/g, '')
  return `${match[1]}${DIRECTIONS[match[2]!] ?? match[2]!.slice(0, 1)}${match[3]}`
}

function validate(options: ElastiCacheFrontOptions): void {
  if (options === null || typeof options !== 'object')
    throw invalidOption('options', 'an object with upstream', options)
  const { name, cacheName, serverless, service, clusterMode, users, upstream, maxSessionMs } =
    options
  if (name !== undefined && (typeof name !== 'string' || name === ''))
    throw invalidOption('name', 'a non-empty string', name)
  if (
    cacheName !== undefined &&
    (typeof cacheName !== 'string' || !cacheNamePattern.test(cacheName))
  )
    throw invalidOption(
      'cacheName',
      'a lower-case cache name (letter first, up to 40 of a-z 0-9 -)',
      cacheName,
    )
  if (serverless !== undefined && typeof serverless !== 'boolean')
    throw invalidOption('serverless', 'a boolean', serverless)
  if (clusterMode !== undefined && typeof clusterMode !== 'boolean')
    throw invalidOption('clusterMode', 'a boolean', clusterMode)
  if (service !== undefined && service !== 'elasticache' && service !== 'memorydb')
    throw invalidOption('service', "'elasticache' or 'memorydb'", service)
  if (users !== undefined && (!Array.isArray(users) || users.some((u) => typeof u !== 'string')))
    throw invalidOption('users', 'an array of user IDs', users)
  if (upstream === null || typeof upstream !== 'object')
    throw invalidOption('upstream', '{ host, port }', upstream)
  if (typeof upstream.host !== 'string' || upstream.host === '')
    throw invalidOption('upstream.host', 'an address', upstream.host)
  if (!Number.isInteger(upstream.port) || upstream.port < 1 || upstream.port > 65_535)
    throw invalidOption('upstream.port', 'an integer 1-65535', upstream.port)
  if (maxSessionMs !== undefined && (!Number.isInteger(maxSessionMs) || maxSessionMs < 1))
    throw invalidOption('maxSessionMs', 'a positive integer', maxSessionMs)
}

/**
 * An ElastiCache (or MemoryDB) endpoint for the lab: TLS with a lab-CA certificate for the cache's
 * DNS name, IAM authentication by `AUTH user token` or `HELLO 3 AUTH user token` checked against
 * the lab's keys, STS sessions and clock (refusals answered `-WRONGPASS ...` as ElastiCache does,
 * commands before AUTH `-NOAUTH ...`), connections dropped 12 hours after their last AUTH, and
 * everything else relayed to a real redis-server.
 */
export function elastiCacheFront(options: ElastiCacheFrontOptions): ElastiCacheFront {
  validate(options)
  const name = options.name ?? 'elasticache'
  const cacheName = options.cacheName ?? 'lab-cache'
  const serverless = options.serverless ?? false
  const service = options.service ?? 'elasticache'
  const clusterMode = options.clusterMode ?? false
  const maxSessionMs = options.maxSessionMs ?? TWELVE_HOURS_MS
  const upstream = { ...options.upstream }
  const users = options.users === undefined ? undefined : [...options.users]
  let domain: string | undefined
  let hostname: string | undefined
  const stats: ElastiCacheStats = {
    connections: 0,
    tlsFailures: 0,
    authenticated: 0,
    reauthenticated: 0,
    refused: {},
    noauth: 0,
    expired: 0,
    active: 0,
  }
  const events: ElastiCacheEvent[] = []
  const listeners = new Set<(event: ElastiCacheEvent) => void>()
  const sessions = new Set<ElastiCacheSession>()
  let clock: () => number = Date.now
  const started = () => {
    if (hostname === undefined || domain === undefined)
      throw new Error(`elasticache front '${name}': names are known once the lab has started`)
    return { hostname, domain }
  }
  const sweep = () => {
    let dropped = 0
    const now = clock()
    for (const session of sessions) if (session.expireIfStale(now)) dropped++
    return dropped
  }

  return {
    name,
    cacheName,
    service,
    serverless,
    get hostname(): string {
      return started().hostname
    },
    nodeName(n: number): string {
      const { domain: suffix } = started()
      return serverless
        ? `${cacheName}-node-${n}.${suffix}`
        : `${cacheName}-${String(n).padStart(4, '0')}-001.${suffix}`
    },
    stats: () => ({ ...stats, refused: { ...stats.refused } }),
    events: () => [...events],
    onEvent(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    sweep,
    async start(context: LabFrontContext) {
      clock = context.clock
      const id = createHash('sha256')
        .update(`${context.accountId}/${context.region}`)
        .digest('hex')
        .slice(0, 6)
      const code = elastiCacheRegionCode(context.region)
      if (service === 'memorydb') {
        domain = `${cacheName}.${id}.memorydb.${context.region}.amazonaws.com`
        hostname = `clustercfg.${domain}`
      } else if (serverless) {
        domain = `serverless.${code}.cache.amazonaws.com`
        hostname = `${cacheName}-${id}.${domain}`
      } else {
        domain = `${cacheName}.${id}.${code}.cache.amazonaws.com`
        hostname = `${clusterMode ? 'clustercfg' : 'master'}.${domain}`
      }
      const certificate = await context.ca.issue([`*.${domain}`])
      const emit = (event: Omit<ElastiCacheEvent, 'at'>) => {
        const stamped = { ...event, at: context.clock() }
        events.push(stamped)
        if (events.length > MAX_EVENTS) events.shift()
        for (const listener of listeners) listener(stamped)
      }
      const report = (event: SessionEvent) => {
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
        emit(event)
      }
      const sockets = new Set<Socket>()
      const server = createServer(
        { cert: certificate.certificatePem, key: certificate.privateKeyPem },
        (socket: TLSSocket) => {
          stats.connections++
          stats.active++
          sockets.add(socket)
          socket.on('error', () => {})
          const session = new ElastiCacheSession(socket, {
            check: {
              cacheName,
              serverless,
              service,
              region: context.region,
              clock: context.clock,
              store: context.store,
            },
            users,
            upstream,
            maxSessionMs,
            report,
          })
          sessions.add(session)
          socket.once('close', () => {
            sockets.delete(socket)
            sessions.delete(session)
          })
        },
      )
      server.on('tlsClientError', (_error, socket) => {
        stats.tlsFailures++
        emit({ type: 'tls-failed' })
        socket.destroy()
      })
      // Raw TCP sockets too, so close() also ends connections still in their handshake.
      server.on('connection', (socket: Socket) => {
        sockets.add(socket)
        socket.once('close', () => sockets.delete(socket))
      })
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => {
          server.off('error', reject)
          resolve()
        })
      })
      // An injected lab clock jumps; a check each second notices idle connections past 12 hours.
      const sweeper = setInterval(sweep, 1_000)
      sweeper.unref()
      const address = server.address()
      if (address === null || typeof address === 'string')
        throw new Error('elasticache: no address')
      return {
        host: '127.0.0.1',
        port: address.port,
        close: () =>
          new Promise<void>((resolve) => {
            clearInterval(sweeper)
            for (const socket of sockets) socket.destroy()
            server.close(() => resolve())
          }),
      }
    },
  }
}
