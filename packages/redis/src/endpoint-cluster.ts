import {
  Cluster,
  type ClusterNode,
  type ClusterOptions,
  type Command,
  type Pipeline,
  type Redis,
} from 'ioredis'
import { EndpointClusterSubscriber } from './cluster-subscriber.js'
import { clusterDuplicateError, shardedPubSubOffError, unsupportedClusterError } from './errors.js'

/** What the Cluster needs from createRedisCluster. */
export interface EndpointClusterHooks {
  /** Whether an announced address maps to a listener now (natMap, startup nodes, discovered). */
  knows(host: string, port: number): boolean
  /** Maps it, discovering when needed; rejects with ERR_REDIS_UNMAPPED_NODE. */
  resolve(host: string, port: number): Promise<unknown>
  /** Each subscriber connection, sharded ones included (re-AUTH). */
  onSubscriber(redis: Redis): void
  /** Another createRedisCluster with the same options, these merged in. */
  duplicate(overrideOptions: ClusterOptions): Cluster
}

/** `MOVED 3999 host:port` / `ASK 3999 host:port`. */
const REDIRECT = /^(?:MOVED|ASK) \d+ (.*):(\d+)$/

type Handlers = { maxRedirections(error: Error): void; defaults(): void }

/** Redirection budget ioredis passes to handleError; a pipeline's is its `leftRedirections`. */
type RedirectionBudget = { value?: unknown }

/** What a pipeline (or MULTI) exposes that settles it: ioredis' typed, public fields. */
type Settleable = Pick<Pipeline, 'leftRedirections' | 'reject'>

/** ioredis' ClusterSubscriberGroup, as far as it is read here (5.8 to 6.1 alike). */
interface ShardedSubscriberGroup {
  shardedSubscribers?: unknown
}

/**
 * ioredis' Cluster with the places where it would leave the endpoint, or fail untyped, closed. Everything here
 * works around what ioredis offers no seam for; it stays in this one file.
 * - Pub/sub: ioredis' `ClusterSubscriber` drops the node's Connector (see cluster-subscriber.ts).
 *   It is replaced at construction; an ioredis whose Cluster has no such subscriber to replace is
 *   refused rather than left to dial announced addresses.
 * - Redirections: a MOVED or ASK to an address no listener leads to would make ioredis open a node
 *   connection that can only fail, and for ASK send `ASKING` on it with nobody waiting for the
 *   reply: an unhandled rejection per redirection (plain ioredis does the same), then
 *   "Too many Cluster redirections". Such a command fails with ERR_REDIS_UNMAPPED_NODE instead.
 *   Whether an address maps can take a discovery, so that answer comes later; a single command
 *   is then settled through ioredis' handlers, but a pipeline (MULTI/EXEC and auto-pipelining
 *   included) reads them only while handleError runs and would stay pending for good. Each
 *   pipeline is therefore given its redirection budget here, by which handleError knows it, and
 *   is rejected itself when the answer is a refusal.
 * - duplicate(): ioredis' builds a plain Cluster (with ioredis' subscriber); this one builds
 *   another createRedisCluster with the same options.
 * - Sharded subscribers: ioredis makes one connection per shard (through the node's Connector,
 *   so through the endpoint) but hands them to nobody: `+subscriber` carries no connection. They
 *   are read from its subscriber group on that event, so each is re-authenticated before
 *   ElastiCache's 12 hours like every other connection; an ioredis whose group cannot be read is
 *   refused when `shardedSubscribers` is on.
 * - SSUBSCRIBE without `shardedSubscribers`: ioredis sends it on the one subscriber connection,
 *   whose node rarely owns the slot (MOVED until "Too many Cluster redirections") and whose
 *   `smessage` events it never forwards. It is refused at the call with a typed error.
 */
export class EndpointCluster extends Cluster {
  readonly #hooks: EndpointClusterHooks

  constructor(startupNodes: ClusterNode[], options: ClusterOptions, hooks: EndpointClusterHooks) {
    // ioredis 6 types the options by reply mapping; ours pass through whatever the user chose.
    super(startupNodes, options as never)
    this.#hooks = hooks
    const self = this as unknown as { subscriber?: Partial<EndpointClusterSubscriber> }
    const theirs = self.subscriber
    if (
      typeof theirs?.start !== 'function' ||
      typeof theirs.stop !== 'function' ||
      typeof theirs.getInstance !== 'function'
    ) {
      this.disconnect()
      throw unsupportedClusterError()
    }
    // Replaced before the Cluster is first ready, which is when it starts its subscriber.
    self.subscriber = new EndpointClusterSubscriber(this, hooks.onSubscriber)
    if (this.options.shardedSubscribers) {
      if (this.#shardedConnections() === undefined) {
        this.disconnect()
        throw unsupportedClusterError(true)
      }
      const adopted = new WeakSet<Redis>()
      // Emitted as each sharded subscriber is made and started, before it connects.
      const adopt = () => {
        for (const redis of this.#shardedConnections() ?? []) {
          if (adopted.has(redis)) continue
          adopted.add(redis)
          hooks.onSubscriber(redis)
        }
      }
      this.on('+subscriber', adopt)
      this.on('subscribersReady', adopt)
    }
  }

