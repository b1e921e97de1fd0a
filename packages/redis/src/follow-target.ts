import type { Socket } from 'node:net'
import type { Connector, TargetChangeEvent } from '@privatelink/core'
import { drain, type RedisConnection } from './drain.js'
import type { SocketTracker } from './socket-tracker.js'

/**
 * Keeps a client's connection in the target (region) traffic goes to. After a failover the
 * connection to the region that failed is closed at once: that region is out, and ioredis
 * reconnects through the connector, now in the next target. Anywhere else (a return to the
 * primary, or a connection that reached a third target) the connection drains (drain.ts), so a
 * command already written to a healthy region is never cut off and resent.
 */
export function followActiveTarget(
  connection: RedisConnection,
  connector: Connector,
  tracker: SocketTracker,
): () => void {
  const close = (stream: Socket) => {
    tracker.release(stream)
    stream.destroy()
  }
  return connector.onTargetChange((event: TargetChangeEvent) => {
    const stream = connection.stream
    if (stream === undefined || stream.destroyed) return
    const target = connector.targetOf(stream)
    if (target === undefined || target.name === event.to) return
    if (event.type === 'failover' && target.name === event.from) close(stream)
    else drain(connection, close)
  })
}
