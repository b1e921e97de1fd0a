import type { Socket } from 'node:net'
import type { Connector, ConnectorTlsOptions } from '@privatelink/core'
import { Client, type Dispatcher } from 'undici'
import { zoneEjectedError } from './errors.js'

/** One connection: an undici Client used for exactly one socket, so its zone never changes under it. */
export interface Connection {
  readonly client: Client
  /** The zone key of its socket; undefined while connecting. */
  zone: string | undefined
  /** Requests handed to it and not finished (the health signal of a socket that dies). */
  running: number
  /** Out of the pool: takes no new requests, finishes what it has. */
  retired: boolean
  /** We closed it (ejection, upgrade): its end says nothing about the zone. */
  ours: boolean
  /** Free for one more request (on the idle list). */
  free: boolean
  /** Its socket, once connected (the stall watch samples bytesRead). */
  socket: Socket | undefined
  /** The stall watch's last sample of bytesRead, and the ticks since it moved. */
  seenBytes: number
  quietTicks: number
}

/** What the pool needs from a request's handler: where its current attempt runs. */
export interface Attempt {
  connection: Connection | undefined
}

type AttemptHandler = Dispatcher.DispatchHandler & Attempt

export interface OriginPoolOptions {
  connector: Connector
  client: Omit<Client.Options, 'connect'>
  /** Open connections at most (per origin). @default unlimited */
  connections: number | undefined
  tls: (connectOptions: { hostname: string; servername?: string | null }) => ConnectorTlsOptions
  /** Forwards client events as undici's Pool does: `targets` starts with the client. */
  emit: (event: string, origin: URL, targets: readonly Dispatcher[], error?: Error) => void
  /** A request went out on a connection (the dispatcher's stall watch starts). */
  sent: () => void
}

interface Queued {
  options: Dispatcher.DispatchOptions
  handler: AttemptHandler
}

const noop = () => {}

/**
 * The connections to one origin, grouped by the zone their socket really landed in. New
 * connections come from the connector's race (own zone first, another zone when it is slow), so
 * a connection's zone is read from its socket, never assumed. Ejecting a zone destroys exactly
 * its connections; readmitting one retires the connections in less preferred zones.
 */
export class OriginPool {
  readonly #origin: string
  readonly #options: OriginPoolOptions
  /** Connections that take requests. */
  readonly #open = new Set<Connection>()
  /** Connections with a live socket, retired or not: the zone accounting. */
  readonly #live = new Set<Connection>()
  /** Free connections per zone key, most recently used last. */
  readonly #idle = new Map<string, Connection[]>()
  readonly #queue: Queued[] = []
  #needDrain = false
  #closing: (() => void) | undefined
  #ranked: { from: readonly unknown[]; keys: string[] } | undefined

  constructor(origin: string, options: OriginPoolOptions) {
    this.#origin = origin
    this.#options = options
  }

