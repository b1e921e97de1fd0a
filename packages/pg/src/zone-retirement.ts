import type { Connector } from '@privatelink/core'
import type pg from 'pg'
import { zoneRetiredChannel } from './diagnostics.js'
import { EndpointStream } from './endpoint-stream.js'
import { connectionLostError, zoneEjectedError } from './errors.js'

const streamOf = (client: pg.Client): EndpointStream | undefined => {
  const stream = (client as unknown as { connection?: { stream?: unknown } }).connection?.stream
  return stream instanceof EndpointStream ? stream : undefined
}

/**
 * A busy connection in an ejected zone is closed only once its query has gone this long without
 * a byte: in a zone that refuses new connections, open ones may still work (a listener change),
 * and a query making progress there is left to finish.
 */
const STALL_MS = 2_000

/**
 * Follows which of a pool's clients are idle, and moves them off zones traffic has left:
 * - a zone ejected: idle clients close at once (through the pool's own idle-error path, before
 *   any checkout can pick them); busy ones close when released, or with a typed error once their
 *   query has stalled (a frozen path);
 * - a better zone readmitted (or a better target back): clients in less preferred zones close
 *   when idle, so new connections return to the own zone.
 */
export function retireEjectedZones(
  pool: pg.Pool,
  proxyHost: string,
): {
  watch(connector: Connector): void
  /** Retires connections in zones `keep` rejects: idle ones now, busy ones when released. */
  prefer(keep: (zone: string) => boolean): void
  stop(): void
} {
  // pg-pool's own idle list (3.x: `_idle`, items with `client`), read only when a zone changes:
  // tracking idleness with 'acquire' / 'release' listeners cost ~2 µs on every query.
  const isIdle = (client: pg.Client) =>
    (pool as unknown as { _idle?: { client: pg.Client }[] })._idle?.some(
      (item) => item.client === client,
    ) === true
  const live = new Set<pg.Client>()
  /** Busy clients to close when released. */
  const leaving = new Set<pg.Client>()
  /** Busy clients in ejected zones, closed if their query stalls. */
  const suspects = new Set<pg.Client>()
  let keep: (zone: string) => boolean = () => true
  let sweep: NodeJS.Timeout | undefined

  const retireIdle = (client: pg.Client, zone: string) => {
    live.delete(client)
    leaving.delete(client)
    // pg-pool listens for 'error' on idle clients and removes them synchronously.
    client.emit('error', zoneEjectedError(proxyHost, zone))
  }
  const retire = (client: pg.Client, zone: string) => {
    if (isIdle(client)) retireIdle(client, zone)
    else {
      leaving.add(client)
      listenForReleases()
    }
  }
  const checkSuspects = () => {
    for (const client of suspects) {
      const stream = streamOf(client)
      if (stream === undefined || !live.has(client) || isIdle(client)) {
        suspects.delete(client)
        continue
      }
      if (stream.stalledFor() >= STALL_MS) {
        suspects.delete(client)
        stream.abandon(
          connectionLostError(
            proxyHost,
            stream.zone,
            undefined,
            `zone ${stream.zone} ejected and the query stalled`,
          ),
        )
      }
    }
    if (suspects.size === 0 && sweep !== undefined) {
      clearInterval(sweep)
      sweep = undefined
    }
  }

  pool.on('connect', (client) => live.add(client))
  // Only while a client must leave (or traffic has left a zone): the hot path has no listener.
  let releases = false
  const onRelease = (error: unknown, client: pg.Client) => {
    if (error !== undefined && error !== null) return
    suspects.delete(client)
    const zone = streamOf(client)?.zone
    if (zone !== undefined && (leaving.has(client) || !keep(zone)))
      // Released into a zone traffic has left: close it rather than reuse it, once pg-pool has
      // filed it as idle (unless a waiting checkout took it at once).
      queueMicrotask(() => {
        if (isIdle(client)) retireIdle(client, zone)
      })
    if (leaving.size === 0 && suspects.size === 0 && keepsAll) {
      pool.off('release', onRelease)
      releases = false
    }
  }
  let keepsAll = true
  const listenForReleases = () => {
    if (releases) return
    releases = true
    pool.on('release', onRelease)
  }
  pool.on('remove', (client) => {
    live.delete(client)
    leaving.delete(client)
    suspects.delete(client)
  })
  let unsubscribe: (() => void) | undefined
  return {
    watch(connector) {
      if (unsubscribe !== undefined) return
      unsubscribe = connector.onZoneChange((event) => {
        let closed = 0
        if (event.type === 'eject') {
          for (const client of [...live]) {
            if (streamOf(client)?.zone !== event.zone) continue
            closed++
            if (isIdle(client)) retireIdle(client, event.zone)
            else {
              leaving.add(client)
              suspects.add(client)
              listenForReleases()
            }
          }
          if (suspects.size > 0 && sweep === undefined) {
            sweep = setInterval(checkSuspects, 250)
            sweep.unref()
          }
          checkSuspects()
        } else {
          // Readmitted: connections in zones ranked after it move back to it when idle.
          const ranked = connector.preferredZones().map((zone) => connector.zoneKey(zone))
          const rank = ranked.indexOf(event.zone)
          if (rank === -1) return
          for (const client of [...live]) {
            const zone = streamOf(client)?.zone
            if (zone === undefined || zone === event.zone) continue
            const own = ranked.indexOf(zone)
            if (own !== -1 && own < rank) continue
            closed++
            retire(client, zone)
          }
        }
        if (closed > 0 && zoneRetiredChannel.hasSubscribers)
          zoneRetiredChannel.publish({ zone: event.zone, clients: closed, reason: event.type })
      })
    },
    prefer(next) {
      keep = next
      keepsAll = false
      listenForReleases()
      for (const client of [...live]) {
        const zone = streamOf(client)?.zone
        if (zone !== undefined && !keep(zone)) retire(client, zone)
      }
    },
    stop() {
      unsubscribe?.()
      if (sweep !== undefined) clearInterval(sweep)
    },
  }
}
