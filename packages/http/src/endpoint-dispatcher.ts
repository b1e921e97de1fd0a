import { type Connector, sharedSecureContext } from '@privatelink/core'
import { Agent, type Dispatcher, errors, Pool } from 'undici'
import { CallbackHandler } from './callback-handler.js'
import {
  type DispatcherConfig,
  type EndpointDispatcherOptions,
  resolveDispatcherOptions,
} from './dispatcher-options.js'
import { failHandler } from './fail-handler.js'
import { originPinning, pinnedOrigins } from './origin-pinning.js'
import { stallWatch } from './stall-watch.js'
import { zoneFailover } from './zone-failover.js'
import { type Connection, ZonePool } from './zone-pool.js'

export type { EndpointDispatcherOptions } from './dispatcher-options.js'

type Dispatch = (
  options: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
) => boolean

const noop = () => {}

/** The Agent's factory: a ZonePool for a pinned origin, a plain undici Pool for passthrough. */
function poolFactory(
  config: DispatcherConfig,
  pools: Set<ZonePool>,
  sent: () => void,
): (origin: string | URL, options: object) => Dispatcher {
  const pinned = pinnedOrigins(config.origins)
  const { connector, servername, ca } = config
  const passthroughContext = ca === undefined ? undefined : sharedSecureContext({ ca })
  return (origin, options) => {
    // Passthrough keeps this dispatcher's connection settings, its trusted CAs included, as one
    // parsed secure context: `ca` alone makes tls.connect parse the bundle on every connection.
    if (!pinned(String(origin)))
      return new Pool(
        origin,
        passthroughContext === undefined
          ? options
          : { ...options, connect: { secureContext: passthroughContext } },
      )
    const pool: ZonePool = new ZonePool(origin, {
      ...(options as Pool.Options),
      connector,
      tlsFor: (connectOptions) => ({
        servername: servername ?? connectOptions.servername ?? connectOptions.hostname,
        ...(ca === undefined ? {} : { ca }),
      }),
      sent,
      gone: (gone) => pools.delete(gone),
    })
    pools.add(pool)
    return pool
  }
}

/**
 * An undici Agent whose pools get their sockets from core's connector: own zone first, staggered
 * racing, zone health. Its factory gives each pinned origin a ZonePool (connections grouped by
 * the zone their socket landed in); origin pinning and zone failover are interceptors in front
 * of it. close / destroy / closed / destroyed, the events (`connect`, `disconnect`,
 * `connectionError`, `drain`, with this dispatcher first in `targets`) and error routing
 * (dispatch never throws: errors reach the handler) are undici's own.
 */
export class EndpointDispatcher extends Agent {
  /** The connector whose sockets this dispatcher uses: zone status, events, health. */
  readonly connector: Connector
  /** Hostnames this dispatcher serves (lowercase); others go to `passthrough` or are refused. */
  readonly origins: readonly string[]
  readonly #pools: Set<ZonePool>
  readonly #intercepted: Dispatch
  readonly #release: () => void
  /** destroy() came from the caller, not from the end of close(). */
  #destroyedFirst = false

  constructor(options: EndpointDispatcherOptions) {
    const config = resolveDispatcherOptions(options)
    const pools = new Set<ZonePool>()
    // Filled in once `this` exists: a request going out starts the stall watch.
    const hooks = { sent: noop }
    super({
      ...config.client,
      ...(config.connections === undefined ? {} : { connections: config.connections }),
      factory: poolFactory(config, pools, () => hooks.sent()),
    })
    const { connector } = config
    this.connector = connector
    this.origins = config.origins
    this.#pools = pools
    const stall = stallWatch({
      stallMs: config.stallMs,
      sockets: () => this.#liveConnections(),
      check: () => {
        connector.probe().catch(noop)
      },
    })
    hooks.sent = () => {
      if (!this.closed) stall.start()
    }
    let released = false
    this.#release = () => {
      if (released) return
      released = true
      stall.stop()
      if (config.ownsConnector) connector.close()
    }
    const agent: Dispatch = (o, h) => super.dispatch(o, h)
    const failover = zoneFailover({
      policy: config.policy,
      hasUntried: (tried) =>
        connector.preferredZones().some((zone) => !tried.has(connector.zoneKey(zone))),
      now: config.clock,
    })
    const pinning = originPinning({
      origins: config.origins,
      passthrough: config.passthrough ? agent : undefined,
    })
    // Composed as Dispatcher.compose would, without its per-layer handler wrap: dispatch() adapts
    // a callback-style handler once, at the top.
    this.#intercepted = pinning(failover(agent))
  }

  /** Open sockets per zone key, read from the sockets themselves. */
  connectionsPerZone(): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const pool of this.#pools) pool.connectionsPerZone(counts)
    return counts
  }

  *#liveConnections(): Iterable<Connection> {
    for (const pool of this.#pools) yield* pool.live()
  }

  override dispatch(
    options: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
  ): boolean {
    if (this.closed || this.destroyed) {
      // undici's close() ends in destroy(): after close() requests still fail as closed (as
      // documented). Raised here rather than by undici's base, which throws to a handler without
      // onResponseError (undici 8): dispatch never throws, whatever the handler's API.
      const error =
        this.#destroyedFirst || !this.closed
          ? new errors.ClientDestroyedError()
          : new errors.ClientClosedError()
      failHandler(handler, error)
      return false
    }
    return this.#intercepted(options, CallbackHandler.wrap(handler))
  }

  /**
   * Like `close()`, but aborts requests in flight with `error` (undici's `ClientDestroyedError`
   * by default). `close()` ends here too, once requests in flight finished; both stop the stall
   * watch and close the connector when this dispatcher made it.
   */
  override destroy(): Promise<void>
  override destroy(error: Error | null): Promise<void>
  override destroy(callback: () => void): void
  override destroy(error: Error | null, callback: () => void): void
  override destroy(...args: unknown[]): Promise<void> | void {
    if (!this.closed) this.#destroyedFirst = true
    this.#release()
    return (Agent.prototype.destroy as (...given: unknown[]) => Promise<void> | void).apply(
      this,
      args,
    )
  }
}

/** An undici Dispatcher pinned to a PrivateLink endpoint; works with fetch, request, stream and setGlobalDispatcher. */
export function createEndpointDispatcher(options: EndpointDispatcherOptions): EndpointDispatcher {
  return new EndpointDispatcher(options)
}
