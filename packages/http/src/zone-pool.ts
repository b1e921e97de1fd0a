import type { Socket } from 'node:net'
import type { Connector, ConnectorTlsOptions, Retirement, SocketWatch } from '@privatelink/core'
import { Client, Dispatcher, errors } from 'undici'
import { zoneEjectedError } from './errors.js'
import { failHandler } from './fail-handler.js'
import { type AttemptConnection, type AttemptOptions, kZoneAttempt } from './zone-attempt.js'

type Handler = Dispatcher.DispatchHandler

/**
 * One connection: an undici Client used for exactly one socket. undici's Pool reconnects a Client
 * whose socket ended, and the new socket may land in another zone; a Client per socket keeps a
 * connection's zone fixed for its life, which picking by zone, ejecting exactly a zone's sockets
 * and counting per zone all rely on.
 */
export class Connection implements AttemptConnection {
  readonly client: Client
  /** Out of the pool: takes no new requests, finishes what it has. */
  retired = false
  /** Free for one more request (on the idle list). */
  free = false
  /** Its socket, once connected (the stall watch samples bytesRead). */
  socket: Socket | undefined
  /** The stall watch's last sample of bytesRead, and the ticks since it moved. */
  seenBytes = 0
  quietTicks = 0
  /** Core's watch of its socket: the zone, health reports, retirement. */
  #watch: SocketWatch | undefined
  #ours = false

  constructor(client: Client) {
    this.client = client
  }

  /** The zone key of its socket; undefined while connecting. */
  get zone(): string | undefined {
    return this.#watch?.zone
  }

  /** Requests handed to its Client and not finished (a socket that dies under one lost it). */
  get running(): number {
    return this.client.stats.size
  }

  /** Its socket is watched by core from now on (released at once when it is ours already). */
  watched(watch: SocketWatch, socket: Socket): void {
    this.#watch = watch
    this.socket = socket
    if (this.#ours) watch.release()
  }

  /**
   * The path may have forgotten its socket (core's `stale()`: idle past the path's timeout
   * without keep-alive, or across a freeze such as a thawed Lambda sandbox).
   */
  stale(): boolean {
    // (A watch from an older @privatelink/core has no stale().)
    return this.#watch?.stale?.() ?? false
  }

  /** We close it (ejection, upgrade, destroy): its end says nothing about the zone. */
  disown(): void {
    this.#ours = true
    this.#watch?.release()
  }
}

/** What the endpoint dispatcher gives each pool besides undici's Client options. */
export interface ZonePoolOptions extends Omit<Client.Options, 'connect'> {
  connector: Connector
  /** Open connections at most (per origin, all zones together). @default unlimited */
  connections?: number | null
  tlsFor: (connectOptions: { hostname: string; servername?: string | null }) => ConnectorTlsOptions
  /** A request went out on a connection (the dispatcher's stall watch starts). */
  sent: () => void
  /** The pool closed or was destroyed: it holds no connection any more. */
  gone: (pool: ZonePool) => void
}

interface Queued {
  options: Dispatcher.DispatchOptions
  handler: Handler
}

const noop = () => {}

/**
 * The connections to one origin, grouped by the zone their socket really landed in: an undici
 * Dispatcher that an Agent's `factory` creates per origin. New connections come from the
 * connector's race (own zone first, another zone when it is slow), so a connection's zone is read
 * from its socket, never assumed. A request goes to a free connection in the most preferred zone
 * its earlier attempts have not tried (`kZoneAttempt`). Ejecting a zone destroys exactly its
 * connections; readmitting one retires the connections in less preferred zones.
 */
export class ZonePool extends Dispatcher {
  readonly #origin: URL
  readonly #options: ZonePoolOptions
  readonly #client: Client.Options
  /** Connections that take requests. */
  readonly #open = new Set<Connection>()
  /** Connections with a live socket, retired or not: the zone accounting. */
  readonly #live = new Set<Connection>()
  /** Free connections per zone key, most recently used last. */
  readonly #idle = new Map<string, Connection[]>()
  readonly #queue: Queued[] = []
  #needDrain = false
  #closed = false
  #destroyed = false
  #closing: (() => void) | undefined
  #ranked: { from: readonly unknown[]; keys: string[] } | undefined

