import { type Cluster, Redis, type RedisOptions } from 'ioredis'

type Mode = 'subscribe' | 'psubscribe' | 'ssubscribe'
const MODES: Mode[] = ['subscribe', 'psubscribe', 'ssubscribe']

/** What ioredis keeps of a connection's subscriptions (`condition`, `prevCondition` once closed). */
interface SubscriptionState {
  condition?: { subscriber?: { channels(mode: Mode): string[] } | false } | null
  prevCondition?: SubscriptionState['condition']
}

/** Events the subscriber connection forwards to the Cluster, as ioredis' own does. */
const FORWARDED = ['message', 'messageBuffer', 'pmessage', 'pmessageBuffer'] as const

const nodeKey = (redis: Redis) => `${redis.options.host}:${redis.options.port}`

/** ioredis 6.1's `subscriberNodeRole`: which nodes the subscriber may use. */
type NodeRole = 'all' | 'master' | 'slave'

/**
 * The Cluster's connection for SUBSCRIBE / PSUBSCRIBE, in place of ioredis' `ClusterSubscriber`.
 * Theirs opens `new Redis({ host, port, username, password, tls })` from a node's options and
 * drops the `Connector`, so it dialled the address the node announces, without TLS or AUTH. This
 * one is ioredis' logic (one connection to a random node, none of its own retries: a new node is
 * picked when it ends, and the channels are subscribed again) with the node's own options, so it
 * comes through the endpoint like every node connection: listener port, zone order, TLS against
 * servername, AUTH with a current token. Only the Cluster's public events and `nodes()` are used,
 * plus ioredis' record of a closed connection's channels, as its own subscriber reads it.
 * ioredis 6.1's `subscriberNodeRole` is honoured as there: with a role other than 'all', a
 * subscriber is picked after a slot refresh (`selectSubscriberIfNeeded`), not on `+node`.
 */
export class EndpointClusterSubscriber {
  readonly #cluster: Cluster
  readonly #onCreate: (redis: Redis) => void
  #started = false
  #subscriber: Redis | null = null
  #lastActive: Redis | undefined

  /** `onCreate` sees each subscriber connection (re-AUTH before ElastiCache's 12 hours). */
  constructor(cluster: Cluster, onCreate: (redis: Redis) => void) {
    this.#cluster = cluster
    this.#onCreate = onCreate
    cluster.on('-node', (redis: Redis) => {
      if (
        this.#started &&
        this.#subscriber !== null &&
        nodeKey(redis) === nodeKey(this.#subscriber)
      )
        this.#select()
    })
    cluster.on('+node', () => {
      // ioredis 6.1: "+node" can fire while the pool is half updated; a restricted role waits
      // for the refresh to end (selectSubscriberIfNeeded).
      if (this.#role() === 'all') this.selectSubscriberIfNeeded()
    })
  }

  /** ioredis 6.1 calls this after each slot refresh: a refresh can reclassify a node. */
  selectSubscriberIfNeeded(): void {
    if (this.#started && this.#subscriber === null) this.#select()
  }

  #role(): NodeRole {
    const role = (this.#cluster.options as { subscriberNodeRole?: unknown }).subscriberNodeRole
    return role === 'master' || role === 'slave' ? role : 'all'
  }

  /** The Cluster's ready handler calls this (every time it becomes ready). */
  start(): void {
    this.#started = true
    this.#select()
  }

  /** The Cluster's disconnect() and quit() call this. */
  stop(): void {
    this.#started = false
    this.#subscriber?.disconnect()
    this.#subscriber = null
  }

  isStarted(): boolean {
    return this.#started
  }

  /** The connection the Cluster sends (p)(un)subscribe commands to. */
  getInstance(): Redis | null {
    return this.#subscriber
  }

  /** Sharded subscribers only, in ioredis: a non-sharded one has no slot range. */
  associateSlotRange(_range: number[]): number[] {
    return []
  }

  readonly #onEnd = () => {
    if (this.#started) this.#select()
  }

  #select(): void {
    const previous = this.#lastActive
    for (const old of [previous, this.#subscriber]) {
      old?.off('end', this.#onEnd)
      old?.disconnect()
    }
    const nodes = this.#cluster.nodes(this.#role())
    const node = nodes[Math.floor(Math.random() * nodes.length)]
    if (node === undefined) {
      this.#subscriber = null
      return
    }
    const name = node.options.connectionName
    const subscriber = new Redis({
      // The node's options carry our Connector (and the announced host and port it maps).
      ...node.options,
      readOnly: false,
      enableReadyCheck: true,
      lazyConnect: true,
      connectionName: `ioredis-cluster(subscriber)${name ? `:${name}` : ''}`,
      // No reconnects of its own: on `end` another node is picked (it may be the same).
      retryStrategy: null,
      // ioredis 6.1: maintenance notifications are for standalone clients (as its own subscriber).
      // Not in 6.0's types (6.0 ignores it): passed without them so both versions compile.
      ...({ maintNotifications: 'disabled' } as RedisOptions),
    })
    this.#subscriber = subscriber
    subscriber.on('error', () => {})
    subscriber.on('moved', () => this.#cluster.emit('forceRefresh'))
    subscriber.once('end', this.#onEnd)
    for (const event of FORWARDED)
      subscriber.on(event, (...args: unknown[]) => this.#cluster.emit(event, ...args))
    this.#onCreate(subscriber)
    const state = previous as unknown as SubscriptionState | undefined
    const condition = state?.condition ?? state?.prevCondition
    const channels = condition?.subscriber ? condition.subscriber : undefined
    let pending = 0
    for (const mode of MODES) {
      const names = channels?.channels(mode) ?? []
      if (names.length === 0) continue
      // Sharded channels one by one: each may hash to another slot.
      for (const batch of mode === 'ssubscribe' ? names.map((one) => [one]) : [names]) {
        pending++
        subscriber[mode](...batch).then(
          () => {
            if (--pending === 0) this.#lastActive = subscriber
          },
          // As ioredis: the next `end` picks another node and tries again.
          () => {},
        )
      }
    }
    if (pending === 0) this.#lastActive = subscriber
  }
}
