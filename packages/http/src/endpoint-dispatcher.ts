import type { Socket } from 'node:net'
import {
  type Connector,
  type ConnectorOptions,
  createConnector,
  type EjectionOptions,
  type Endpoint,
  invalidOption,
  type Locality,
} from '@privatelink/core'
import type { Resolver } from '@privatelink/dns'
import { Agent, Dispatcher, Pool } from 'undici'
import { originNotPinnedError } from './errors.js'
import { FailoverHandler } from './failover-handler.js'
import { asLegacy } from './legacy-handler.js'
import { type RetryOptions, type RetryPolicy, retryPolicy } from './retry-policy.js'

export interface EndpointDispatcherOptions {
  /** The endpoint (discoverEndpoint / endpointFromConfig), or a connector from core to share. */
  endpoint: Endpoint | Connector
  /** Hostnames pinned to the endpoint. @default the endpoint's private DNS name and its vpce names */
  origins?: string[]
  /** Name the certificate must carry and SNI sends. @default each request's hostname */
  servername?: string
  /** Extra CA certificates (PEM); Node's roots (Amazon Trust Services included) are kept. */
  ca?: string | string[]
  /** Where this code runs: own zone first. @default unknown (zones ranked by connect time) */
  locality?: Locality
  /** Connections per zone and origin. @default unlimited (undici's default) */
  connections?: number
  /** @default 1 */
  pipelining?: number
  /** @default 4000 */
  keepAliveTimeoutMs?: number
  /** Time to wait for response headers; a zone that stops answering is found by this. @default 300000 */
  headersTimeoutMs?: number
  /** @default 300000 */
  bodyTimeoutMs?: number
  retry?: RetryOptions
  /** Send requests for other hosts through a plain Agent instead of refusing them. @default false */
  passthrough?: boolean
  /** Connector settings when `endpoint` is an Endpoint. */
  attemptDelayMs?: number
  connectTimeoutMs?: number
  ejection?: EjectionOptions
  resolver?: Resolver
  clock?: () => number
}

const ZONE_FAILURES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
])

const isConnector = (value: unknown): value is Connector =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Connector).connect === 'function' &&
  'undici' in value

function defaultOrigins(endpoint: Endpoint): string[] {
  const names = [endpoint.privateDnsName, endpoint.dnsName, ...endpoint.zones.map((z) => z.dnsName)]
  return names.filter((n): n is string => typeof n === 'string')
}

/**
 * An undici Dispatcher whose sockets come from core's connector: own zone first, staggered
 * racing, ejection. One pool per origin and zone, so a zone can be drained when it is ejected.
 */
export class EndpointDispatcher extends Dispatcher {
  readonly connector: Connector
  readonly origins: readonly string[]
  readonly #pinned: Set<string>
  readonly #pools = new Map<string, { pool: Pool; zone: string }>()
  readonly #policy: RetryPolicy
  readonly #options: EndpointDispatcherOptions
  readonly #passthrough: Agent | undefined
  readonly #unsubscribe: () => void
  #closed = false

