import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { once } from 'node:events'
import { connect as netConnect, type Socket } from 'node:net'
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls'
import {
  type Connector,
  type ConnectorOptions,
  createConnector,
  type Dial,
  type ZoneChangeEvent,
} from '@privatelink/core'
import { createTestCa, type Lab, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

// The hedged handshake: a zone that accepts TCP but no longer answers costs a new connection
// one hedge delay, not the health checks' ejection or the handshake deadline.
let lab: Lab
let tlsServer: TlsServer
let caPem: string
const now = 1_000_000
const servername = 'api.example.internal'
const ownZoneB = { source: 'options' as const, azId: 'usw2-az2', azName: 'us-west-2b' }
const connectors: Connector[] = []

beforeAll(async () => {
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
      {
        name: 'tls',
        port: 7601,
        target: { host: '127.0.0.1', port: (tlsServer.address() as { port: number }).port },
      },
    ],
  })
})
afterAll(async () => {
  await lab.close()
  tlsServer.close()
})
afterEach(async () => {
  for (const c of connectors.splice(0)) c.close()
  for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).restore()
})

/** Every TCP socket the connector opens, and a hook on each new one. */
function dialer(onDial: (socket: Socket, index: number) => void = () => {}) {
  const sockets: Socket[] = []
  const dial: Dial = (target) => {
    const socket = netConnect({ ...target, noDelay: true })
    sockets.push(socket)
    onDial(socket, sockets.length - 1)
    return socket
  }
  return { dial, sockets }
}

// Health checks off: only the hedge can free a connect waiting on a hung zone (the handshake
// deadline is 10 s), and their own connects would blur the per-zone counts.
const connector = (options: Partial<ConnectorOptions> = {}) => {
  const c = createConnector({
    endpoint: lab.endpoint,
    locality: ownZoneB,
    port: 7601,
    tls: { servername, ca: caPem },
    clock: () => now,
    healthCheck: { intervalMs: 0 },
    ...options,
  })
  connectors.push(c)
  return c
}
/** One handshake in the own zone: the hedge delay is now measured (its 100 ms floor on loopback). */
async function warmUp(c: Connector) {
  const socket = await c.connect()
  expect(c.zoneOf(socket)?.azName).toBe('us-west-2b')
  socket.destroy()
}
const accepted = () =>
  Object.fromEntries(
    lab.endpoint.zones.map((z) => [z.azName, lab.zone(z.azName).stats()['tls']!.accepted]),
  )
const delta = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]))

function record(name: string) {
  const events: Record<string, unknown>[] = []
  const listener = (message: unknown) => events.push(message as Record<string, unknown>)
  subscribe(name, listener)
  return { events, stop: () => unsubscribe(name, listener) }
}

