import type { Socket } from 'node:net'
import type { Connector, TargetChangeEvent } from '@privatelink/core'
import type { Redis } from 'ioredis'
import type { SocketTracker } from './socket-tracker.js'

/**
 * The part of ioredis' `Redis` this relies on (both are declared on its class): the stream our
 * Connector handed it, and the commands written on that stream still waiting for their replies.
 */
interface RedisConnection {
  stream?: Socket
  commandQueue?: { length: number }
}

/**
 * Keeps a client's connection in the target (region) traffic goes to. After a failover the
 * connection to the region that failed is closed at once: that region is out, and ioredis
 * reconnects through the connector, now in the next target. Anywhere else (a return to the
 * primary, or a connection that reached a third target) the connection drains first: new commands
 * wait in ioredis' offline queue, and once every written command has its reply it is closed, so
 * ioredis reconnects in the active target and sends the queue there. A command already written to
 * a healthy region is never cut off and resent.
 */
export function followActiveTarget(
  redis: Redis,
  connector: Connector,
  tracker: SocketTracker,
): () => void {
  const connection = redis as unknown as RedisConnection
  const close = (stream: Socket) => {
    tracker.release(stream)
    stream.destroy()
  }
  return connector.onTargetChange((event: TargetChangeEvent) => {
    const stream = connection.stream
    if (stream === undefined || stream.destroyed) return
    const target = connector.targetOf(stream)
    if (target === undefined || target.name === event.to) return
    if (event.type === 'failover' && target.name === event.from) {
      close(stream)
      return
    }
    // ioredis writes a command only while its stream is writable, and queues it offline
    // otherwise (sendCommand); the socket itself still reads the replies owed.
    ;(stream as { writable: boolean }).writable = false
    const owed = () => (connection.commandQueue?.length ?? 0) > 0
    if (!owed()) {
      close(stream)
      return
    }
    // Registered after ioredis' own data listener, so its replies are already taken off the queue.
    const onData = () => {
      if (owed()) return
      stream.off('data', onData)
      close(stream)
    }
    stream.on('data', onData)
  })
}