  constructor(options: EndpointDispatcherOptions) {
    super()
    if (typeof options !== 'object' || options === null)
      throw invalidOption('options', 'an object', options)
    this.#options = options
    const { endpoint } = options
    if (isConnector(endpoint)) {
      this.connector = endpoint
    } else {
      const connectorOptions: ConnectorOptions = { endpoint, port: 443 }
      if (options.locality !== undefined) connectorOptions.locality = options.locality
      if (options.attemptDelayMs !== undefined)
        connectorOptions.attemptDelayMs = options.attemptDelayMs
      if (options.connectTimeoutMs !== undefined)
        connectorOptions.connectTimeoutMs = options.connectTimeoutMs
      if (options.ejection !== undefined) connectorOptions.ejection = options.ejection
      if (options.resolver !== undefined) connectorOptions.resolver = options.resolver
      if (options.clock !== undefined) connectorOptions.clock = options.clock
      this.connector = createConnector(connectorOptions)
    }
    const origins = options.origins ?? defaultOrigins(this.connector.endpoint)
    if (
      !Array.isArray(origins) ||
      origins.length === 0 ||
      origins.some((o) => typeof o !== 'string' || o === '')
    ) {
      throw invalidOption('origins', 'a non-empty array of hostnames', origins)
    }
    this.origins = origins.map((o) => (o.includes('://') ? new URL(o).hostname : o).toLowerCase())
    this.#pinned = new Set(this.origins)
    if (
      options.servername !== undefined &&
      (typeof options.servername !== 'string' || options.servername === '')
    ) {
      throw invalidOption('servername', 'a DNS name', options.servername)
    }
    for (const name of [
      'connections',
      'pipelining',
      'keepAliveTimeoutMs',
      'headersTimeoutMs',
      'bodyTimeoutMs',
    ] as const) {
      const value = options[name]
      if (value !== undefined && (!Number.isInteger(value) || value < 0))
        throw invalidOption(name, 'an integer >= 0', value)
    }
    if (options.passthrough !== undefined && typeof options.passthrough !== 'boolean') {
      throw invalidOption('passthrough', 'a boolean', options.passthrough)
    }
    this.#policy = retryPolicy(options.retry)
    this.#passthrough = options.passthrough === true ? new Agent() : undefined
    // An ejected zone's pools are drained: in-flight requests finish, idle sockets close.
    this.#unsubscribe = this.connector.onZoneChange((event) => {
      if (event.type !== 'eject') return
      for (const [key, entry] of this.#pools) {
        if (entry.zone !== event.azName) continue
        this.#pools.delete(key)
        entry.pool.close().catch(() => {})
      }
    })
  }

  override dispatch(
    options: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
  ): boolean {
    if (this.#closed) throw closedError()
    const origin = String(options.origin)
    if (!this.#isPinned(origin)) {
      if (this.#passthrough !== undefined) return this.#passthrough.dispatch(options, handler)
      throw originNotPinnedError(new URL(origin).origin, this.origins)
    }
    const first = this.connector.preferredZones()[0]!.azName
    const tried = [first]
    const failover = new FailoverHandler(
      options,
      asLegacy(handler),
      this.#policy,
      (retryOptions, retryHandler) => {
        try {
          // Another eligible zone than those tried for this request, or the best one if none is left.
          const zones = this.connector.preferredZones()
          const zone = (zones.find((z) => !tried.includes(z.azName)) ?? zones[0]!).azName
          tried.push(zone)
          this.#pool(origin, zone).dispatch(
            retryOptions,
            retryHandler as unknown as Dispatcher.DispatchHandler,
          )
        } catch (error) {
          retryHandler.onError(error as Error)
        }
      },
    )
    return this.#pool(origin, first).dispatch(
      options,
      failover as unknown as Dispatcher.DispatchHandler,
    )
  }

  // Origins are few and requests many: remember the pinning decision per origin string.
  readonly #pinnedOrigins = new Map<string, boolean>()
  #isPinned(origin: string): boolean {
    let pinned = this.#pinnedOrigins.get(origin)
    if (pinned === undefined) {
      pinned = this.#pinned.has(new URL(origin).hostname.toLowerCase())
      if (this.#pinnedOrigins.size < 1_000) this.#pinnedOrigins.set(origin, pinned)
    }
    return pinned
  }

  #pool(origin: string, zone: string): Pool {
    const key = `${zone} ${origin}`
    const existing = this.#pools.get(key)
    if (existing !== undefined) return existing.pool
    if (this.#closed) throw closedError()
    const options = this.#options
    const poolOptions: Pool.Options = {
      connect: (connectOptions, callback) => {
        const secure = connectOptions.protocol === 'https:'
        const servername =
          options.servername ?? connectOptions.servername ?? connectOptions.hostname
        this.connector
          .connect({
            port: Number(connectOptions.port) || (secure ? 443 : 80),
            preferZone: zone,
            tls: secure
              ? { servername, ...(options.ca !== undefined ? { ca: options.ca } : {}) }
              : false,
          })
          .then(
            (socket) => {
              this.#watch(socket)
              callback(null, socket)
            },
            (error: Error) => callback(error, null),
          )
      },
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
      headersTimeout: options.headersTimeoutMs ?? 300_000,
      bodyTimeout: options.bodyTimeoutMs ?? 300_000,
      pipelining: options.pipelining ?? 1,
    }
    if (options.connections !== undefined) poolOptions.connections = options.connections
    const pool = new Pool(origin, poolOptions)
    this.#pools.set(key, { pool, zone })
    return pool
  }

  // A socket that dies mid-request tells us about its zone as surely as a failed connect.
  #watch(socket: Socket): void {
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const zone = this.connector.zoneOf(socket)
      if (zone !== undefined && ZONE_FAILURES.has(String(error.code)))
        this.connector.reportFailure(zone.azName, String(error.code))
    })
  }

  override close(): Promise<void>
  override close(callback: () => void): void
  override close(callback?: () => void): Promise<void> | void {
    const done = this.#shutdown((dispatcher) => dispatcher.close())
    if (callback === undefined) return done
    done.then(
      () => callback(),
      () => callback(),
    )
  }

  override destroy(): Promise<void>
  override destroy(error: Error | null): Promise<void>
  override destroy(callback: () => void): void
  override destroy(error: Error | null, callback: () => void): void
  override destroy(
    errorOrCallback?: Error | null | (() => void),
    maybeCallback?: () => void,
  ): Promise<void> | void {
    const error = typeof errorOrCallback === 'function' ? null : (errorOrCallback ?? null)
    const callback = typeof errorOrCallback === 'function' ? errorOrCallback : maybeCallback
    const done = this.#shutdown((dispatcher) => dispatcher.destroy(error))
    if (callback === undefined) return done
    done.then(
      () => callback(),
      () => callback(),
    )
  }

  async #shutdown(each: (dispatcher: Dispatcher) => Promise<void>): Promise<void> {
    this.#closed = true
    this.#unsubscribe()
    const all: Dispatcher[] = [
      ...[...this.#pools.values()].map((entry) => entry.pool),
      ...(this.#passthrough ? [this.#passthrough] : []),
    ]
    this.#pools.clear()
    await Promise.all(all.map((dispatcher) => each(dispatcher).catch(() => {})))
  }
}

// The error undici's own dispatchers raise when used after close().
const closedError = () =>
  Object.assign(new Error('The dispatcher is closed'), { code: 'UND_ERR_CLIENT_DESTROYED' })

/** An undici Dispatcher pinned to a PrivateLink endpoint; works with fetch, request, stream and setGlobalDispatcher. */
export function createEndpointDispatcher(options: EndpointDispatcherOptions): EndpointDispatcher {
  return new EndpointDispatcher(options)
}
