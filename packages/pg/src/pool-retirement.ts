import type { RetireEvent, Retirement } from '@privatelink/core'
import type pg from 'pg'
import { zoneRetiredChannel } from './diagnostics.js'
import { connectionLostError, pathIdleClosedError, zoneEjectedError } from './errors.js'
import { removeIdle } from './pg-pool-internals.js'
import type { PrivateLinkClient } from './private-link-client.js'
import { RETIRED_WHY, zoneRetiredError } from './zone-retired-error.js'

/**
 * A busy connection in an ejected zone is closed only once its query has gone this long without
 * a byte: in a zone that refuses new connections, open ones may still work (a listener change),
 * and a query making progress there is left to finish.
 */
const STALL_MS = 2_000
/** Every client of the pool is one (it is the pool's `Client`). */
const ours = (client: pg.PoolClient) => client as unknown as PrivateLinkClient
const SWEEP_MS = 250

/**
 * How a pool's clients leave zones core retires (core decides which zones and when; this only
 * says how a pooled connection goes):
 * - idle (not checked out, nothing in flight): at once, through pg-pool's own idle-error path
 *   (`ERR_PG_ZONE_EJECTED`, swallowed by the pool), before any checkout can pick it;
 * - checked out: when released, when the zone was only outranked (`out: false`, the own zone
 *   readmitted). When its zone is out (ejected, or its target failed over): a query in flight is
 *   left to finish unless it stalls for STALL_MS (then ERR_PG_CONNECTION_LOST, a frozen path);
 *   a client held with nothing in flight (LISTEN, a transaction between statements, a cursor
 *   between reads) is closed with ERR_PG_ZONE_RETIRED, on the client and on the pool, as soon
 *   as it is seen so: never left `connected` while its notifications stop.
 * Without a pool (createClient), the one client is held all its life.
 */
export class PoolRetirement {
  /** Checked-out clients to close when released. */
  readonly #leaving = new Set<PrivateLinkClient>()
  /** Checked-out clients in zones that are out, closed if their query stalls. */
  readonly #suspects = new Set<PrivateLinkClient>()
  /** Clients retired per retire event, published once the event's retirements are done. */
  readonly #counts = new Map<RetireEvent, number>()
  #sweep: NodeJS.Timeout | undefined
  /** Idle clients closed after a freeze because the path may have forgotten them. */
  pathIdleClosed = 0

  readonly #pool: pg.Pool | undefined

  constructor(pool?: pg.Pool) {
    this.#pool = pool
    if (pool === undefined) return
    // Always on: ~20 ns per query (see pg-pool-internals.ts), and no private field read.
    pool.on('acquire', (client) => {
      ours(client).checkedOut = true
    })
    pool.on('release', (error: unknown, client) => this.#released(error, ours(client)))
    pool.on('remove', (client) => this.#forget(ours(client)))
  }

  /** Core retired this client's zone: the socket's `retire` callback. */
  retire(client: PrivateLinkClient, { out, busy, zone, event }: Retirement): void {
    this.#count(event)
    if (!busy && !client.checkedOut) {
      if (event.reason === 'idle') this.pathIdleClosed++
      this.#closeIdle(client, zone, out, event.reason === 'idle')
      return
    }
    // It leaves at its release (private-link-client.ts), or from the idle list if it got there.
    client.leaving = out ? 'out' : 'drain'
    client.leavingReason = RETIRED_WHY[event.reason]
    this.#leaving.add(client)
    if (!out) return
    this.#suspects.add(client)
    if (this.#sweep === undefined) {
      this.#sweep = setInterval(() => this.#checkSuspects(), SWEEP_MS)
      this.#sweep.unref()
    }
    // Its query may have stalled long before the zone was ejected (a blackhole found by checks).
    this.#checkSuspects()
  }

  stop(): void {
    clearInterval(this.#sweep)
    this.#sweep = undefined
  }

  #released(error: unknown, client: PrivateLinkClient): void {
    client.checkedOut = false
    if (this.#leaving.size === 0 || !this.#leaving.has(client)) return
    this.#suspects.delete(client)
    // Released with an error (a leaving client's release says `true`): pg-pool removes it.
    if (error !== undefined && error !== null && error !== false) return
    // Released through a release we did not wrap: close it once pg-pool filed it idle.
    queueMicrotask(() => {
      if (!client.checkedOut && this.#leaving.has(client))
        this.#closeIdle(client, client.stream.zone ?? 'unknown', client.leaving === 'out')
    })
  }

  #closeIdle(client: PrivateLinkClient, zone: string, out: boolean, pathIdle = false): void {
    this.#forget(client)
    client.stream.release()
    const { servername } = client.stream
    removeIdle(
      client,
      pathIdle ? pathIdleClosedError(servername, zone) : zoneEjectedError(servername, zone),
    )
    // pg-pool ends it gracefully (Terminate); in a zone that is out, nothing would answer.
    if (out) client.stream.destroy()
  }

  #checkSuspects(): void {
    for (const client of this.#suspects) {
      const { stream } = client
      if (!client.checkedOut && !stream.outstanding) {
        this.#suspects.delete(client)
        continue
      }
      if (!stream.outstanding) {
        this.#closeHeld(client)
        continue
      }
      if (stream.stalledFor() >= STALL_MS) {
        this.#forget(client)
        const zone = stream.zone ?? 'unknown'
        stream.abandon(
          connectionLostError(
            stream.servername,
            zone,
            undefined,
            `zone ${zone} ejected and the query stalled`,
          ),
        )
      }
    }
    if (this.#suspects.size === 0) this.stop()
  }

  /** A held client in a zone that is out: closed with a typed error its holder hears. */
  #closeHeld(client: PrivateLinkClient): void {
    this.#forget(client)
    const { stream } = client
    const zone = stream.zone ?? 'unknown'
    const error = zoneRetiredError(stream.servername, zone, client.leavingReason ?? 'ejected')
    // The client's 'error' (pg emits what its stream fails with), then the pool's, when someone
    // listens there besides the pool's own listener (a held client is the user's to watch).
    stream.abandon(error)
    const pool = this.#pool
    if (pool !== undefined && pool.listenerCount('error') > 1) pool.emit('error', error, client)
  }

  #forget(client: PrivateLinkClient): void {
    this.#leaving.delete(client)
    this.#suspects.delete(client)
  }

  /** One `privatelink:pg:zone-retired` message per retire event, with this pool's count. */
  #count(event: RetireEvent): void {
    const count = this.#counts.get(event)
    this.#counts.set(event, (count ?? 0) + 1)
    if (count !== undefined) return
    // Core retires every socket of an event synchronously: publish once they are all done.
    queueMicrotask(() => {
      const clients = this.#counts.get(event) ?? 0
      this.#counts.delete(event)
      if (zoneRetiredChannel.hasSubscribers)
        zoneRetiredChannel.publish({
          zone: event.zone ?? null,
          zones: event.zones,
          clients,
          reason: event.reason,
        })
    })
  }
}
