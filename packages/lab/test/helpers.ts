import { once } from 'node:events'
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net'

/** A TCP echo server on 127.0.0.1 that counts connections and bytes. */
export async function startEchoServer(): Promise<{
  server: Server
  port: number
  received: () => number
  close: () => Promise<void>
}> {
  let received = 0
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    socket.on('data', (chunk) => {
      received += chunk.length
      socket.write(chunk)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    server,
    port: (server.address() as AddressInfo).port,
    received: () => received,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

export type ConnectOutcome =
  | { kind: 'connected'; socket: Socket }
  | { kind: 'error'; code: string; bytes: number }
  | { kind: 'pending' }

/** Connects and reports what happened within `withinMs`. */
export function tryConnect(host: string, port: number, withinMs: number): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    let bytes = 0
    socket.on('data', (chunk) => {
      bytes += chunk.length
    })
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ kind: 'pending' })
    }, withinMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      resolve({ kind: 'connected', socket })
    })
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      resolve({ kind: 'error', code: error.code ?? 'UNKNOWN', bytes })
    })
  })
}

/** Writes `text` and waits for the echo, or for nothing within `withinMs`. */
export function roundTrip(
  socket: Socket,
  text: string,
  withinMs: number,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    let reply = ''
    const timer = setTimeout(() => {
      socket.off('data', onData)
      resolve(undefined)
    }, withinMs)
    const onData = (chunk: Buffer) => {
      reply += chunk.toString()
      if (reply.length >= text.length) {
        clearTimeout(timer)
        socket.off('data', onData)
        resolve(reply)
      }
    }
    socket.on('data', onData)
    socket.write(text)
  })
}
