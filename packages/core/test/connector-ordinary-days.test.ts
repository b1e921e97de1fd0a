import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { once } from 'node:events'
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls'
import { type Connector, type ConnectorOptions, createConnector } from '@privatelink/core'
import { createTestCa, type Lab, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { startEchoServer } from '../../lab/test/helpers.js'

// What a connector does on days when nothing is broken: bursts, blips, the environment's zone.
let lab: Lab
let echo: Awaited<ReturnType<typeof startEchoServer>>
let tlsServer: TlsServer
let caPem: string
let now = 1_000_000
const servername = 'api.example.internal'
const ownZoneB = { source: 'options' as const, azId: 'usw2-az2', azName: 'us-west-2b' }
const connectors: Connector[] = []

beforeAll(async () => {
  echo = await startEchoServer()
  const testCa = await createTestCa()
  const issued = await testCa.issue([servername])
  caPem = testCa.certificatePem
  tlsServer = createTlsServer({ cert: issued.certificatePem, key: issued.privateKeyPem }, (s) =>
    s.end('secure hello'),
  )
  tlsServer.listen(0, '127.0.0.1')
  await once(tlsServer, 'listening')
  lab = await startLab({
    clock: () => now,
    services: [
      { name: 'echo', port: 7400, target: { host: '127.0.0.1', port: echo.port } },
      {
        name: 'tls',
        port: 7401,
        target: { host: '127.0.0.1', port: (tlsServer.address() as { port: number }).port },
      },
    ],
  })
})
afterAll(async () => {
  await lab.close()
  await echo.close()
  tlsServer.close()
})
afterEach(async () => {
  for (const c of connectors.splice(0)) c.close()
  for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).restore()
  vi.useRealTimers()
})

const connector = (options: Partial<ConnectorOptions> = {}) => {
  const c = createConnector({
    endpoint: lab.endpoint,
    locality: ownZoneB,
    port: 7400,
    clock: () => now,
    ...options,
  })
  connectors.push(c)
  return c
}
const accepted = (service: string) =>
  Object.fromEntries(
    lab.endpoint.zones.map((z) => [z.azName, lab.zone(z.azName).stats()[service]!.accepted]),
  )
const delta = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]))

function record(name: string) {
  const events: Record<string, unknown>[] = []
  const listener = (message: unknown) => events.push(message as Record<string, unknown>)
  subscribe(name, listener)
  return { events, stop: () => unsubscribe(name, listener) }
}

