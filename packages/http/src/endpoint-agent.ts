import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Connector } from '@privatelink/core'
import {
  type AgentConfig,
  type EndpointAgentOptions,
  resolveAgentOptions,
} from './agent-options.js'
import { originNotPinnedError } from './errors.js'
import { type ReplayContext, ReplaySocket } from './replay-socket.js'
import { stallWatch } from './stall-watch.js'

export type { EndpointAgentOptions } from './agent-options.js'

/** What Node's agent passes to `createConnection` that we read. */
interface ConnectionRequest {
  host?: string | null | undefined
  hostname?: string | null | undefined
  port?: number | string | null | undefined
  servername?: string | null | undefined
}

type Created = (error: Error | null, socket?: Duplex) => void

const noop = () => {}

/**
 * What both agents share: sockets from the connector wrapped as ReplaySockets, the stall watch,
 * and the connector's end. Zone health and retirement stay core's (`connector.watch`).
 */
class AgentSockets {
  readonly config: AgentConfig
  readonly #secure: boolean
  readonly #live = new Set<ReplaySocket>()
  readonly #stall: { start(): void; stop(): void }
  #released = false

  constructor(config: AgentConfig, secure: boolean) {
    this.config = config
    this.#secure = secure
    const { connector } = config
    this.#stall = stallWatch({
      stallMs: config.stallMs,
      sockets: () => this.#live,
      check: () => {
        connector.probe().catch(noop)
      },
    })
  }

  create(request: ConnectionRequest, defaultPort: number, created: Created): void {
    const { connector, origins, servername, ca } = this.config
    const host = String(request.hostname ?? request.host ?? '').toLowerCase()
    if (!origins.includes(host)) {
      process.nextTick(created, originNotPinnedError(host, origins))
      return
    }
    const port = Number(request.port) || defaultPort
    // Verified against the service's name (the request's Host), never the vpce name dialled.
    const tls = this.#secure
      ? {
          servername: servername ?? (request.servername || host),
          ...(ca === undefined ? {} : { ca }),
        }
      : false
    const context: ReplayContext = {
      connector,
      open: (preferZone) =>
        connector.connect({ port, tls, ...(preferZone === undefined ? {} : { preferZone }) }),
      methods: this.config.methods,
      maxRetries: this.config.maxRetries,
      maxBufferedBytes: this.config.maxBufferedBytes,
      started: () => {
        if (this.#released) return
        this.#stall.start()
        // Routing is read per request, as the dispatcher does: an ejection that ran out is seen
        // now (its readmission retires the sockets of worse zones), not at the next connect.
        connector.preferredZones()
      },
    }
    context.open(undefined).then(
      (socket: Socket) => {
        if (this.#released) {
          socket.destroy()
          created(new Error('the agent was destroyed'))
          return
        }
        const wrapped = new ReplaySocket(context, socket)
        this.#live.add(wrapped)
        wrapped.once('close', () => this.#live.delete(wrapped))
        created(null, wrapped)
      },
      (error: Error) => created(error),
    )
  }

  connectionsPerZone(): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const socket of this.#live) {
      if (socket.destroyed) continue
      const zone = socket.zone ?? 'connecting'
      counts[zone] = (counts[zone] ?? 0) + 1
    }
    return counts
  }

  release(): void {
    if (this.#released) return
    this.#released = true
    this.#stall.stop()
    if (this.config.ownsConnector) this.config.connector.close()
  }
}

/**
 * A Node `https.Agent` whose sockets come from core's connector: own zone first, staggered
 * racing, zone health, TLS verified against the service's name. For axios (`httpsAgent`), got
 * (`agent.https`), node-fetch, `https.request` and any library that takes an agent. A request
 * whose socket is lost before any response byte (its zone ejected, the peer's reset) is sent
 * again on another zone when its method is idempotent, so a zone loss fails none of them.
 */
export class EndpointAgent extends HttpsAgent {
  /** The connector whose sockets this agent uses: zone status, events, health. */
  readonly connector: Connector
  /** Hostnames this agent serves (lowercase); others fail with ERR_ORIGIN_NOT_PINNED. */
  readonly origins: readonly string[]
  readonly #sockets: AgentSockets

  constructor(options: EndpointAgentOptions) {
    const config = resolveAgentOptions(options, 443)
    super({
      keepAlive: true,
      timeout: config.keepAliveTimeoutMs,
      ...(config.maxSockets === undefined ? {} : { maxSockets: config.maxSockets }),
    })
    this.#sockets = new AgentSockets(config, true)
    this.connector = config.connector
    this.origins = config.origins
  }

  /**
   * Node's agent asks for a socket: one from the connector (TLS verified against the request's
   * name), wrapped so a request lost before any response byte can move to another zone.
   */
  override createConnection(options: ConnectionRequest, created: Created): undefined {
    this.#sockets.create(options, 443, created)
    return undefined
  }

  /** Open sockets per zone key, read from the sockets themselves. */
  connectionsPerZone(): Record<string, number> {
    return this.#sockets.connectionsPerZone()
  }

  /** Destroys every socket, stops the stall watch and closes the connector when the agent made it. */
  override destroy(): void {
    this.#sockets.release()
    super.destroy()
  }
}

/**
 * The plaintext twin of {@link EndpointAgent}, a Node `http.Agent`, for a service that speaks
 * HTTP without TLS behind the endpoint (the connector's dial guard still checks every address).
 */
export class EndpointHttpAgent extends HttpAgent {
  /** The connector whose sockets this agent uses. */
  readonly connector: Connector
  /** Hostnames this agent serves (lowercase). */
  readonly origins: readonly string[]
  readonly #sockets: AgentSockets

  constructor(options: EndpointAgentOptions) {
    const config = resolveAgentOptions(options, 80)
    super({
      keepAlive: true,
      timeout: config.keepAliveTimeoutMs,
      ...(config.maxSockets === undefined ? {} : { maxSockets: config.maxSockets }),
    })
    this.#sockets = new AgentSockets(config, false)
    this.connector = config.connector
    this.origins = config.origins
  }

  /** Node's agent asks for a socket: one from the connector, plain TCP. */
  override createConnection(options: ConnectionRequest, created: Created): undefined {
    this.#sockets.create(options, 80, created)
    return undefined
  }

  /** Open sockets per zone key. */
  connectionsPerZone(): Record<string, number> {
    return this.#sockets.connectionsPerZone()
  }

  /** Destroys every socket, stops the stall watch and closes the connector when the agent made it. */
  override destroy(): void {
    this.#sockets.release()
    super.destroy()
  }
}

/** A Node `https.Agent` pinned to a PrivateLink endpoint (see {@link EndpointAgent}). */
export function createEndpointAgent(options: EndpointAgentOptions): EndpointAgent {
  return new EndpointAgent(options)
}

/** A Node `http.Agent` (plaintext) pinned to a PrivateLink endpoint (see {@link EndpointHttpAgent}). */
export function createEndpointHttpAgent(options: EndpointAgentOptions): EndpointHttpAgent {
  return new EndpointHttpAgent(options)
}
