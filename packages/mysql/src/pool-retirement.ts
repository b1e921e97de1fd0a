import type { Retirement } from '@privatelink/core'
import type { Pool, PoolConnection } from 'mysql2'
import { zoneRetiredChannel } from './diagnostics.js'
import type { EndpointStream } from './endpoint-stream.js'
import { connectionLostError } from './errors.js'

/**
 * How a pool's connections leave zones core retires. mysql2 hands the `stream` factory no handle
 * on the connection it builds, so a stream is matched to its PoolConnection on the pool's public
 * 'connection' event by the server's connection ID (its greeting's, mysql2's `threadId`).
 * Checked-out state comes from the public 'acquire' / 'release' events.
 */
export class PoolRetirement {
  readonly #proxyHost: string
  /** Streams opened and not yet matched to a connection. */
  readonly #unmatched = new Set<EndpointStream>()
  readonly #connectionOf = new WeakMap<EndpointStream, PoolConnection>()
  readonly #streamOf = new WeakMap<PoolConnection, EndpointStream>()
  /** Every stream open now, to say goodbye before the pool ends them. */
  readonly #open = new Set<EndpointStream>()

  constructor(pool: Pool, proxyHost: string) {
    this.#proxyHost = proxyHost
    pool.on('connection', (connection) => this.#match(connection))
    pool.on('acquire', (connection) => {
      const stream = this.#streamOf.get(connection)
      if (stream !== undefined) stream.checkedOut = true
    })
    pool.on('release', (connection) => {
      const stream = this.#streamOf.get(connection)
      if (stream === undefined) return
      stream.checkedOut = false
      // Released in a zone core retired while it was checked out: it leaves now.
      if (stream.leaving !== undefined) this.#close(stream, connection)
    })
  }

  /** Called by each new stream: remembered until its connection shows up. */
  opened(stream: EndpointStream): void {
    this.#unmatched.add(stream)
    this.#open.add(stream)
    // A new connection is checked out as soon as mysql2 hands it over ('acquire' follows 'connection').
    stream.checkedOut = true
    stream.once('close', () => {
      this.#unmatched.delete(stream)
      this.#open.delete(stream)
    })
  }

  /** The pool is ending: every connection's close is ours from here. */
  quitAll(): void {
    for (const stream of this.#open) stream.quit()
  }

  #match(connection: PoolConnection): void {
    for (const stream of this.#unmatched) {
      if (stream.connectionId !== connection.threadId) continue
      this.#unmatched.delete(stream)
      this.#connectionOf.set(stream, connection)
      this.#streamOf.set(connection, stream)
      return
    }
  }

  /** Core's verdict for one stream: idle ones leave through the pool now; busy ones later or now. */
  retire = (stream: EndpointStream, retirement: Retirement): void => {
    const connection = this.#connectionOf.get(stream)
    const idle = !stream.checkedOut && connection !== undefined
    if (zoneRetiredChannel.hasSubscribers)
      zoneRetiredChannel.publish({
        zone: retirement.event.zone ?? null,
        zones: retirement.event.zones,
        reason: retirement.reason,
        out: retirement.out,
        idle,
      })
    if (idle) {
      this.#close(stream, connection)
      return
    }
    // Checked out: a request waiting in a zone that is out gets a typed error now (nothing will
    // answer); otherwise the connection leaves when it is released.
    if (retirement.out && stream.outstanding)
      stream.abandon(
        connectionLostError(
          this.#proxyHost,
          stream.zone,
          Object.assign(new Error(`zone ${retirement.zone} left rotation (${retirement.reason})`), {
            code: 'ERR_ZONE_OUT',
          }),
          `zone ${retirement.zone} is out`,
        ),
      )
  }

  /** Closed through mysql2's pool (removed from it, then destroyed): not a failure of the zone. */
  #close(stream: EndpointStream, connection: PoolConnection | undefined): void {
    stream.release()
    if (connection === undefined) stream.destroy()
    else connection.destroy()
  }
}
