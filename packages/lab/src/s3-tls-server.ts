import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'

/** A running HTTPS listener of a lab front. */
export interface FrontTlsServer {
  port: number
  close(): Promise<void>
}

/**
 * HTTPS on loopback for the S3 and DynamoDB fronts, sockets tracked so close() leaves nothing.
 * The handler gets the SNI name the client presented, which tests read to see what was verified.
 */
export async function startFrontTls(
  certificate: { certificatePem: string; privateKeyPem: string },
  handler: (
    request: IncomingMessage,
    response: ServerResponse,
    servername: string,
  ) => Promise<void>,
): Promise<FrontTlsServer> {
  const sockets = new Set<Socket>()
  const server = createServer(
    { cert: certificate.certificatePem, key: certificate.privateKeyPem },
    (request, response) => {
      const servername = (request.socket as TLSSocket).servername || ''
      handler(request, response, servername).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' })
        response.end(String(error))
      })
    },
  )
  // undici drops a connection whose Keep-Alive hint is under 2 s: a long one keeps SDK calls on
  // one connection through the zones, as AWS does.
  server.keepAliveTimeout = 30_000
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
        for (const socket of sockets) socket.destroy()
      }),
  }
}

/** A request's whole body as bytes (S3 objects may be binary), refused past `limit`. */
export async function readBytes(request: IncomingMessage, limit = 16 * 1_048_576): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > limit) throw new Error('request body too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}
