import type { ZoneChangeEvent } from '@privatelink/core'
import { createEndpointDispatcher } from '@privatelink/http'
import { request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { API, type HttpLab, startHttpLab } from './http-lab.js'

let env: HttpLab
beforeAll(async () => {
  env = await startHttpLab()
})
afterAll(() => env.close())
afterEach(async () => {
  await env.restoreAll()
  vi.unstubAllEnvs()
})

const burst = async (dispatcher: ReturnType<HttpLab['dispatcherFor']>, n: number, path: string) =>
  Promise.all(
    Array.from({ length: n }, async () => {
      const response = await request(`https://${API}${path}`, { dispatcher })
      await response.body.dump()
      return response.statusCode
    }),
  )

describe('pools per zone, for real', () => {
  it('a socket the race put in another zone is counted there, and ejecting that zone closes exactly it', async () => {
    // The own zone stays eligible (slow, not ejected) while the race lands sockets in us-west-2b.
    const dispatcher = env.dispatcherFor({
      ejection: { consecutiveFailures: 50 },
      healthCheck: { intervalMs: 0 },
    })
    const events: ZoneChangeEvent[] = []
    dispatcher.connector.onZoneChange((event) => events.push(event))
    try {
      await env.lab.zone('us-west-2a').fail('blackhole')
      const activeB = env.active('us-west-2b')
      expect(await burst(dispatcher, 4, '/raced')).toEqual([200, 200, 200, 200])
      expect(dispatcher.connector.preferredZones()[0]!.azName).toBe('us-west-2a')
      expect(dispatcher.connectionsPerZone()).toEqual({ 'usw2-az2': 4 })
      expect(env.active('us-west-2b') - activeB).toBe(4)
      await env.lab.zone('us-west-2a').restore()

      for (let i = 0; i < 50; i++) dispatcher.connector.report('usw2-az2', 'lost-in-flight', 'test')
      expect(events).toMatchObject([{ type: 'eject', zone: 'usw2-az2' }])
      await vi.waitFor(() => expect(env.active('us-west-2b')).toBe(activeB), {
        timeout: 2_000,
        interval: 10,
      })
      expect(dispatcher.connectionsPerZone()).toEqual({})
    } finally {
      await dispatcher.close()
    }
  })

  it('on readmit, connections in less preferred zones retire and traffic returns to the own zone', async () => {
    const dispatcher = env.dispatcherFor({
      ejection: { consecutiveFailures: 1, baseMs: 10_000, maxMs: 10_000 },
      healthCheck: { intervalMs: 0 },
      keepAliveTimeoutMs: 60_000,
    })
    const events: ZoneChangeEvent[] = []
    dispatcher.connector.onZoneChange((event) => events.push(event))
    try {
      await burst(dispatcher, 4, '/warm')
      expect(dispatcher.connectionsPerZone()).toEqual({ 'usw2-az1': 4 })
      dispatcher.connector.report('usw2-az1', 'lost-in-flight', 'test')
      await vi.waitFor(() => expect(dispatcher.connectionsPerZone()).toEqual({}), {
        timeout: 2_000,
        interval: 10,
      })
      await burst(dispatcher, 4, '/away')
      const away = dispatcher.connectionsPerZone()
      expect(away['usw2-az1']).toBeUndefined()
      expect(Object.values(away).reduce((a, b) => a + b, 0)).toBe(4)

      env.clock.now += 10_000
      await burst(dispatcher, 1, '/back')
      expect(events.map((e) => `${e.type} ${e.zone}`)).toEqual([
        'eject usw2-az1',
        'readmit usw2-az1',
      ])
      // Connections elsewhere close once idle (they were): only the own zone's remain.
      await vi.waitFor(
        () => expect(Object.keys(dispatcher.connectionsPerZone())).toEqual(['usw2-az1']),
        { timeout: 2_000, interval: 10 },
      )
    } finally {
      await dispatcher.close()
    }
  })

  it.each([
    ['blackhole', 'default'],
    ['hang', 'default'],
    // Requests on connections we closed for an ejection are retried without touching the budget.
    ['blackhole', 'empty'],
    // Periodic checks off: stalled requests alone ask for the check that ejects the zone.
    ['hang', 'stall-only'],
  ] as const)(
    'own zone %s under warm keep-alive load, %s retry budget: ejected by health checks, 0 failed requests',
    async (mode, budget) => {
      const dispatcher = env.dispatcherFor(
        budget === 'empty'
          ? { retry: { budget: { capacity: 0 } } }
          : budget === 'stall-only'
            ? { healthCheck: { intervalMs: 0 } }
            : {},
      )
      const events: ZoneChangeEvent[] = []
      dispatcher.connector.onZoneChange((event) => events.push(event))
      const othersBefore = env.accepted('us-west-2b') + env.accepted('us-west-2c')
      let completed = 0
      let afterEject = 0
      const failures: string[] = []
      let stop = false
      const loop = async () => {
        while (!stop) {
          try {
            const response = await request(`https://${API}/keepalive`, { dispatcher })
            await response.body.dump()
            if (response.statusCode !== 200) failures.push(String(response.statusCode))
          } catch (error) {
            failures.push(String((error as { code?: string }).code ?? error))
          }
          completed++
          if (events.some((e) => e.type === 'eject')) afterEject++
          if (afterEject >= 200) stop = true
        }
      }
      try {
        // Warm: 8 loops on keep-alive sockets in the own zone.
        const loops = Array.from({ length: 8 }, loop)
        await vi.waitFor(() => expect(completed).toBeGreaterThan(100), {
          timeout: 10_000,
          interval: 5,
        })
        expect(dispatcher.connectionsPerZone()['usw2-az1']).toBeGreaterThan(0)
        await env.lab.zone('us-west-2a').fail(mode)
        await Promise.all(loops)
        expect(failures).toEqual([])
        expect(events[0]).toMatchObject({ type: 'eject', zone: 'usw2-az1' })
        expect(env.accepted('us-west-2b') + env.accepted('us-west-2c')).toBeGreaterThan(
          othersBefore,
        )
        expect(dispatcher.connectionsPerZone()['usw2-az1']).toBeUndefined()
      } finally {
        stop = true
        await dispatcher.destroy()
      }
    },
    30_000,
  )

  it('without locality, the connector detects it: PRIVATELINK_AZ_ID sends the first request to that zone', async () => {
    vi.stubEnv('PRIVATELINK_AZ_ID', 'usw2-az3')
    const dispatcher = createEndpointDispatcher({ endpoint: env.lab.endpoint, ca: env.caPem })
    try {
      const before = env.accepted('us-west-2c')
      await burst(dispatcher, 1, '/first')
      expect(env.accepted('us-west-2c')).toBe(before + 1)
      expect(dispatcher.connectionsPerZone()).toEqual({ 'usw2-az3': 1 })
    } finally {
      await dispatcher.close()
    }
  })
})
