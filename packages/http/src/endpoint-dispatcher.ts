import { rootCertificates } from 'node:tls'
import {
  type Connector,
  type ConnectorOptions,
  type ConnectorTarget,
  createConnector,
  type EjectionOptions,
  type Endpoint,
  type HealthCheckOptions,
  integerOption,
  invalidOption,
  type Locality,
} from '@privatelink/core'
import { checkOptions, type Resolver } from '@privatelink/dns'
import { Agent, Dispatcher, errors } from 'undici'
import { originNotPinnedError } from './errors.js'
import { FailoverHandler, type Route } from './failover-handler.js'
import { asLegacy } from './legacy-handler.js'
import { type Connection, OriginPool } from './origin-pool.js'
import { type RetryOptions, type RetryPolicy, retryPolicy } from './retry-policy.js'
import { locationOf, unsafeTarget } from './sigv4-errors.js'
import { SIGNED, type SignedMark } from './sigv4-marker.js'
import { stallWatch } from './stall-watch.js'

/** Options of {@link createEndpointDispatcher}; each is validated at construction. */
export interface EndpointDispatcherOptions {
  /**
   * The endpoint (discoverEndpoint / endpointFromConfig); or targets in priority order (regions:
   * traffic moves to the next only when every zone of the current one is out); or a connector
   * from core to share.
   */
  endpoint: Endpoint | readonly ConnectorTarget[] | Connector
  /** Hostnames pinned to the endpoint. @default the endpoint's private DNS name and its vpce names */
  origins?: string[]
  /** Name the certificate must carry and SNI sends. @default each request's hostname */
  servername?: string
  /** Extra CA certificates (PEM); Node's roots (Amazon Trust Services included) are kept. */
  ca?: string | string[]
  /**
   * Where this code runs: own zone first. Passed to the connector only when given.
   * @default detected by the connector (environment at once, metadata in the background)
   */
  locality?: Locality | null
  /** Open connections per origin, all zones together. @default unlimited (undici's default) */
  connections?: number
  /** @default 1 */
  pipelining?: number
  /** Idle keep-alive sockets close after this long (undici's default; below typical NLB/ALB idle timeouts). @default 4000 */
  keepAliveTimeoutMs?: number
  /**
   * Time to wait for response headers (undici's default). A dead zone is found by the
   * connector's health checks, not by this; shorten it only for the service's own latency
   * budget. @default 300000
   */
  headersTimeoutMs?: number
  /** @default 300000 */
  bodyTimeoutMs?: number
  /** Retries on another zone: which requests, how often, with what backoff and budget. */
  retry?: RetryOptions
  /** Send requests for other hosts through a plain Agent instead of refusing them. @default false */
  passthrough?: boolean
  /** Connector settings when `endpoint` is an Endpoint (see @privatelink/core for defaults). */
  attemptDelayMs?: number
  /** Connector setting: give up on one TCP connect after this long. @default 10000 */
  connectTimeoutMs?: number
  /** Connector setting: give up on one TLS handshake after this long. @default 10000 */
  tlsTimeoutMs?: number
  /** Connector setting: outlier ejection of failing zones (see @privatelink/core). */
  ejection?: EjectionOptions
  /** Connector setting: active health checks of each zone (see @privatelink/core). */
  healthCheck?: HealthCheckOptions
  /** Connector setting: `'lambda'` runs no background checks or probes. @default 'default' */
  profile?: 'default' | 'lambda'
  /** Connector setting: resolves zonal DNS names. @default a private-only resolver */
  resolver?: Resolver
  /** Ejection windows and Retry-After dates. @default Date.now */
  clock?: () => number
  /**
   * A request that has received no byte for this long asks the connector for a health check of
   * every zone now (at most once a second), so a zone that dies under keep-alive traffic is
   * ejected, and its idempotent requests moved, within one check timeout instead of at the next
   * periodic round (up to 2 s later). A slow but alive backend costs only those checks. 0 turns
   * it off. @default 500; 0 with `profile: 'lambda'`
   */
  stallCheckMs?: number
}

const isConnector = (value: unknown): value is Connector =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Connector).connect === 'function' &&
  'undici' in value