  constructor(origin: string | URL, options: ZonePoolOptions) {
    super()
    this.#origin = new URL(String(origin))
    this.#options = options
    const { connector: _c, connections: _n, tlsFor: _t, sent: _s, gone: _g, ...client } = options
    // The Agent passes its own settings too: only undici's Client options go on.
    delete (client as { maxOrigins?: unknown }).maxOrigins
    this.#client = client
  }

  get closed(): boolean {
    return this.#closed
  }

  get destroyed(): boolean {
    return this.#destroyed
  }

  /** Hands the request to a free connection in the most preferred zone not tried yet; false when it had to queue. */
  override dispatch(options: Dispatcher.DispatchOptions, handler: Handler): boolean {
    if (this.#closed) {
      failHandler(
        handler,
        this.#destroyed ? new errors.ClientDestroyedError() : new errors.ClientClosedError(),
      )
      return false
    }
    const connection = this.#pick((options as AttemptOptions)[kZoneAttempt]?.tried)
    if (connection === undefined) {
      this.#queue.push({ options, handler })
      this.#needDrain = true
      return false
    }
    this.#send(connection, options, handler)
    return true
  }

  /** Zone key -> open sockets, from the sockets themselves. */
  connectionsPerZone(into: Record<string, number>): void {
    for (const connection of this.#live) {
      const zone = connection.zone ?? 'connecting'
      into[zone] = (into[zone] ?? 0) + 1
    }
  }

  /** Connections with a live socket (the stall watch's sample). */
  live(): Iterable<Connection> {
    return this.#live
  }

  /** Takes no new requests; serves the queued ones, then closes every connection. The Agent calls it. */
  override async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#queue.length > 0) await new Promise<void>((resolve) => (this.#closing = resolve))
    const all = [...this.#open]
    for (const connection of all) this.#retire(connection)
    await Promise.all(all.map((connection) => connection.client.close().catch(noop)))
    this.#options.gone(this)
  }

  /** Fails the queued requests and those in flight with `error`, and destroys every connection. The Agent calls it. */
  override async destroy(error?: Error | null | (() => void)): Promise<void> {
    if (this.#destroyed || typeof error === 'function') return
    this.#closed = true
    this.#destroyed = true
    const reason = error ?? new errors.ClientDestroyedError()
    for (const item of this.#queue.splice(0)) failHandler(item.handler, reason)
    this.#closing?.()
    const all = new Set([...this.#open, ...this.#live])
    for (const connection of all) {
      connection.disown()
      this.#retire(connection)
    }
    await Promise.all([...all].map((connection) => connection.client.destroy(reason).catch(noop)))
    this.#options.gone(this)
  }

  #keys(): string[] {
    const zones = this.#options.connector.preferredZones()
    if (this.#ranked?.from !== zones) {
      const connector = this.#options.connector
      this.#ranked = { from: zones, keys: zones.map((zone) => connector.zoneKey(zone)) }
    }
    return this.#ranked.keys
  }

  #pick(tried: ReadonlySet<string> | undefined): Connection | undefined {
    const keys = this.#keys()
    let avoided: Connection[] | undefined
    for (const key of keys) {
      const idle = this.#idle.get(key)
      if (idle === undefined || idle.length === 0) continue
      if (tried?.has(key)) {
        avoided ??= idle
        continue
      }
      const connection = this.#freshIdle(idle)
      if (connection !== undefined) return this.#take(connection)
    }
    const limit = this.#options.connections
    if (limit == null || this.#open.size < limit) {
      // A retry asks the race to start in a zone it has not tried; a first attempt takes the connector's order.
      return this.#connect(
        tried === undefined || tried.size === 0 ? undefined : keys.find((key) => !tried.has(key)),
      )
    }
    const fallback = avoided?.pop()
    return fallback === undefined ? undefined : this.#take(fallback)
  }

  /**
   * The most recently used free connection of a zone that the path has not forgotten; those it
   * may have forgotten leave unused, so a request never meets their reset (or silence).
   */
  #freshIdle(idle: Connection[]): Connection | undefined {
    for (let connection = idle.pop(); connection !== undefined; connection = idle.pop()) {
      if (!connection.stale()) return connection
      connection.free = false
      this.#retire(connection)
      connection.disown()
      connection.client.destroy().catch(noop)
    }
    return undefined
  }

