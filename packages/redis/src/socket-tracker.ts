import type { Socket } from 'node:net'
import type { Connector } from '@privatelink/core'

interface Tracked {
  zone: string
  /** bytesWritten when the last reply bytes arrived: more written since means a command is outstanding. */
  writtenAtLastRead: number
  /** Closed by us (ejection, retirement, ioredis' disconnect): not a health signal. */
  ours: boolean
  /** Close once nothing is outstanding (its zone is no longer the preferred one). */
  retire: boolean
}

/**
 * Every socket the adapter handed to ioredis, by zone: tells zone health how each one ended
 * (`lost-in-flight` when a command was outstanding, `idle-close` otherwise), closes a zone's
 * sockets when it is ejected, and moves idle connections back to the own zone when it returns.
 */
export class SocketTracker {
  readonly #connector: Connector
  readonly #sockets = new Map<Socket, Tracked>()
  readonly #unsubscribe: () => void

  constructor(connector: Connector) {
    this.#connector = connector
    this.#unsubscribe = connector.onZoneChange((event) => {
      if (event.type === 'eject') {
        // In-flight commands are resent by ioredis on the new connection (autoResendUnfulfilledCommands).
        for (const [socket, tracked] of this.#sockets)
          if (tracked.zone === event.zone) this.#close(socket, tracked)
        return
      }
      const preferred = connector.preferredZones()[0]
      const key = preferred === undefined ? undefined : connector.zoneKey(preferred)
      if (key !== event.zone) return
      for (const [socket, tracked] of this.#sockets) {
        if (tracked.zone === key) continue
        tracked.retire = true
        if (!this.#outstanding(socket, tracked)) this.#close(socket, tracked)
      }
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
      retire: false,
    }
    this.#sockets.set(socket, tracked)
    let failed: Error | undefined
    socket.on('data', () => {
      tracked.writtenAtLastRead = socket.bytesWritten
      if (tracked.retire && !this.#outstanding(socket, tracked))
        setImmediate(() => {
          if (!this.#outstanding(socket, tracked)) this.#close(socket, tracked)
        })
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

  #outstanding(socket: Socket, tracked: Tracked): boolean {
    return (socket.bytesWritten ?? 0) > tracked.writtenAtLastRead
  }

  #close(socket: Socket, tracked: Tracked): void {
    tracked.ours = true
    socket.destroy()
  }
}
