import { createHash } from 'node:crypto'
import type { Socket } from 'node:net'
import { createServer, type TLSSocket } from 'node:tls'
import { type ElastiCacheFrontConfig, elastiCacheFrontConfig } from './elasticache-front-config.js'
import { ElastiCacheLedger } from './elasticache-front-ledger.js'
import {
  ElastiCacheSession,
  type SessionContext,
  type SessionEvent,
} from './elasticache-front-session.js'
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

/**
 * An ElastiCache (or MemoryDB) endpoint for the lab: TLS with a lab-CA certificate for the cache's
 * DNS name, IAM authentication by `AUTH user token` or `HELLO 3 AUTH user token` checked against
 * the lab's keys, STS sessions and clock (refusals answered `-WRONGPASS ...` as ElastiCache does,
 * commands before AUTH `-NOAUTH ...`), connections dropped 12 hours after their last AUTH, and
 * everything else relayed to a real redis-server.
 */
export function elastiCacheFront(options: ElastiCacheFrontOptions): ElastiCacheFront {
  const config = elastiCacheFrontConfig(options)
  const { name, cacheName, serverless, service } = config
  const ledger = new ElastiCacheLedger()
  let names: CacheNames | undefined
  const started = () => {
    if (names === undefined)
      throw new Error(`elasticache front '${name}': names are known once the lab has started`)
    return names
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
    stats: () => ledger.stats(),
    events: () => ledger.events(),
    onEvent: (listener) => ledger.onEvent(listener),
    sweep: () => ledger.sweep(),
    async start(context: LabFrontContext) {
      ledger.useClock(context.clock)
      names = cacheNames(config, context)
      const certificate = await context.ca.issue([`*.${names.domain}`])
      const sockets = new Set<Socket>()
      const server = createServer(
        { cert: certificate.certificatePem, key: certificate.privateKeyPem },
        (socket: TLSSocket) => {
          ledger.connected()
          sockets.add(socket)
          socket.on('error', () => {})
          const session = new ElastiCacheSession(socket, sessionContext(config, context, ledger))
          ledger.addSession(session)
          socket.once('close', () => {
            sockets.delete(socket)
            ledger.deleteSession(session)
          })
        },
      )
      server.on('tlsClientError', (_error, socket) => {
        ledger.tlsFailed()
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
      const sweeper = setInterval(() => ledger.sweep(), 1_000)
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

interface CacheNames {
  domain: string
  hostname: string
}

/**
 * The endpoint's DNS name and its certificate's domain, as AWS names them (see
 * `ElastiCacheFront.hostname`); the 6-character id is derived from the account and region.
 */
function cacheNames(config: ElastiCacheFrontConfig, context: LabFrontContext): CacheNames {
  const { cacheName } = config
  const id = createHash('sha256')
    .update(`${context.accountId}/${context.region}`)
    .digest('hex')
    .slice(0, 6)
  const code = elastiCacheRegionCode(context.region)
  if (config.service === 'memorydb') {
    const domain = `${cacheName}.${id}.memorydb.${context.region}.amazonaws.com`
    return { domain, hostname: `clustercfg.${domain}` }
  }
  if (config.serverless) {
    const domain = `serverless.${code}.cache.amazonaws.com`
    return { domain, hostname: `${cacheName}-${id}.${domain}` }
  }
  const domain = `${cacheName}.${id}.${code}.cache.amazonaws.com`
  return { domain, hostname: `${config.clusterMode ? 'clustercfg' : 'master'}.${domain}` }
}

/** What one session checks tokens against and relays to. */
function sessionContext(
  config: ElastiCacheFrontConfig,
  context: LabFrontContext,
  ledger: ElastiCacheLedger,
): SessionContext {
  return {
    check: {
      cacheName: config.cacheName,
      serverless: config.serverless,
      service: config.service,
      region: context.region,
      clock: context.clock,
      store: context.store,
    },
    users: config.users,
    upstream: config.upstream,
    maxSessionMs: config.maxSessionMs,
    report: (event) => ledger.report(event),
  }
}