  /**
   * The sharded subscriber connections ioredis has now, or undefined when its subscriber group
   * cannot be read. ioredis has no public accessor for them: its `shardedSubscribers` group and
   * that group's map of `ShardedSubscriber`s (each with a public `getInstance()`) are read here
   * only.
   */
  #shardedConnections(): Redis[] | undefined {
    const group = (this as unknown as { shardedSubscribers?: ShardedSubscriberGroup })
      .shardedSubscribers
    const subscribers = group?.shardedSubscribers
    if (!(subscribers instanceof Map)) return undefined
    const connections: Redis[] = []
    for (const subscriber of subscribers.values()) {
      const instance = (subscriber as { getInstance?: () => Redis | null }).getInstance?.()
      if (instance !== null && instance !== undefined) connections.push(instance)
    }
    return connections
  }

  /** Pipelines by their redirection budget object (the one thing handleError is given of them). */
  readonly #pipelines = new WeakMap<object, Settleable>()

  /** @ignore ioredis' handler for MOVED / ASK / TRYAGAIN... replies. */
  override handleError(error: Error, ttl: RedirectionBudget, handlers: Handlers): void {
    const redirect = REDIRECT.exec(typeof error?.message === 'string' ? error.message : '')
    const host = redirect?.[1] ?? ''
    const port = Number(redirect?.[2])
    if (redirect === null || this.#hooks.knows(host, port)) {
      super.handleError(error, ttl, handlers)
      return
    }
    const pipeline = this.#pipelines.get(ttl)
    // A pipeline ioredis made without pipeline() or multi() (none in 5 or 6): refused now, as
    // ioredis' own refusals are, rather than left pending. Its results carry the redirection.
    if (pipeline === undefined && !(error instanceof Error)) {
      handlers.defaults()
      return
    }
    // After the handler returned, a pipeline no longer listens to maxRedirections or defaults:
    // those settle it directly.
    const late: Handlers =
      pipeline === undefined
        ? handlers
        : {
            ...handlers,
            maxRedirections: (reason) => pipeline.reject(reason),
            defaults: () => pipeline.reject(new Error(String(error.message))),
          }
    this.#hooks.resolve(host, port).then(
      () => {
        try {
          super.handleError(error, ttl, late)
        } catch {
          late.defaults()
        }
      },
      // The command ends with the typed error: ioredis' handler rejects it with what it is given.
      (unmapped: Error) => {
        try {
          late.maxRedirections(unmapped)
        } catch {
          // Already settled: nothing is left waiting.
        }
      },
    )
  }

  /** Gives a pipeline its redirection budget up front, so handleError can tell it apart. */
  #track<T>(made: T): T {
    const pipeline = made as Partial<Settleable> & { isPipeline?: unknown }
    if (pipeline?.isPipeline === true && typeof pipeline.reject === 'function') {
      // ioredis creates `{}` on the first redirection unless one is there.
      pipeline.leftRedirections ??= {}
      this.#pipelines.set(pipeline.leftRedirections, pipeline as Settleable)
    }
    return made
  }

  /** @ignore ioredis' pipeline(), tracked (see handleError). */
  override pipeline(...args: Parameters<Cluster['pipeline']>): ReturnType<Cluster['pipeline']> {
    return this.#track(super.pipeline(...args))
  }

  /** @ignore ioredis' multi(), tracked when it makes a pipeline (see handleError). */
  override multi(options: { pipeline: false }): Promise<'OK'>
  override multi(): ReturnType<Cluster['pipeline']>
  override multi(options: { pipeline: true }): ReturnType<Cluster['pipeline']>
  override multi(commands?: unknown[][]): ReturnType<Cluster['pipeline']>
  override multi(...args: unknown[]): unknown {
    return this.#track((super.multi as (...all: unknown[]) => unknown).apply(this, args))
  }

  /** @ignore Every command goes through here; SSUBSCRIBE needs `shardedSubscribers: true`. */
  override sendCommand(command: Command, stream?: unknown, node?: unknown): unknown {
    if (!this.options.shardedSubscribers && command.name.toLowerCase() === 'ssubscribe') {
      command.reject(shardedPubSubOffError())
      return command.promise
    }
    return super.sendCommand(command, stream as never, node)
  }

  /**
   * Another client with the same options (and `overrideOptions`), through the same endpoint, pub/sub
   * included. Other startup nodes are refused: the listeners are this client's `nodes`.
   */
  override duplicate(overrideStartupNodes: ClusterNode[] = [], overrideOptions?: ClusterOptions) {
    if (overrideStartupNodes.length > 0) throw clusterDuplicateError()
    return this.#hooks.duplicate(overrideOptions ?? {}) as ReturnType<Cluster['duplicate']>
  }
}
