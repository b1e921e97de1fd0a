import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createEndpointDispatcher } from '@privatelink/http'
import { createTestCa, type Lab, startLab } from '@privatelink/lab'
import { request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { API, type HttpLab, startHttpLab } from './http-lab.js'
import { startHttpsTarget, type Target } from './https-target.js'

// The path forgets a connection idle for its timeout (350 s through an interface endpoint; a few
// seconds in the lab). undici's own idle timeout stays under it, and a socket the path may have
// forgotten is never handed a request.
const PATH_IDLE_MS = 5_000

describe("the dispatcher and the path's idle timeout", () => {
  let env: HttpLab
  const closers: (() => Promise<void>)[] = []
  beforeAll(async () => {
    env = await startHttpLab()
  })
  afterEach(async () => {
    for (const close of closers.splice(0)) await close()
    env.lab.zone('us-west-2a').setIdleTimeout({ idleTimeoutMs: 350_000, idleTimeoutMode: 'reset' })
  })
  afterAll(() => env?.close())

  it('refuses a keepAliveTimeoutMs near or above the path timeout, naming it, with a hint', () => {
    expect(() => env.dispatcherFor({ keepAliveTimeoutMs: 300_000 })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        details: expect.objectContaining({ option: 'keepAliveTimeoutMs' }),
        hint: expect.stringMatching(/forgets a connection idle for 350 s/),
      }),
    )
    // Against the connector's own path timeout (an NLB listener set lower).
    expect(() =>
      env.dispatcherFor({
        keepAliveTimeoutMs: 50_000,
        connectorOptions: { pathIdleTimeoutMs: 60_000 },
      }),
    ).toThrow(/not below 48000 ms/)
    // The https.Agent for axios, got and node-fetch keeps the same bound.
    expect(() => env.agentFor({ keepAliveTimeoutMs: 300_000 })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        details: expect.objectContaining({ option: 'keepAliveTimeoutMs' }),
      }),
    )
  })

  it.each(['reset', 'drop'] as const)(
    "keep-alive off, idle past the path timeout (lab mode '%s'): no request meets the forgotten socket",
    async (mode) => {
      env.lab
        .zone('us-west-2a')
        .setIdleTimeout({ idleTimeoutMs: PATH_IDLE_MS, idleTimeoutMode: mode })
      const dispatcher = env.dispatcherFor({
        keepAliveTimeoutMs: 3_000,
        connectorOptions: {
          keepAlive: false,
          pathIdleTimeoutMs: PATH_IDLE_MS,
          clock: () => env.clock.now,
          healthCheck: { intervalMs: 0 },
        },
      })
      closers.push(() => dispatcher.close())
      const seen: unknown[] = []
      const listener = (message: unknown) => seen.push(message)
      subscribe('privatelink:connector:path-idle', listener)
      const zone = () => env.lab.zone('us-west-2a').stats()['api']!
      const start = env.clock.now
      try {
        const first = await request(`https://${API}/first`, { dispatcher })
        await first.body.text()
        const before = zone()
        env.clock.now += PATH_IDLE_MS + 1_000
        await env.lab.zone('us-west-2a').sweepIdle()
        expect(zone().flowsForgotten).toBeGreaterThan(before.flowsForgotten)
        // A POST: not retried, so it must not meet the forgotten socket (a reset would fail it,
        // a dropped segment hang it until headersTimeout).
        const again = await request(`https://${API}/again-${mode}`, {
          dispatcher,
          method: 'POST',
          body: 'once',
        })
        expect(again.statusCode).toBe(200)
        await again.body.text()
        // A new connection carried it (the forgotten one got only its close).
        expect(zone().accepted).toBe(before.accepted + 1)
        expect(env.target.counts.get(`POST /again-${mode}`)).toBe(1)
        expect(seen).toEqual([expect.objectContaining({ zone: 'usw2-az1', at: 'use' })])
      } finally {
        unsubscribe('privatelink:connector:path-idle', listener)
        env.clock.now = start
      }
    },
  )
})

describe("the dispatcher idle past the path's timeout with default options (real seconds)", () => {
  let lab: Lab
  let target: Target
  let caPem: string
  beforeAll(async () => {
    const ca = await createTestCa()
    caPem = ca.certificatePem
    target = await startHttpsTarget(ca, [API])
    lab = await startLab({
      idleTimeoutMs: 3_000,
      privateDnsName: API,
      services: [{ name: 'api', port: 443, target: { host: '127.0.0.1', port: target.port } }],
    })
  })
  afterAll(async () => {
    await lab?.close()
    await target?.close()
  })

  it('no failed request and no hang: idle sockets close under the path timeout', async () => {
    // The lab's path forgets after 3 s; the connector is told, so undici's idle timeout (and a
    // server's Keep-Alive hint, 30 s here) stays under it.
    const dispatcher = createEndpointDispatcher({
      endpoint: lab.endpoint,
      locality: { source: 'options', azId: 'usw2-az1' },
      ca: caPem,
      connectorOptions: { pathIdleTimeoutMs: 3_000, healthCheck: { intervalMs: 0 } },
    })
    const zone = () => lab.zone('us-west-2a').stats()['api']!
    try {
      const first = await request(`https://${API}/first`, { dispatcher })
      await first.body.text()
      // Idle until undici has closed its socket (below the 3 s path, bounded wait).
      const deadline = performance.now() + 15_000
      while (zone().active > 0 && performance.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 200))
      expect(zone().active).toBe(0)
      const again = await request(`https://${API}/again`, { dispatcher })
      expect(again.statusCode).toBe(200)
      await again.body.text()
      expect(zone().accepted).toBe(2)
    } finally {
      await dispatcher.close()
    }
  })
})