describe('connector: hedged handshake', () => {
  it('own zone hung after TCP accept: a hedge completes the connect in another zone, and the hung zone is reported slow', async () => {
    const { dial, sockets } = dialer()
    // One slow signal ejects: the ejection names the signal the connect reported. The TCP race
    // waits long for the next zone, so only the hedge leaves the hung zone.
    const c = connector({ dial, attemptDelayMs: 5_000, ejection: { consecutiveFailures: 1 } })
    await warmUp(c)
    await lab.zone('us-west-2b').fail('hang')
    const changes: ZoneChangeEvent[] = []
    c.onZoneChange((event) => changes.push(event))
    const failover = record('privatelink:connector:failover')
    const connected = record('privatelink:connector:connect')
    try {
      const socket = await c.connect()
      expect(c.zoneOf(socket)?.azName).toBe('us-west-2a')
      const [data] = (await once(socket, 'data')) as [Buffer]
      expect(data.toString()).toBe('secure hello')
      socket.destroy()
      expect(changes).toEqual([
        {
          type: 'eject',
          zone: 'usw2-az2',
          azName: 'us-west-2b',
          azId: 'usw2-az2',
          signal: 'connect-slow',
        },
      ])
      expect(failover.events).toEqual([
        { endpointId: lab.endpoint.id, from: 'us-west-2b', to: 'us-west-2a', cause: 'slow' },
      ])
      expect(connected.events).toMatchObject([{ azName: 'us-west-2a', attempts: 2 }])
      // The warm-up's socket, the hung one (destroyed) and the hedge's winner.
      expect(sockets).toHaveLength(3)
      expect(sockets[1]!.destroyed).toBe(true)
    } finally {
      failover.stop()
      connected.stop()
    }
  })

  it('a hung own zone with default ejection: three hedged connects eject it as slow, the next goes straight to another zone', async () => {
    const c = connector({ attemptDelayMs: 5_000 })
    await warmUp(c)
    await lab.zone('us-west-2b').fail('hang')
    const changes: ZoneChangeEvent[] = []
    c.onZoneChange((event) => changes.push(event))
    for (let i = 0; i < 3; i++) {
      const socket = await c.connect()
      expect(c.zoneOf(socket)?.azName).not.toBe('us-west-2b')
      socket.destroy()
      // A TCP connect into the hung zone is no success: the slow streak is not reset by it.
      if (i < 2)
        expect(c.zones().find((z) => z.azName === 'us-west-2b')).toMatchObject({
          ejected: false,
          failures: i + 1,
        })
    }
    expect(changes).toMatchObject([{ type: 'eject', azName: 'us-west-2b', signal: 'connect-slow' }])
    const before = accepted()
    const socket = await c.connect()
    expect(c.zoneOf(socket)?.azName).toBe('us-west-2a')
    socket.destroy()
    expect(delta(before, accepted())).toEqual({ 'us-west-2a': 1, 'us-west-2b': 0, 'us-west-2c': 0 })
  })

  it('a burst of 50 new TLS connections to a healthy endpoint, hedge delay at its floor: 50 connections, all in the own zone, no hedge', async () => {
    const c = connector()
    await warmUp(c)
    const failover = record('privatelink:connector:failover')
    try {
      const before = accepted()
      const sockets = await Promise.all(Array.from({ length: 50 }, () => c.connect()))
      expect(sockets.map((s) => c.zoneOf(s)?.azName)).toEqual(Array(50).fill('us-west-2b'))
      expect(delta(before, accepted())).toEqual({
        'us-west-2a': 0,
        'us-west-2b': 50,
        'us-west-2c': 0,
      })
      expect(failover.events).toEqual([])
      expect(c.zones().map((z) => [z.azName, z.failures, z.ejected])).toEqual([
        ['us-west-2a', 0, false],
        ['us-west-2b', 0, false],
        ['us-west-2c', 0, false],
      ])
      for (const socket of sockets) socket.destroy()
    } finally {
      failover.stop()
    }
  })

  it("the caller's abort during a hedge: rejects with the caller's reason, every socket destroyed, nothing counted", async () => {
    const controller = new AbortController()
    const reason = new Error('caller gave up')
    // The hedge's own TCP connect (the third dial, after the warm-up and the hung own zone)
    // triggers the abort once its handshake has started.
    const { dial, sockets } = dialer((socket, index) => {
      if (index === 2) socket.once('connect', () => setImmediate(() => controller.abort(reason)))
    })
    const c = connector({ dial, attemptDelayMs: 5_000 })
    await warmUp(c)
    for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).fail('hang')
    const connected = record('privatelink:connector:connect')
    try {
      await expect(c.connect({ signal: controller.signal })).rejects.toBe(reason)
      expect(sockets.length).toBeGreaterThanOrEqual(3)
      expect(sockets.filter((s) => !s.destroyed)).toEqual([])
      expect(connected.events).toEqual([])
      expect(c.zones().map((z) => [z.azName, z.failures, z.ejected])).toEqual([
        ['us-west-2a', 0, false],
        ['us-west-2b', 0, false],
        ['us-west-2c', 0, false],
      ])
    } finally {
      connected.stop()
    }
  })
})
