import type { Socket } from 'node:net'
import type { Connector } from '@privatelink/core'
import { drain, type RedisConnection } from './drain.js'

interface Tracked {
  zone: string
  /** bytesWritten when the last reply bytes arrived: more written since means a command is outstanding. */
  writtenAtLastRead: number
  /** Closed by us (ejection, a drain, ioredis' disconnect): not a health signal. */
  ours: boolean
}

/**
 * Every socket the adapter handed to ioredis, by zone: tells zone health how each one ended
 * (`lost-in-flight` when a command was outstanding, `idle-close` otherwise), closes a zone's
 * sockets when it is ejected, and moves connections back to the preferred zone (the own zone)
 * when it is readmitted: each one elsewhere drains, so a busy client returns too.
 */
export class SocketTracker {
  readonly #connector: Connector
  readonly #connections: () => Iterable<RedisConnection>
  readonly #sockets = new Map<Socket, Tracked>()
  readonly #unsubscribe: () => void

  /** `connections`: the client's ioredis connections (one, or a Cluster's nodes), to drain. */
  constructor(connector: Connector, connections: () => Iterable<RedisConnection>) {
    this.#connector = connector
    this.#connections = connections
    this.#unsubscribe = connector.onZoneChange((event) => {
      if (event.type === 'eject') {
        // In-flight commands are resent by ioredis on the new connection (autoResendUnfulfilledCommands).
        for (const [socket, tracked] of this.#sockets)
          if (tracked.zone === event.zone) this.#close(socket, tracked)
        return
      }
      const preferred = connector.preferredZones()[0]
      if (preferred === undefined || connector.zoneKey(preferred) !== event.zone) return
      this.#leave(event.zone)
    })
  }

  get size(): number {
    return this.#sockets.size
  }

  /** Zone keys of the open sockets (tests and diagnostics). */
  zones(): string[] {
    return [...this.#sockets.values()].map((tracked) => tracked.zone)
  }

  track(socket: Socket): void {
    const zone = this.#connector.zoneOf(socket)
    if (zone === undefined) return
    const tracked: Tracked = {
      zone: this.#connector.zoneKey(zone),
      writtenAtLastRead: socket.bytesWritten,
      ours: false,
    }
    this.#sockets.set(socket, tracked)
    let failed: Error | undefined
    socket.on('data', () => {
      tracked.writtenAtLastRead = socket.bytesWritten
    })
    socket.once('error', (error) => {
      failed = error
    })
    socket.once('close', () => {
      this.#sockets.delete(socket)
      if (tracked.ours) return
      const outstanding = this.#outstanding(socket, tracked)
      const cause = (failed as { code?: string } | undefined)?.code ?? 'closed'
      this.#connector.report(tracked.zone, outstanding ? 'lost-in-flight' : 'idle-close', cause)
    })
  }

  /** ioredis is closing this socket itself (disconnect / quit). */
  release(socket: Socket | undefined): void {
    if (socket === undefined) return
    const tracked = this.#sockets.get(socket)
    if (tracked !== undefined) tracked.ours = true
  }

  close(): void {
    this.#unsubscribe()
  }

  /**
   * Every connection outside `zone` drains (drain.ts): under constant load there is no idle moment
   * to wait for, and closing a busy socket would resend what it had written.
   */
  #leave(zone: string): void {
    const owners = new Map<Socket, RedisConnection>()
    for (const connection of this.#connections())
      if (connection.stream !== undefined) owners.set(connection.stream, connection)
    for (const [socket, tracked] of this.#sockets) {
      if (tracked.zone === zone) continue
      const owner = owners.get(socket)
      if (owner !== undefined) drain(owner, () => this.#close(socket, tracked))
      // A connection we cannot see (ioredis' sharded subscribers are not among a Cluster's nodes)
      // cannot have its commands held back: it is closed while nothing is outstanding on it (it
      // carries subscriptions), and ioredis' subscriber group replaces it and resubscribes.
      else if (!this.#outstanding(socket, tracked)) this.#close(socket, tracked)
    }
  }

  #outstanding(socket: Socket, tracked: Tracked): boolean {
    return (socket.bytesWritten ?? 0) > tracked.writtenAtLastRead
  }

  #close(socket: Socket, tracked: Tracked): void {
    tracked.ours = true
    socket.destroy()
  }
}
