import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

export interface LabHttpServer {
  readonly url: string
  readonly host: string
  readonly port: number
  close(): Promise<void>
}

export async function readBody(request: IncomingMessage, limit = 1_048_576): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > limit) throw new Error('request body too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** An HTTP server on loopback that tracks its sockets, so close() leaves nothing behind. */
export async function startHttpServer(
  handler: (request: IncomingMessage, response: ServerResponse) => Promise<void> | void,
  host = '127.0.0.1',
): Promise<LabHttpServer> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((request, response) => {
    Promise.resolve(handler(request, response)).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' })
      response.end(String(error))
    })
  })
  // undici drops a connection whose Keep-Alive hint (`timeout=<keepAliveTimeout in s>`) is under
  // its 2 s threshold: a short one made every SDK call a new connection, which AWS does not.
  // close() destroys every tracked socket, so a long idle timeout never holds the lab open.
  server.keepAliveTimeout = 30_000
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    url: `http://${host}:${port}`,
    host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        // After close(): no new connection can slip in between the sweep and the listener's end.
        server.closeAllConnections()
        for (const socket of sockets) socket.destroy()
      }),
  }
}
