import type { Duplex } from 'node:stream'
import type { MessageReader } from './pg-wire.js'

/**
 * Reads from `socket` into `reader` until `pick` returns something. The socket is paused between
 * reads so no byte is lost while the proxy decides what comes next (a TLS upgrade, a relay).
 */
export function readUntil<T>(
  socket: Duplex,
  reader: MessageReader,
  pick: (reader: MessageReader) => T | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanup = () => {
      socket.off('data', onData)
      socket.off('end', onClosed)
      socket.off('close', onClosed)
      socket.off('error', onError)
      socket.pause()
    }
    const attempt = () => {
      let value: T | undefined
      try {
        value = pick(reader)
      } catch (error) {
        cleanup()
        reject(error)
        return
      }
      if (value !== undefined) {
        cleanup()
        resolve(value)
      }
    }
    const onData = (chunk: Buffer) => {
      reader.push(chunk)
      attempt()
    }
    const onClosed = () => {
      cleanup()
      reject(new Error('connection closed during the handshake'))
    }
    const onError = (error: Error) => {
      cleanup()
      reject(error)
    }
    socket.on('data', onData)
    socket.once('end', onClosed)
    socket.once('close', onClosed)
    socket.once('error', onError)
    attempt()
    if (socket.listenerCount('data') > 0) socket.resume()
  })
}