  #take(connection: Connection): Connection {
    connection.free = false
    return connection
  }

  #send(connection: Connection, options: Dispatcher.DispatchOptions, handler: Handler): void {
    const attempt = (options as AttemptOptions)[kZoneAttempt]
    if (attempt !== undefined) attempt.connection = connection
    this.#options.sent()
    if (connection.client.dispatch(options, handler)) this.#release(connection)
  }

  // Back on the idle list, or straight to the next queued request.
  #release(connection: Connection): void {
    if (connection.retired || connection.free) return
    const next = this.#queue.shift()
    if (next !== undefined) {
      this.#send(connection, next.options, next.handler)
      return
    }
    if (connection.zone === undefined) return
    connection.free = true
    const idle = this.#idle.get(connection.zone)
    if (idle === undefined) this.#idle.set(connection.zone, [connection])
    else idle.push(connection)
    if (this.#needDrain) {
      this.#needDrain = false
      // undici's types give 'drain' only the origin; its pools pass the targets too, as here.
      ;(this.emit as (event: string, ...args: unknown[]) => boolean).call(
        this,
        'drain',
        this.#origin,
        [this],
      )
    }
    if (this.#closing !== undefined && this.#queue.length === 0) {
      this.#closing()
      this.#closing = undefined
    }
  }

  #retire(connection: Connection): void {
    if (connection.retired) return
    connection.retired = true
    this.#open.delete(connection)
    if (connection.free && connection.zone !== undefined) {
      const idle = this.#idle.get(connection.zone)
      const index = idle?.indexOf(connection) ?? -1
      if (index !== -1) idle?.splice(index, 1)
    }
    connection.free = false
  }

  #connect(preferZone: string | undefined): Connection {
    const { connector } = this.#options
    const client: Client = new Client(this.#origin, {
      ...this.#client,
      connect: (connectOptions, callback) => {
        const secure = connectOptions.protocol === 'https:'
        connector
          .connect({
            port: Number(connectOptions.port) || (secure ? 443 : 80),
            ...(preferZone !== undefined ? { preferZone } : {}),
            tls: secure ? this.#options.tlsFor(connectOptions) : false,
          })
          .then(
            (socket) => {
              try {
                this.#watch(connection, socket)
              } catch (error) {
                socket.destroy()
                callback(error as Error, null)
                return
              }
              callback(null, socket)
            },
            (error: Error) => callback(error, null),
          )
      },
    })
    const connection = new Connection(client)
    // As undici's Pool: events carry the pool, then the client.
    client.on('connect', (origin, targets) => this.emit('connect', origin, [this, ...targets]))
    client.on('disconnect', (origin, targets, error) => {
      // One socket per client: a client whose socket ended leaves the pool (a reconnect could land in another zone).
      this.#retire(connection)
      client.close().catch(noop)
      this.emit('disconnect', origin, [this, ...targets], error)
    })
    client.on('connectionError', (origin, targets, error) => {
      this.#retire(connection)
      client.close().catch(noop)
      this.emit('connectionError', origin, [this, ...targets], error)
    })
    client.on('drain', () => this.#release(connection))
    this.#open.add(connection)
    return connection
  }

  // Before undici sees the socket, so core's close listener runs first: `running` still counts
  // the request a dying socket carried.
  #watch(connection: Connection, socket: Socket): void {
    const watch = this.#options.connector.watch(socket, {
      busy: () => connection.running > 0,
      // undici closed it itself (the caller aborted, idle timeout): nothing about the zone.
      ownClose: (error) => (error as { code?: unknown }).code === 'UND_ERR_INFO',
      retire: (retirement) => this.#leave(connection, retirement),
    })
    connection.watched(watch, socket)
    this.#live.add(connection)
    socket.once('close', () => this.#live.delete(connection))
  }

  // Core retires the zone: out of rotation, the connection is destroyed now (idempotent requests
  // on it are retried elsewhere); else it finishes its requests and closes, so traffic returns
  // to the better zone.
  #leave(connection: Connection, retirement: Retirement): void {
    this.#retire(connection)
    if (!retirement.out) {
      connection.client.close().catch(noop)
      return
    }
    connection.disown()
    connection.client.destroy(zoneEjectedError(retirement.zone)).catch(noop)
  }
}
