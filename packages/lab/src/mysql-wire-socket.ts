import type { Duplex } from 'node:stream'
import type { Packet, PacketReader } from './mysql-wire.js'

/**
 * The next packet from `socket`. The socket is paused between reads, so no byte is lost while the
 * proxy decides what comes next (a TLS upgrade, a relay).
 */
export function readPacket(socket: Duplex, reader: PacketReader): Promise<Packet> {
  const ready = reader.next()
  if (ready !== undefined) return Promise.resolve(ready)
  return new Promise<Packet>((resolve, reject) => {
    const cleanup = () => {
      socket.off('data', onData)
      socket.off('end', onClosed)
      socket.off('close', onClosed)
      socket.off('error', onError)
      socket.pause()
    }
    const onData = (chunk: Buffer) => {
      reader.push(chunk)
      const next = reader.next()
      if (next === undefined) return
      cleanup()
      resolve(next)
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
    socket.resume()
  })
}