function defaultOrigins(endpoints: readonly Endpoint[]): string[] {
  const names = endpoints.flatMap((endpoint) => [
    endpoint.privateDnsName,
    endpoint.dnsName,
    ...endpoint.zones.map((z) => z.dnsName),
  ])
  return [...new Set(names.filter((n): n is string => typeof n === 'string'))]
}

const CONNECTOR_OPTIONS = [
  'locality',
  'attemptDelayMs',
  'connectTimeoutMs',
  'tlsTimeoutMs',
  'ejection',
  'healthCheck',
  'profile',
  'resolver',
  'clock',
] as const

/** A raw error met while reading the options, as ERR_INVALID_OPTION naming what threw. */
function asOptionError(options: unknown, error: unknown): unknown {
  try {
    checkOptions('options', options, () => {
      throw error
    })
  } catch (converted) {
    return converted
  }
  return error
}

/**
 * fetch follows a redirect with a new request, which sigv4() signs like any other: a 302 to
 * another host would carry the key ID and session token out through passthrough. Only a host the
 * signer was told about (`hosts`) may receive a signed request that way.
 */
function refuseSignedPassthrough(options: Dispatcher.DispatchOptions): void {
  const mark = (options as { [SIGNED]?: SignedMark })[SIGNED]
  if (mark === undefined || mark.listed) return
  const origin = new URL(String(options.origin))
  throw unsafeTarget(
    { service: mark.service, region: mark.region, host: origin.host },
    'passthrough',
    locationOf(origin, options.path),
  )
}

/**
 * An undici Dispatcher whose sockets come from core's connector: own zone first, staggered
 * racing, zone health. Like undici's Agent it never throws from dispatch (errors reach
 * handler.onError), forwards connect / disconnect / connectionError / drain, and has closed /
 * destroyed. One pool per origin; each connection knows the zone its socket landed in.
 */
export class EndpointDispatcher extends Dispatcher {
  /** The connector whose sockets this dispatcher uses: zone status, events, health. */
  readonly connector: Connector
  /** Hostnames this dispatcher serves (lowercase); others go to `passthrough` or are refused. */
  readonly origins: readonly string[]
  readonly #pinned: Set<string>
  readonly #pools = new Map<string, OriginPool>()
  readonly #policy: RetryPolicy
  readonly #options: EndpointDispatcherOptions
  readonly #passthrough: Agent | undefined
  readonly #unsubscribe: () => void
  readonly #unsubscribeTargets: () => void
  readonly #ownsConnector: boolean
  readonly #clock: () => number
  readonly #ca: string[] | undefined
  #closed = false
  #destroyed = false
  #closing: Promise<void> | undefined
  #destroying: Promise<void> | undefined
  readonly #stall: ReturnType<typeof stallWatch>

