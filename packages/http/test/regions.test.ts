import { createEndpointDispatcher } from '@privatelink/http'
import { type Lab, startLab } from '@privatelink/lab'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API, type HttpLab, startHttpLab } from './http-lab.js'

// The seed's "multi-region endpoint with failover" without Route 53: a primary endpoint in
// us-west-2 and a secondary in us-east-1, both in front of the same private API name.
let env: HttpLab
let secondary: Lab
beforeAll(async () => {
  env = await startHttpLab()
  secondary = await startLab({
    region: 'us-east-1',
    clock: () => env.clock.now,
    privateDnsName: API,
    services: [{ name: 'api', port: 443, target: { host: '127.0.0.1', port: env.target.port } }],
  })
})
afterAll(async () => {
  await secondary.close()
  await env.close()
})

const accepted = (lab: Lab) =>
  lab.endpoint.zones.reduce((sum, zone) => sum + lab.zone(zone.azName).stats()['api']!.accepted, 0)

describe('a dispatcher over two regions', () => {
  it('a whole region blackholed under load: 0 failed GETs, traffic in the secondary, back after the primary passes checks', async () => {
    const dispatcher = createEndpointDispatcher({
      endpoint: [{ endpoint: env.lab.endpoint }, { endpoint: secondary.endpoint }],
      locality: { source: 'options', azId: 'usw2-az1' },
      ca: env.caPem,
      clock: () => env.clock.now,
      healthCheck: { timeoutMs: 500 },
    })
    const moves: string[] = []
    dispatcher.connector.onTargetChange((event) => moves.push(`${event.type} ${event.to}`))
    let failed = 0
    let ok = 0
    let stop = false
    const worker = async () => {
      while (!stop) {
        try {
          const response = await request(`https://${API}/region`, { dispatcher })
          await response.body.dump()
          if (response.statusCode === 200) ok++
          else failed++
        } catch {
          failed++
        }
      }
    }
    try {
      const workers = Array.from({ length: 8 }, worker)
      while (ok < 50) await new Promise((resolve) => setImmediate(resolve))
      const secondaryBefore = accepted(secondary)
      for (const zone of env.lab.endpoint.zones) await env.lab.zone(zone.azName).fail('blackhole')
      // Health checks find the dead region; its connections are destroyed and the GETs retried.
      while (dispatcher.connector.activeTarget().name !== 'us-east-1')
        await dispatcher.connector.probe()
      const okAtFailover = ok
      while (ok < okAtFailover + 100) await new Promise((resolve) => setImmediate(resolve))
      expect(accepted(secondary)).toBeGreaterThan(secondaryBefore)
      expect(
        Object.keys(dispatcher.connectionsPerZone()).every((key) => key.includes('/use1-')),
      ).toBe(true)
      // The primary comes back; once its ejections ran out and it passed two checks, traffic returns.
      for (const zone of env.lab.endpoint.zones) await env.lab.zone(zone.azName).restore()
      env.clock.now += 120_000
      // Two passing checks in a row bring it back; a check already running when the region was
      // restored (the periodic one) may still fail, so check until it is back, boundedly.
      for (let i = 0; i < 10 && dispatcher.connector.activeTarget().name !== 'us-west-2'; i++)
        await dispatcher.connector.probe()
      expect(dispatcher.connector.activeTarget().name).toBe('us-west-2')
      const okAtReturn = ok
      while (ok < okAtReturn + 100) await new Promise((resolve) => setImmediate(resolve))
      stop = true
      await Promise.all(workers)
      expect(failed).toBe(0)
      expect(moves).toEqual(['failover us-east-1', 'return us-west-2'])
      const zones = Object.keys(dispatcher.connectionsPerZone())
      expect(zones.length).toBeGreaterThan(0)
      expect(zones.every((key) => key.startsWith('usw2-'))).toBe(true)
    } finally {
      stop = true
      await dispatcher.close()
    }
  })
})
