import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { detectLocality, endpointFromEnv } from '@privatelink/core'
import { createEndpointDispatcher } from '@privatelink/http'
import { request } from 'undici'

type Env = Record<string, string | undefined>

/**
 * Your application: an HTTP service whose /orders/:id calls the provider's private API. It is
 * configured only through the environment, so the same code runs on EC2 against the real
 * endpoint and on a laptop against `privatelink lab` (which prints these variables):
 * - PRIVATELINK_ENDPOINTS: the endpoint as JSON (`privatelink describe --json`): no EC2 call at start
 * - AWS_EC2_METADATA_SERVICE_ENDPOINT (the lab's IMDS; unset on EC2): which zone this is
 * - NODE_EXTRA_CA_CERTS (read by Node at startup): a private CA, e.g. a local stand-in's
 * `ca` is for tests that start the app in-process, where NODE_EXTRA_CA_CERTS is read too late.
 */
export async function startApp(options: { env?: Env; ca?: string } = {}): Promise<{
  url: string
  zone: string | undefined
  close(): Promise<void>
}> {
  const env = options.env ?? process.env
  const endpoint = endpointFromEnv(env['ORDERS_ENDPOINT'], env)
  const locality = await detectLocality({ env })
  const dispatcher = createEndpointDispatcher({
    endpoint,
    ...(locality.source === 'unknown' ? {} : { locality }),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  })
  const api = `https://${endpoint.privateDnsName}`
  const server: Server = createServer(async (req, res) => {
    const match = /^\/orders\/([\w-]+)$/.exec(req.url ?? '')
    if (match === null) {
      res.writeHead(404).end()
      return
    }
    try {
      const answer = await request(`${api}/v1/orders/${match[1]}`, { dispatcher })
      res.writeHead(answer.statusCode, { 'content-type': 'application/json' })
      res.end(await answer.body.text())
    } catch (error) {
      res.writeHead(502, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: (error as { code?: string }).code ?? 'upstream failed' }))
    }
  })
  server.listen(Number(env['PORT'] ?? 0), '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    zone: locality.azName,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await dispatcher.close()
    },
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = await startApp()
  console.log(`app on ${app.url} (zone ${app.zone ?? 'unknown'}); try: curl ${app.url}/orders/42`)
  await new Promise((resolve) => process.once('SIGINT', resolve))
  await app.close()
}