describe('connector on ordinary days', () => {
  it('a burst of 200 new TLS connections to a healthy endpoint: 200 connections, all in the own zone', async () => {
    // Health checks off: their own connects to every zone would blur the per-zone counts.
    const c = connector({
      port: 7401,
      tls: { servername, ca: caPem },
      healthCheck: { intervalMs: 0 },
    })
    const eject = record('privatelink:connector:eject')
    const failover = record('privatelink:connector:failover')
    try {
      const before = accepted('tls')
      const sockets = await Promise.all(Array.from({ length: 200 }, () => c.connect()))
      expect(sockets.map((s) => c.zoneOf(s)?.azName)).toEqual(Array(200).fill('us-west-2b'))
      expect(delta(before, accepted('tls'))).toEqual({
        'us-west-2a': 0,
        'us-west-2b': 200,
        'us-west-2c': 0,
      })
      expect(eject.events).toEqual([])
      expect(failover.events).toEqual([])
      for (const socket of sockets) socket.destroy()
    } finally {
      eject.stop()
      failover.stop()
    }
  })

  it('16 concurrent connects into a refusing zone: one incident, one ejection of the base length', async () => {
    await lab.zone('us-west-2b').fail('refuse')
    const c = connector()
    const eject = record('privatelink:connector:eject')
    try {
      const sockets = await Promise.all(Array.from({ length: 16 }, () => c.connect()))
      expect(sockets.every((s) => c.zoneOf(s)?.azName !== 'us-west-2b')).toBe(true)
      for (const socket of sockets) socket.destroy()
      expect(eject.events).toHaveLength(1)
      expect(eject.events[0]).toMatchObject({
        azName: 'us-west-2b',
        level: 1,
        untilMs: now + 1_000,
      })
    } finally {
      eject.stop()
    }
  })

  it('a blip: the zone is back after the base ejection, and traffic returns with a readmit event', async () => {
    const c = connector()
    await lab.zone('us-west-2b').fail('refuse')
    for (let i = 0; i < 3; i++) (await c.connect()).destroy()
    expect(c.preferredZones()[0]!.azName).not.toBe('us-west-2b')
    await lab.zone('us-west-2b').restore()
    const changes: unknown[] = []
    c.onZoneChange((event) => changes.push(event))
    now += 1_000
    const socket = await c.connect()
    expect(c.zoneOf(socket)?.azName).toBe('us-west-2b')
    socket.destroy()
    expect(changes).toEqual([
      { type: 'readmit', zone: 'usw2-az2', azName: 'us-west-2b', azId: 'usw2-az2' },
    ])
  })

  it('a zone with two addresses never ejects itself in a race it wins', async () => {
    // Zone 2b's first address is silent (2a's ENI, blackholed); its second one answers.
    await lab.zone('us-west-2a').fail('blackhole')
    const [a, b, cz] = lab.endpoint.zones
    const endpoint = {
      ...lab.endpoint,
      zones: [
        { ...b!, addresses: [a!.addresses[0]!, b!.addresses[0]!] },
        { ...cz!, addresses: cz!.addresses },
      ],
    }
    const c = connector({ endpoint, attemptDelayMs: 20 })
    for (let i = 0; i < 4; i++) {
      const socket = await c.connect()
      expect(c.zoneOf(socket)?.azName).toBe('us-west-2b')
      socket.destroy()
    }
    expect(c.zones().find((z) => z.azName === 'us-west-2b')).toMatchObject({
      ejected: false,
      failures: 0,
    })
  })

  it('without a locality option, PRIVATELINK_AZ_ID decides the first zone', async () => {
    vi.stubEnv('PRIVATELINK_AZ_ID', 'usw2-az3')
    try {
      const c = createConnector({ endpoint: lab.endpoint, port: 7400, clock: () => now })
      connectors.push(c)
      expect(c.ownZone()?.azName).toBe('us-west-2c')
      const socket = await c.connect()
      expect(c.zoneOf(socket)?.azName).toBe('us-west-2c')
      socket.destroy()
    } finally {
      vi.unstubAllEnvs()
    }
  })

  it('health checks run while sockets are open, and never in the lambda profile', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    for (const [profile, expected] of [
      ['default', 1],
      ['lambda', 0],
    ] as const) {
      const c = connector({ profile })
      const socket = await c.connect()
      const before = accepted('echo')
      vi.advanceTimersByTime(2_000)
      // A check connects to every zone; wait for the own zone's to land, or for nothing.
      if (expected > 0)
        await vi.waitFor(
          () => expect(accepted('echo')['us-west-2a']).toBeGreaterThan(before['us-west-2a']!),
          { timeout: 5_000 },
        )
      else await c.probe().then(() => {}) // the explicit check still works on demand
      const after = delta(before, accepted('echo'))
      expect(after['us-west-2a']).toBe(1)
      socket.destroy()
      await once(socket, 'close')
    }
    // With no socket open, the timer stops: no further checks.
    const c = connector()
    const last = await c.connect()
    last.destroy()
    await once(last, 'close')
    const before = accepted('echo')
    vi.advanceTimersByTime(10_000)
    await new Promise((resolve) => setImmediate(resolve))
    expect(delta(before, accepted('echo'))).toEqual({
      'us-west-2a': 0,
      'us-west-2b': 0,
      'us-west-2c': 0,
    })
  })

  it('a blackholed own zone under a health check: ejected with probe-failed, the rest stay in', async () => {
    const c = connector({ healthCheck: { timeoutMs: 500 } })
    const warm = await c.connect()
    await lab.zone('us-west-2b').fail('blackhole')
    const results = await c.probe()
    expect(results['us-west-2b']).toBe('ETIMEDOUT')
    expect(c.zones().map((z) => [z.azName, z.ejected])).toEqual([
      ['us-west-2a', false],
      ['us-west-2b', true],
      ['us-west-2c', false],
    ])
    warm.destroy()
  })
})
