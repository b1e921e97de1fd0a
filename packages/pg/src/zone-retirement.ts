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
 * Follows which of a pool's clients are idle, and when the connector ejects a zone closes the
 * clients in it: idle ones through the pool's own idle-error path (removed at once, before any
 * checkout can pick them), busy ones by failing their socket with a typed error.
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
  let keep: (zone: string) => boolean = () => true
  const retireIdle = (client: pg.Client, zone: string) => {
    idle.delete(client)
    live.delete(client)
    client.emit('error', zoneEjectedError(proxyHost, zone))
  }
  const idle = new Set<pg.Client>()
  const live = new Set<pg.Client>()
  pool.on('connect', (client) => live.add(client))
  pool.on('acquire', (client) => idle.delete(client))
  pool.on('release', (error, client) => {
    if (error !== undefined && error !== null) return
    idle.add(client)
    const zone = streamOf(client)?.zone
    // Released into a zone traffic has left (another region): close it rather than reuse it,
    // once pg-pool has filed it as idle (unless a waiting checkout took it at once).
    if (zone !== undefined && !keep(zone))
      queueMicrotask(() => {
        if (idle.has(client)) retireIdle(client, zone)
      })
  })
  pool.on('remove', (client) => {
    idle.delete(client)
    live.delete(client)
  })
  let unsubscribe: (() => void) | undefined
  return {
    watch(connector) {
      if (unsubscribe !== undefined) return
      unsubscribe = connector.onZoneChange((event) => {
        if (event.type !== 'eject') return
        let closed = 0
        for (const client of [...live]) {
          const stream = streamOf(client)
          if (stream === undefined || stream.zone !== event.zone) continue
          closed++
          if (idle.has(client)) {
            idle.delete(client)
            live.delete(client)
            // pg-pool listens for 'error' on idle clients and removes them synchronously.
            client.emit('error', zoneEjectedError(proxyHost, event.zone))
          } else {
            stream.abandon(
              connectionLostError(
                proxyHost,
                event.zone,
                undefined,
                `zone ${event.zone} ejected (${event.signal ?? 'failures'})`,
              ),
            )
          }
        }
        if (closed > 0 && zoneRetiredChannel.hasSubscribers)
          zoneRetiredChannel.publish({ zone: event.zone, clients: closed })
      })
    },
    prefer(next) {
      keep = next
      for (const client of [...idle]) {
        const zone = streamOf(client)?.zone
        if (zone !== undefined && !keep(zone)) retireIdle(client, zone)
      }
    },
    stop() {
      unsubscribe?.()
    },
  }
}
