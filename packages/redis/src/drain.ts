import type { Socket } from 'node:net'

/**
 * The part of ioredis' `Redis` a drain relies on (both are declared on its class): the stream our
 * Connector handed it, and the commands written on that stream still waiting for their replies.
 */
export interface RedisConnection {
  stream?: Socket
  commandQueue?: { length: number }
}

/**
 * Moves a healthy connection without cutting a command off, busy or not: new commands wait in
 * ioredis' offline queue, and once every command written on the stream has its reply the stream
 * is closed with `close`. ioredis then reconnects through the connector (which dials the place
 * now preferred: the primary region, the own zone) and sends the queue there. Nothing written is
 * resent. A blocking command (BLPOP without a timeout) holds the stream until it returns.
 */
export function drain(connection: RedisConnection, close: (stream: Socket) => void): void {
  const stream = connection.stream
  // Not writable: already draining (a region return and a zone readmission can coincide), or
  // closing anyway, after which ioredis reconnects through the connector by itself.
  if (stream === undefined || !stream.writable) return
  // ioredis writes a command only while its stream is writable and queues it offline otherwise
  // (sendCommand); the socket itself still reads the replies owed.
  const held: { writable: boolean } = stream
  held.writable = false
  const owed = () => connection.stream === stream && (connection.commandQueue?.length ?? 0) > 0
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
}
