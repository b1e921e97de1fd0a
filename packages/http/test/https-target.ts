import { once } from 'node:events'
import { createServer, type Server } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import type { TestCa } from '@privatelink/lab'

export interface Target {
  port: number
  counts: Map<string, number>
  /** Called when a request's body has been read, before the response. */
  onBody?: (method: string, path: string) => Promise<void> | void
  verify?: (request: {
    method: string
    path: string
    query: Record<string, string>
    headers: Record<string, string | string[] | undefined>
    body: string
  }) => Promise<boolean>
  /** The next this many requests have their connection destroyed before an answer (a peer reset). */
  dropNext: number
  /** Closes keep-alive sockets that carry no request (what a service's idle timeout does). */
  closeIdle(): void
  close(): Promise<void>
}

/** An HTTPS server with a lab-CA certificate for `names`, answering JSON with the Host it saw. */
export async function startHttpsTarget(ca: TestCa, names: string[]): Promise<Target> {
  const issued = await ca.issue(names)
  const counts = new Map<string, number>()
  const sockets = new Set<Socket>()
  const target: Target = {
    port: 0,
    counts,
    dropNext: 0,
    closeIdle: () => server.closeIdleConnections(),
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  const server: Server = createServer(
    { cert: issued.certificatePem, key: issued.privateKeyPem, keepAliveTimeout: 30_000 },
    async (req, res) => {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const body = Buffer.concat(chunks).toString()
      const url = new URL(req.url ?? '/', 'https://target')
      const key = `${req.method} ${url.pathname}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
      await target.onBody?.(req.method ?? '', url.pathname)
      if (target.verify !== undefined) {
        const ok = await target.verify({
          method: req.method ?? 'GET',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          body,
        })
        if (!ok) {
          res
            .writeHead(403, { 'content-type': 'application/json' })
            .end('{"message":"signature rejected"}')
          return
        }
      }
      // Dies mid-request, as a crashing target or a reset zone would.
      if (
        req.headers['x-respond-destroy'] !== undefined ||
        (target.dropNext > 0 && target.dropNext-- > 0)
      ) {
        req.socket.destroy()
        return
      }
      const status = Number(req.headers['x-respond-status'] ?? 200)
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      const retryAfter = req.headers['x-respond-retry-after']
      if (typeof retryAfter === 'string') headers['retry-after'] = retryAfter
      const location = req.headers['x-respond-location']
      if (typeof location === 'string') headers.location = location
      res.writeHead(status, headers)
      res.end(
        JSON.stringify({
          host: req.headers.host,
          apiId: req.headers['x-apigw-api-id'] ?? null,
          path: url.pathname,
          body,
        }),
      )
    },
  )
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  target.port = (server.address() as AddressInfo).port
  return target
}