  constructor(options: EndpointDispatcherOptions) {
    super()
    // A value that throws when read (a revoked Proxy, a throwing getter) is ERR_INVALID_OPTION
    // naming it, before anything (a connector, timers) is built; and no raw TypeError from reading
    // an option escapes later either.
    checkOptions('options', options, () => undefined)
    try {
      if (typeof options !== 'object' || options === null)
        throw invalidOption('options', 'an object', options)
      this.#options = options
      const { endpoint } = options
      if (isConnector(endpoint)) {
        this.connector = endpoint
        this.#ownsConnector = false
      } else {
        const connectorOptions: ConnectorOptions = { endpoint, port: 443 }
        for (const name of CONNECTOR_OPTIONS) {
          if (options[name] !== undefined)
            (connectorOptions as unknown as Record<string, unknown>)[name] = options[name]
        }
        this.connector = createConnector(connectorOptions)
        this.#ownsConnector = true
      }
      this.#clock = options.clock ?? Date.now
      const origins =
        options.origins ?? defaultOrigins(this.connector.targets.map((target) => target.endpoint))
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
        integerOption(name, options[name], 0)
      }
      if (options.passthrough !== undefined && typeof options.passthrough !== 'boolean') {
        throw invalidOption('passthrough', 'a boolean', options.passthrough)
      }
      // Extra CAs join Node's roots (Amazon Trust Services included), as documented. One array for
      // the dispatcher's life: core shares one secure context per bundle (parsing ~150 roots costs
      // ~20 ms per handshake otherwise).
      if (options.ca !== undefined)
        this.#ca = [...rootCertificates, ...(Array.isArray(options.ca) ? options.ca : [options.ca])]
      this.#policy = retryPolicy(options.retry)
      const stallMs = integerOption(
        'stallCheckMs',
        options.stallCheckMs,
        options.profile === 'lambda' ? 0 : 500,
      )
      this.#stall = stallWatch({
        stallMs,
        sockets: () => this.#liveConnections(),
        check: () => {
          this.connector.probe().catch(() => {})
        },
      })
      if (options.passthrough === true) {
        const agent = new Agent()
        for (const event of ['connect', 'disconnect', 'connectionError', 'drain'] as const) {
          const on = agent.on as (event: string, listener: (...args: never[]) => void) => Agent
          on.call(agent, event, (origin: URL, targets: readonly Dispatcher[], error?: Error) =>
            this.#emit(event, origin, targets, error),
          )
        }
        this.#passthrough = agent
      }
      // Back in a better region: connections elsewhere finish their requests and close.
      this.#unsubscribeTargets = this.connector.onTargetChange((event) => {
        if (event.type !== 'return') return
        const first = this.connector.preferredZones()[0]
        if (first === undefined) return
        for (const pool of this.#pools.values()) pool.retireBelow(this.connector.zoneKey(first))
      })
      this.#unsubscribe = this.connector.onZoneChange((event) => {
        for (const pool of this.#pools.values()) {
          if (event.type === 'eject') pool.eject(event.zone)
          else pool.retireBelow(event.zone)
        }
      })
    } catch (error) {
      throw asOptionError(options, error)
    }
  }

  // As undici's Agent does: the targets list starts with the outermost dispatcher.
  #emit(event: string, origin: URL, targets: readonly Dispatcher[], error?: Error): void {
    const emit = this.emit as (event: string, ...args: unknown[]) => boolean
    if (error === undefined) emit.call(this, event, origin, [this, ...targets])
    else emit.call(this, event, origin, [this, ...targets], error)
  }

  /** True once `close()` or `destroy()` was called: new requests fail. */
  get closed(): boolean {
    return this.#closed
  }

  /** True once `destroy()` was called. */
  get destroyed(): boolean {
    return this.#destroyed
  }

  /** Open sockets per zone key, read from the sockets themselves. */
  connectionsPerZone(): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const pool of this.#pools.values()) pool.connectionsPerZone(counts)
    return counts
  }

  override dispatch(
    options: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
  ): boolean {
    const legacy = asLegacy(handler)
    try {
      if (this.#destroyed) throw new errors.ClientDestroyedError()
      if (this.#closed) throw new errors.ClientClosedError()
      const origin = String(options.origin)
      if (!this.#isPinned(origin)) {
        if (this.#passthrough !== undefined) {
          refuseSignedPassthrough(options)
          return this.#passthrough.dispatch(options, handler)
        }
        throw originNotPinnedError(new URL(origin).origin, this.origins)
      }
      return new FailoverHandler(options, legacy, this.#policy, this.#route(origin)).start()
    } catch (error) {
      legacy.onError?.(error as Error)
      return false
    }
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

  readonly #routes = new Map<string, Route>()
  #route(origin: string): Route {
    let route = this.#routes.get(origin)
    if (route !== undefined) return route
    const pool = this.#pool(origin)
    route = {
      dispatch: (options, handler, avoid) => {
        // A retry after close() or destroy() fails like any other dispatch would.
        if (this.#closed) {
          handler.onError(
            this.#destroyed ? new errors.ClientDestroyedError() : new errors.ClientClosedError(),
          )
          return false
        }
        return pool.dispatch(options, handler, avoid)
      },
      hasUntried: (tried) =>
        this.connector.preferredZones().some((zone) => !tried.has(this.connector.zoneKey(zone))),
      now: this.#clock,
    }
    this.#routes.set(origin, route)
    return route
  }

  *#liveConnections(): Iterable<Connection> {
    for (const pool of this.#pools.values()) yield* pool.live()
  }

  #pool(origin: string): OriginPool {
    const existing = this.#pools.get(origin)
    if (existing !== undefined) return existing
    const options = this.#options
    const pool = new OriginPool(origin, {
      connector: this.connector,
      connections: options.connections,
      client: {
        keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
        headersTimeout: options.headersTimeoutMs ?? 300_000,
        bodyTimeout: options.bodyTimeoutMs ?? 300_000,
        pipelining: options.pipelining ?? 1,
      },
      tls: (connectOptions) => ({
        servername: options.servername ?? connectOptions.servername ?? connectOptions.hostname,
        ...(this.#ca === undefined ? {} : { ca: this.#ca }),
      }),
      emit: (event, url, targets, error) => this.#emit(event, url, targets, error),
      sent: () => {
        if (!this.#closed) this.#stall.start()
      },
    })
    this.#pools.set(origin, pool)
    return pool
  }

  /**
   * Stops taking requests, lets those in flight finish, then closes every pool (and the
   * connector, when this dispatcher made it).
   */
  override close(): Promise<void>
  /**
   * Stops taking requests, lets those in flight finish, then closes every pool (and the
   * connector, when this dispatcher made it).
   */
  override close(callback: (error: Error | null, data: null) => void): void
  override close(callback?: (error: Error | null, data: null) => void): Promise<void> | void {
    if (!this.#destroyed && this.#closing === undefined) {
      this.#closing = this.#shutdown(
        (pool) => pool.close(),
        (agent) => agent.close(),
      )
    }
    const done = this.#destroyed
      ? Promise.reject(new errors.ClientDestroyedError())
      : (this.#closing as Promise<void>)
    if (callback === undefined) return done
    done.then(
      () => callback(null, null),
      (error: Error) => callback(error, null),
    )
  }

  /**
   * Like `close()`, but aborts requests in flight with `error` (undici's `ClientDestroyedError`
   * by default).
   */
  override destroy(): Promise<void>
  /**
   * Like `close()`, but aborts requests in flight with `error` (undici's `ClientDestroyedError`
   * by default).
   */
  override destroy(error: Error | null): Promise<void>
  /**
   * Like `close()`, but aborts requests in flight with `error` (undici's `ClientDestroyedError`
   * by default).
   */
  override destroy(callback: (error: Error | null, data: null) => void): void
  /**
   * Like `close()`, but aborts requests in flight with `error` (undici's `ClientDestroyedError`
   * by default).
   */
  override destroy(error: Error | null, callback: (error: Error | null, data: null) => void): void
  override destroy(
    errorOrCallback?: Error | null | ((error: Error | null, data: null) => void),
    maybeCallback?: (error: Error | null, data: null) => void,
  ): Promise<void> | void {
    const error =
      typeof errorOrCallback === 'function' || errorOrCallback == null
        ? new errors.ClientDestroyedError()
        : errorOrCallback
    const callback = typeof errorOrCallback === 'function' ? errorOrCallback : maybeCallback
    this.#destroyed = true
    if (this.#destroying === undefined) {
      this.#destroying = this.#shutdown(
        (pool) => pool.destroy(error),
        (agent) => agent.destroy(error),
      )
    }
    const done = this.#destroying
    if (callback === undefined) return done
    done.then(
      () => callback(null, null),
      () => callback(null, null),
    )
  }

  async #shutdown(
    eachPool: (pool: OriginPool) => Promise<void>,
    passthrough: (agent: Agent) => Promise<void>,
  ): Promise<void> {
    this.#closed = true
    this.#stall.stop()
    this.#unsubscribe()
    this.#unsubscribeTargets()
    if (this.#ownsConnector) this.connector.close()
    await Promise.all([
      ...[...this.#pools.values()].map((pool) => eachPool(pool).catch(() => {})),
      ...(this.#passthrough ? [passthrough(this.#passthrough).catch(() => {})] : []),
    ])
  }
}

/** An undici Dispatcher pinned to a PrivateLink endpoint; works with fetch, request, stream and setGlobalDispatcher. */
export function createEndpointDispatcher(options: EndpointDispatcherOptions): EndpointDispatcher {
  return new EndpointDispatcher(options)
}
