import { once } from 'node:events'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createEndpointDispatcher } from '@privatelink/http'
import { createTestCa, type Lab, startLab, type TestCa } from '@privatelink/lab'
import { Agent, type Dispatcher, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const API = 'api.saas.example.com'

/**
 * Answers 503 to everything and closes a keep-alive socket idle for 300 ms: either saying so
 * (Node's `keepAliveTimeout: 300`, which advertises `Keep-Alive: timeout=0`, so undici closes after
 * each response) or silently (a proxy's idle timer, no header: undici keeps the socket).
 */
interface StormServer {
  port: number
  requests: number
  /** TLS connections that carried at least one request. */
  requestConnections: number
  /** Every TLS handshake, the connector's health checks included (they send no request). */
  tlsConnections: number
  close(): Promise<void>
}

async function startStormServer(ca: TestCa, advertised: boolean): Promise<StormServer> {
  const issued = await ca.issue([API])
  const state = { port: 0, requests: 0, requestConnections: 0, tlsConnections: 0 }
  const carried = new WeakSet<object>()
  const server: Server = createServer(
    {
      cert: issued.certificatePem,
      key: issued.privateKeyPem,
      keepAliveTimeout: advertised ? 300 : 0,
    },
    (req, res) => {
      state.requests++
      if (!carried.has(req.socket)) {
        carried.add(req.socket)
        state.requestConnections++
      }
      const socket = req.socket as typeof req.socket & { idle?: NodeJS.Timeout }
      clearTimeout(socket.idle)
      if (!advertised)
        res.on('finish', () => {
          socket.idle = setTimeout(() => socket.destroy(), 300).unref()
        })
      req.resume()
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'application/json' })
        res.end('{"message":"Service Unavailable"}')
      })
    },
  )
  server.on('secureConnection', () => state.tlsConnections++)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  state.port = (server.address() as AddressInfo).port
  return Object.assign(state, {
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  })
}

const MAX_RETRIES = 2 // the documented default (README, Retries)

async function twentyGets(dispatcher: Dispatcher, origin: string, storm: StormServer) {
  const before = { requests: storm.requests, connections: storm.requestConnections }
  for (let i = 0; i < 20; i++) {
    const response = await request(`${origin}/storm`, { dispatcher })
    expect(response.statusCode).toBe(503)
    await response.body.dump()
  }
  return {
    requests: storm.requests - before.requests,
    connections: storm.requestConnections - before.connections,
  }
}

const loopbackLookup = (
  _host: string,
  options: { all?: boolean },
  callback: (...args: unknown[]) => void,
) =>
  options.all === true
    ? callback(null, [{ address: '127.0.0.1', family: 4 }])
    : callback(null, '127.0.0.1', 4)

// Issue 24 item 15: the dispatcher against a plain undici Agent, counted at the server.
describe.each([
  ['advertises its idle timeout (Keep-Alive: timeout=0)', true],
  ['closes idle sockets silently after 300 ms', false],
])('a service that answers 503 to everything and %s', (_name, advertised) => {
  let ca: TestCa
  let storm: StormServer
  let lab: Lab
  beforeAll(async () => {
    ca = await createTestCa()
    storm = await startStormServer(ca, advertised)
    lab = await startLab({
      privateDnsName: API,
      services: [{ name: 'api', port: 443, target: { host: '127.0.0.1', port: storm.port } }],
    })
  })
  afterAll(async () => {
    await lab?.close()
    await storm?.close()
  })

  it('20 sequential GETs: no more requests or request-carrying TLS connections than a plain Agent plus the documented retries', async () => {
    const agent = new Agent({ connect: { ca: ca.certificatePem, lookup: loopbackLookup } as never })
    const plain = await twentyGets(agent, `https://${API}:${storm.port}`, storm)
    await agent.close()

    const dispatcher = createEndpointDispatcher({
      endpoint: lab.endpoint,
      locality: { source: 'options', azId: 'usw2-az1' },
      ca: ca.certificatePem,
      // Backoff of 50 then 100 ms: a zone's kept-alive socket idles well under the server's 300 ms.
      retry: { random: () => 0.5 },
    })
    const ours = await twentyGets(dispatcher, `https://${API}`, storm)
    await dispatcher.close()

    // Counted: connections that carried requests, which is what the Agent comparison is about.
    // The connector's periodic health checks (on by default, left on) also complete a TLS
    // handshake with the server, on their own schedule, but never send a request.
    const retries = 20 * MAX_RETRIES
    expect(ours.requests).toBe(plain.requests + retries)
    expect(ours.connections).toBeLessThanOrEqual(plain.connections + retries)
    if (advertised) {
      // The server ends every connection after its response: one connection per request for both.
      expect(plain.connections).toBe(plain.requests)
    } else {
      // Kept where the server keeps them: at most one per zone beyond what the Agent needed.
      expect(ours.connections).toBeLessThanOrEqual(plain.connections + 2)
    }
  }, 60_000)
})