  /** Hands the request to a free connection in the most preferred zone not in `avoid`; false when it had to queue. */
  dispatch(
    options: Dispatcher.DispatchOptions,
    handler: AttemptHandler,
    avoid: ReadonlySet<string> | undefined,
  ): boolean {
    const connection = this.#pick(avoid)
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

  /** Destroys every connection in the zone; their idempotent requests are retried elsewhere. */
  eject(zone: string): void {
    for (const connection of [...this.#open, ...this.#live]) {
      if (connection.zone !== zone) continue
      connection.ours = true
      this.#retire(connection)
      connection.client.destroy(zoneEjectedError(zone)).catch(noop)
    }
  }

  /** Gracefully closes connections in zones less preferred than `zone`, so traffic returns to it. */
  retireBelow(zone: string): void {
    const keys = this.#keys()
    const rank = keys.indexOf(zone)
    if (rank === -1) return
    for (const connection of this.#open) {
      if (connection.zone === undefined) continue
      const own = keys.indexOf(connection.zone)
      if (own === -1 || own > rank) {
        this.#retire(connection)
        connection.client.close().catch(noop)
      }
    }
  }

  /** Connections with a live socket (the stall watch's sample). */
  live(): Iterable<Connection> {
    return this.#live
  }

  /** Waits for queued and running requests, then closes every connection. */
  async close(): Promise<void> {
    if (this.#queue.length > 0) await new Promise<void>((resolve) => (this.#closing = resolve))
    const all = [...this.#open]
    for (const connection of all) this.#retire(connection)
    await Promise.all(all.map((connection) => connection.client.close().catch(noop)))
  }

  async destroy(error: Error): Promise<void> {
    for (const item of this.#queue.splice(0)) item.handler.onError?.(error)
    const all = new Set([...this.#open, ...this.#live])
    for (const connection of all) {
      connection.ours = true
      this.#retire(connection)
    }
    await Promise.all([...all].map((connection) => connection.client.destroy(error).catch(noop)))
  }

  #keys(): string[] {
    const zones = this.#options.connector.preferredZones()
    if (this.#ranked?.from !== zones) {
      const connector = this.#options.connector
      this.#ranked = { from: zones, keys: zones.map((zone) => connector.zoneKey(zone)) }
    }
    return this.#ranked.keys
  }

  #pick(avoid: ReadonlySet<string> | undefined): Connection | undefined {
    const keys = this.#keys()
    let avoided: Connection[] | undefined
    for (const key of keys) {
      const idle = this.#idle.get(key)
      if (idle === undefined || idle.length === 0) continue
      if (avoid?.has(key)) {
        avoided ??= idle
        continue
      }
      return this.#take(idle.pop()!)
    }
    const limit = this.#options.connections
    if (limit === undefined || this.#open.size < limit) {
      // A retry asks the race to start in a zone it has not tried; a first attempt takes the connector's order.
      return this.#connect(
        avoid === undefined || avoid.size === 0 ? undefined : keys.find((key) => !avoid.has(key)),
      )
    }
    const fallback = avoided?.pop()
    return fallback === undefined ? undefined : this.#take(fallback)
  }

  #take(connection: Connection): Connection {
    connection.free = false
    return connection
  }

  #send(
    connection: Connection,
    options: Dispatcher.DispatchOptions,
    handler: AttemptHandler,
  ): void {
    handler.connection = connection
    connection.running++
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
      this.#options.emit('drain', new URL(this.#origin), [])
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
      if (index !== -1) idle!.splice(index, 1)
    }
    connection.free = false
  }

  #connect(preferZone: string | undefined): Connection {
    const { connector, emit } = this.#options
    const connection: Connection = {
      client: undefined as unknown as Client,
      zone: undefined,
      running: 0,
      retired: false,
      ours: false,
      free: false,
      socket: undefined,
      seenBytes: 0,
      quietTicks: 0,
    }
    const client = new Client(this.#origin, {
      ...this.#options.client,
      connect: (connectOptions, callback) => {
        const secure = connectOptions.protocol === 'https:'
        connector
          .connect({
            port: Number(connectOptions.port) || (secure ? 443 : 80),
            ...(preferZone !== undefined ? { preferZone } : {}),
            tls: secure ? this.#options.tls(connectOptions) : false,
          })
          .then(
            (socket) => {
              const zone = connector.zoneOf(socket)
              connection.zone = zone === undefined ? undefined : connector.zoneKey(zone)
              this.#watch(connection, socket)
              callback(null, socket)
            },
            (error: Error) => callback(error, null),
          )
      },
    })
    ;(connection as { client: Client }).client = client
    client.on('connect', (origin, targets) => emit('connect', origin, targets))
    client.on('disconnect', (origin, targets, error) => {
      // One socket per client: a client whose socket ended leaves the pool (a reconnect could land in another zone).
      this.#retire(connection)
      client.close().catch(noop)
      emit('disconnect', origin, targets, error)
    })
    client.on('connectionError', (origin, targets, error) => {
      this.#retire(connection)
      client.close().catch(noop)
      emit('connectionError', origin, targets, error)
    })
    client.on('drain', () => this.#release(connection))
    this.#open.add(connection)
    return connection
  }

  // Our listeners run before undici's (added first): `running` still counts the request a dying socket carried.
  #watch(connection: Connection, socket: Socket): void {
    this.#live.add(connection)
    connection.socket = socket
    let code: string | undefined
    socket.on('error', (error: NodeJS.ErrnoException) => {
      code ??= String(error.code ?? error.name)
    })
    socket.once('close', () => {
      this.#live.delete(connection)
      const zone = connection.zone
      // UND_ERR_INFO: undici closed it itself (the caller aborted, idle timeout): nothing about the zone.
      if (connection.ours || zone === undefined || code === 'UND_ERR_INFO') return
      this.#options.connector.report(
        zone,
        connection.running > 0 ? 'lost-in-flight' : 'idle-close',
        code ?? 'closed',
      )
    })
  }
}
