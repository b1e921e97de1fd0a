import type { Socket } from 'node:net'
import type { Connector, SocketWatch } from '@privatelink/core'
import { drain, type RedisConnection } from './drain.js'

/** An ioredis `Redis` as far as its end is read: `manuallyClosing` is its own "closing on purpose". */
interface Owner extends RedisConnection {
  manuallyClosing?: boolean
}

/** Each socket's watch, for the client that writes to it (its staleness before a command). */
const watches = new WeakMap<Socket, SocketWatch>()

/** The watch of a socket from watchSocket, while it lives. */
export const watchOf = (socket: Socket): SocketWatch | undefined => watches.get(socket)

/**
 * Hands a socket to core's lifecycle, which reports how it ended (`lost-in-flight` / `idle-close`)
 * and says when it should leave its zone. redis keeps only what it alone knows: a command is
 * outstanding while more bytes were written than when the last reply bytes arrived, and how a
 * connection leaves. Out (its zone or region is out): destroyed, and ioredis resends what was
 * written (autoResendUnfulfilledCommands). Otherwise it drains (drain.ts), so nothing written to a
 * healthy zone is cut off. Call before ioredis sees the socket: core's 'close' listener must run
 * first. `ownerOf` finds the client's connection for the socket, when the client can see it.
 */
export function watchSocket(
  connector: Connector,
  socket: Socket,
  ownerOf: (socket: Socket) => Owner | undefined,
): SocketWatch {
  let writtenAtLastRead = socket.bytesWritten
  const busy = () => (socket.bytesWritten ?? 0) > writtenAtLastRead
  socket.on('data', () => {
    writtenAtLastRead = socket.bytesWritten
  })
  const close = (stream: Socket) => {
    watch.release()
    stream.destroy()
  }
  const watch = connector.watch(socket, {
    busy,
    retire: ({ out }) => {
      if (out) return close(socket)
      const owner = ownerOf(socket)
      if (owner !== undefined) return drain(owner, close)
      // A connection the client cannot see (the Cluster's pub/sub and sharded subscribers are not
      // among its nodes) cannot have its commands held back: it closes once nothing is
      // outstanding on it, and the subscriber replaces it and subscribes again.
      if (!busy()) return close(socket)
      const onData = () => {
        if (busy()) return
        socket.off('data', onData)
        close(socket)
      }
      socket.on('data', onData)
    },
  })
  watches.set(socket, watch)
  // QUIT (or any command after which the server closes) is ioredis closing on purpose, as its
  // disconnect() is: not a health signal. Read before core's own 'close' listener.
  socket.prependOnceListener('close', () => {
    if (ownerOf(socket)?.manuallyClosing === true) watch.release()
  })
  return watch
}
