import { once } from 'node:events'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createEndpointDispatcher } from '@privatelink/http'
import { request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { API, type HttpLab, startHttpLab } from './http-lab.js'

// bench/topology.ts (issue 31): a dispatcher made with default options learns its zone from the
// metadata service in the background; connections opened before that go by measured connect
// time and may land in another zone. Once the own zone is known they must leave (as on a
// readmission of the own zone), else the pool keeps reusing them: fetch() kept 4 of 7 sockets
// in zone b and sent 24% of its bytes across zones for the whole run.
//
// The cause was in core: the connector's background locality reordered the zones but retired
// nothing, where a readmission of the own zone retires the zones ranked after it. core now
// retires them when the own zone is learnt late (connector.ts, ownZoneLearnt); the http pool
// follows core's retirements.

let env: HttpLab
beforeAll(async () => {
  env = await startHttpLab()
})
afterAll(() => env.close())
afterEach(async () => {
  vi.unstubAllEnvs()
  await env.restoreAll()
})

/** An IMDSv2 that answers once `release()` is called: the own zone becomes known then. */
async function heldImds(azName: string, azId: string) {
  const waiting: (() => void)[] = []
  let released = false
  const server = createServer((req, res: ServerResponse) => {
    const answer = () => {
      if (req.url?.endsWith('/api/token')) res.end('token')
      else if (req.url?.endsWith('/availability-zone-id')) res.end(azId)
      else if (req.url?.endsWith('/availability-zone')) res.end(azName)
      else res.writeHead(404).end()
    }
    if (released) answer()
    else waiting.push(answer)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    release: () => {
      released = true
      for (const answer of waiting.splice(0)) answer()
    },
    close: () => {
      server.closeAllConnections()
      server.close()
    },
  }
}

const burst = async (dispatcher: ReturnType<typeof createEndpointDispatcher>, n: number) =>
  Promise.all(
    Array.from({ length: n }, async () => {
      const response = await request(`https://${API}/late`, { dispatcher })
      await response.body.dump()
      return response.statusCode
    }),
  )

describe('the own zone learnt after the first connections', () => {
  it('connections opened elsewhere before the own zone was known leave, and traffic returns to it', async () => {
    const imds = await heldImds('us-west-2a', 'usw2-az1')
    vi.stubEnv('AWS_EC2_METADATA_SERVICE_ENDPOINT', imds.url)
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'false')
    // The own zone slow at first (not enough to eject it): the race lands elsewhere.
    await env.lab.zone('us-west-2a').fail('blackhole')
    const dispatcher = createEndpointDispatcher({
      endpoint: env.lab.endpoint,
      ca: env.caPem,
      connectorOptions: {
        ejection: { consecutiveFailures: 50 },
        healthCheck: { intervalMs: 0 },
      },
      keepAliveTimeoutMs: 60_000,
    })
    try {
      expect(dispatcher.connector.ownZone()).toBeUndefined()
      expect(await burst(dispatcher, 4)).toEqual([200, 200, 200, 200])
      const away = dispatcher.connectionsPerZone()
      expect(away['usw2-az1']).toBeUndefined()
      expect(Object.values(away).reduce((a, b) => a + b, 0)).toBe(4)
      await env.lab.zone('us-west-2a').restore()

      imds.release()
      await vi.waitFor(() => expect(dispatcher.connector.ownZone()?.azId).toBe('usw2-az1'), {
        timeout: 5_000,
        interval: 10,
      })
      // The idle connections in the other zones leave at once.
      await vi.waitFor(() => expect(dispatcher.connectionsPerZone()).toEqual({}), {
        timeout: 2_000,
        interval: 10,
      })
      expect(await burst(dispatcher, 4)).toEqual([200, 200, 200, 200])
      expect(dispatcher.connectionsPerZone()).toEqual({ 'usw2-az1': 4 })
      expect(env.active('us-west-2b') + env.active('us-west-2c')).toBe(0)
    } finally {
      await dispatcher.close()
      imds.close()
    }
  })
})
