import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { Socket } from 'node:net'
import {
  type Connector,
  type ConnectorOptions,
  createConnector,
  type Dial,
  type Endpoint,
  PrivateLinkError,
  type UpgradeContext,
  type ZoneChangeEvent,
} from '@privatelink/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

// `connect({ upgrade })`: a protocol step the caller runs on the TCP winner in place of TLS
// (PostgreSQL's SSLRequest), given everything the TLS handshake gets. The network is a fake dial
// (sockets that connect on the next tick, no I/O) and each upgrade settles when the test says.
const endpoint: Endpoint = {
  id: 'vpce-0123456789abcdef0',
  region: 'us-west-2',
  dnsName:
    'vpce-0123456789abcdef0-abcdefgh.vpce-svc-0123456789abcdef0.us-west-2.vpce.amazonaws.com',
  zones: [
    { azName: 'us-west-2a', azId: 'usw2-az1', addresses: ['10.0.1.10'] },
    { azName: 'us-west-2b', azId: 'usw2-az2', addresses: ['10.0.2.10'] },
    { azName: 'us-west-2c', azId: 'usw2-az3', addresses: ['10.0.3.10'] },
  ],
}
const ownZoneB = { source: 'options' as const, azId: 'usw2-az2', azName: 'us-west-2b' }
const zoneAt = (host: string) => endpoint.zones.find((z) => z.addresses.includes(host))!.azName

/** What one zone's upgrade does: resolve, never settle (on its own), or reject with an error. */
type Behaviour = 'ok' | 'hang' | 'deaf' | Error

interface Call {
  zone: string
  socket: Socket
  context: UpgradeContext
  resolve(): void
  reject(error: unknown): void
}

function network() {
  const dialled: { zone: string; socket: Socket }[] = []
  const upgraded: Socket[] = []
  const calls: Call[] = []
  const waiting: ((call: Call) => void)[] = []
  const behaviour = new Map<string, Behaviour>()
  const dial: Dial = ({ host }) => {
    const socket = new Socket()
    dialled.push({ zone: zoneAt(host), socket })
    process.nextTick(() => socket.emit('connect'))
    return socket
  }
  const upgrade = (socket: Socket, context: UpgradeContext): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const zone = context.zone.azName
      const call: Call = {
        zone,
        socket,
        context,
        resolve: () => {
          // What a TLS upgrade hands out: another socket over the TCP one.
          const secure = new Socket()
          upgraded.push(secure)
          resolve(secure)
        },
        reject,
      }
      calls.push(call)
      waiting.shift()?.(call)
      const does = behaviour.get(zone) ?? 'ok'
      // 'deaf' ignores its signal: the connector must settle without it.
      if (does !== 'deaf')
        context.signal.addEventListener('abort', () => reject(context.signal.reason), {
          once: true,
        })
      if (does === 'ok') call.resolve()
      else if (does instanceof Error) reject(does)
    })
  /** The next upgrade call (one already made and not yet taken, or the next to come). */
  let taken = 0
  const nextCall = (): Promise<Call> =>
    taken < calls.length
      ? Promise.resolve(calls[taken++]!)
      : new Promise((resolve) => {
          waiting.push((call) => {
            taken++
            resolve(call)
          })
        })
  const cleanup = () => {
    for (const { socket } of dialled) socket.destroy()
    for (const socket of upgraded) socket.destroy()
  }
  return { dial, upgrade, dialled, calls, behaviour, nextCall, cleanup }
}

const error = (code: string) => Object.assign(new Error(code), { code })

let net: ReturnType<typeof network>
const connectors: Connector[] = []
// Health checks off: their timer would outlive the test, and their connects blur the counts.
const connector = (options: Partial<ConnectorOptions> = {}) => {
  const c = createConnector({
    endpoint,
    locality: ownZoneB,
    port: 5432,
    clock: () => 1_000_000,
    dial: net.dial,
    healthCheck: { intervalMs: 0 },
    ...options,
  })
  connectors.push(c)
  return c
}
const health = (c: Connector) =>
  Object.fromEntries(c.zones().map((z) => [z.azName, [z.failures, z.ejected]]))
const healthy = { 'us-west-2a': [0, false], 'us-west-2b': [0, false], 'us-west-2c': [0, false] }

function record(name: string) {
  const events: Record<string, unknown>[] = []
  const listener = (message: unknown) => events.push(message as Record<string, unknown>)
  subscribe(name, listener)
  return { events, stop: () => unsubscribe(name, listener) }
}

beforeEach(() => {
  net = network()
})
afterEach(() => {
  for (const c of connectors.splice(0)) c.close()
  net.cleanup()
})

describe('connector: upgrade (deterministic)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('hands out the upgraded socket; zoneOf, targetOf and the connect event know it; the zone succeeds only when the upgrade resolves', async () => {
    const c = connector()
    // Two failures in a row: a success resets the streak, a bare TCP connect must not.
    c.report('usw2-az2', 'connect-failed')
    c.report('usw2-az2', 'connect-failed')
    net.behaviour.set('us-west-2b', 'hang')
    const connected = record('privatelink:connector:connect')
    try {
      const connecting = c.connect({ upgrade: net.upgrade, tls: false })
      const call = await net.nextCall()
      expect(call.zone).toBe('us-west-2b')
      expect(call.socket).toBe(net.dialled[0]!.socket)
      expect(call.context.target).toBe(c.targets[0])
      expect(call.context.zone).toBe(endpoint.zones[1])
      expect(call.context.signal.aborted).toBe(false)
      expect(health(c)['us-west-2b']).toEqual([2, false])
      call.resolve()
      const socket = await connecting
      expect(socket).not.toBe(call.socket)
      expect(c.zoneOf(socket)?.azName).toBe('us-west-2b')
      expect(c.zoneOf(call.socket)?.azName).toBe('us-west-2b')
      expect(c.targetOf(socket)?.name).toBe('us-west-2')
      expect(c.targetOf(call.socket)?.name).toBe('us-west-2')
      expect(health(c)['us-west-2b']).toEqual([0, false])
      expect(connected.events).toMatchObject([{ azName: 'us-west-2b', attempts: 1 }])
      expect(net.dialled).toHaveLength(1)
      expect(vi.getTimerCount()).toBe(0)
    } finally {
      connected.stop()
    }
  })

  it("the hedge delay follows the upgrade's smoothed time: 1000 ms unmeasured, its 100 ms floor once measured", async () => {
    const c = connector()
    net.behaviour.set('us-west-2b', 'hang')
    const first = c.connect({ upgrade: net.upgrade })
    const unmeasured = await net.nextCall()
    vi.advanceTimersByTime(999)
    expect(vi.getTimerCount()).toBe(1)
    unmeasured.resolve()
    await first
    expect(vi.getTimerCount()).toBe(0)

    const second = c.connect({ upgrade: net.upgrade })
    const measured = await net.nextCall()
    vi.advanceTimersByTime(99)
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(1)
    expect(vi.getTimerCount()).toBe(0)
    // Resolved before the hedge's check (a setImmediate) runs: the check is cancelled with it.
    measured.resolve()
    expect(c.zoneOf(await second)?.azName).toBe('us-west-2b')
    expect(net.dialled).toHaveLength(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it.each([
    ['a raw socket error', error('ECONNRESET'), 'ECONNRESET'],
    ['a timeout of its own', error('ETIMEDOUT'), 'ETIMEDOUT'],
    [
      'a failed TLS handshake (ERR_TLS_HANDSHAKE)',
      new PrivateLinkError('ERR_TLS_HANDSHAKE', 'TLS handshake failed (ECONNRESET)', {
        hint: 'the proxy reset the handshake',
      }),
      'ERR_TLS_HANDSHAKE',
    ],
  ])(
    '%s: counts connect-failed and the same connect moves to the next zone',
    async (_, failure, code) => {
      const c = connector()
      net.behaviour.set('us-west-2b', failure)
      const failover = record('privatelink:connector:failover')
      try {
        const socket = await c.connect({ upgrade: net.upgrade })
        expect(c.zoneOf(socket)?.azName).not.toBe('us-west-2b')
        expect(net.calls.map((call) => call.zone)).toEqual(['us-west-2b', c.zoneOf(socket)?.azName])
        expect(net.dialled[0]!.socket.destroyed).toBe(true)
        expect(health(c)['us-west-2b']).toEqual([1, false])
        expect(failover.events).toMatchObject([{ from: 'us-west-2b', cause: code }])
        expect(vi.getTimerCount()).toBe(0)
      } finally {
        failover.stop()
      }
    },
  )

  it('every zone failing its upgrade: a typed error naming each attempt, never the raw one', async () => {
    const c = connector()
    for (const zone of endpoint.zones) net.behaviour.set(zone.azName, error('ECONNRESET'))
    const failure = (await c.connect({ upgrade: net.upgrade }).catch((e: unknown) => e)) as
      | PrivateLinkError
      | undefined
    expect(PrivateLinkError.isInstance(failure)).toBe(true)
    expect(failure!.code).toBe('ERR_ENDPOINT_UNREACHABLE')
    expect(failure!.details['attempts']).toMatchObject([
      { azName: 'us-west-2b', code: 'ECONNRESET' },
      { code: 'ECONNRESET' },
      { code: 'ECONNRESET' },
    ])
    expect(net.dialled.every(({ socket }) => socket.destroyed)).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it.each([
    ['its own typed error', 'ERR_PG_TLS_REFUSED'],
    ['a certificate name error', 'ERR_TLS_NAME_MISMATCH'],
    ['a trust error', 'ERR_TLS_UNTRUSTED'],
  ])(
    '%s (%s) ends the connect at once: no other zone is dialled, nothing counted',
    async (_, code) => {
      const c = connector()
      const refused = new PrivateLinkError(code, 'configuration no zone fixes', {
        hint: 'fix the configuration',
      })
      net.behaviour.set('us-west-2b', refused)
      await expect(c.connect({ upgrade: net.upgrade })).rejects.toBe(refused)
      expect(net.dialled.map(({ zone }) => zone)).toEqual(['us-west-2b'])
      expect(net.dialled[0]!.socket.destroyed).toBe(true)
      expect(health(c)).toEqual(healthy)
      expect(vi.getTimerCount()).toBe(0)
    },
  )

  it.each([
    ['an upgrade that honours its signal', 'hang' as const],
    ['an upgrade that ignores its signal', 'deaf' as const],
  ])(
    "the caller's abort during %s: rejects with the caller's reason, socket destroyed, nothing counted, no timer left",
    async (_, behaviour) => {
      const c = connector()
      net.behaviour.set('us-west-2b', behaviour)
      const controller = new AbortController()
      const reason = new Error('caller gave up')
      const connecting = c.connect({ upgrade: net.upgrade, signal: controller.signal })
      const call = await net.nextCall()
      controller.abort(reason)
      await expect(connecting).rejects.toBe(reason)
      expect(call.context.signal.aborted).toBe(true)
      expect(call.socket.destroyed).toBe(true)
      expect(health(c)).toEqual(healthy)
      expect(vi.getTimerCount()).toBe(0)
    },
  )

  it('the zone ejected while its upgrade waits: the upgrade is abandoned (not counted again) and the connect moves on', async () => {
    const c = connector()
    net.behaviour.set('us-west-2b', 'deaf')
    const changes: ZoneChangeEvent[] = []
    c.onZoneChange((event) => changes.push(event))
    const connecting = c.connect({ upgrade: net.upgrade })
    const call = await net.nextCall()
    for (let i = 0; i < 3; i++) c.report('usw2-az2', 'lost-in-flight')
    const socket = await connecting
    expect(c.zoneOf(socket)?.azName).not.toBe('us-west-2b')
    expect(call.socket.destroyed).toBe(true)
    expect(changes).toMatchObject([
      { type: 'eject', azName: 'us-west-2b', signal: 'lost-in-flight' },
    ])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('refuses an upgrade with tls, and an upgrade that is not a function', async () => {
    const c = connector()
    await expect(
      c.connect({ upgrade: net.upgrade, tls: { servername: 'db.example.internal' } }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', details: { option: 'connect({ tls })' } })
    await expect(
      c.connect({ upgrade: 'ssl' as unknown as typeof net.upgrade }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      details: { option: 'connect({ upgrade })' },
    })
    expect(net.dialled).toEqual([])
  })
})

// The hedge's own check asks whether the event loop was busy while the upgrade waited, so it
// needs the real loop (fake timers keep it busy): a real 100 ms hedge delay, no timed assertion.
describe('connector: upgrade hedged', () => {
  it('a zone that accepts TCP and never answers the upgrade: hedged into another zone, reported slow, ejected after three connects', async () => {
    const c = connector()
    const warm = c.connect({ upgrade: net.upgrade })
    expect(c.zoneOf(await warm)?.azName).toBe('us-west-2b')
    net.behaviour.set('us-west-2b', 'hang')
    const changes: ZoneChangeEvent[] = []
    c.onZoneChange((event) => changes.push(event))
    const failover = record('privatelink:connector:failover')
    try {
      for (let i = 0; i < 3; i++) {
        const hung = net.calls.length
        const socket = await c.connect({ upgrade: net.upgrade })
        expect(c.zoneOf(socket)?.azName).not.toBe('us-west-2b')
        const call = net.calls[hung]!
        expect(call.zone).toBe('us-west-2b')
        expect(call.context.signal.aborted).toBe(true)
        expect(call.socket.destroyed).toBe(true)
        if (i < 2) expect(health(c)['us-west-2b']).toEqual([i + 1, false])
      }
      expect(changes).toMatchObject([
        { type: 'eject', azName: 'us-west-2b', signal: 'connect-slow' },
      ])
      expect(failover.events).toHaveLength(3)
      expect(failover.events[0]).toMatchObject({ from: 'us-west-2b', cause: 'slow' })
      // Ejected: the next connect goes straight to another zone.
      const dialled = net.dialled.length
      const socket = await c.connect({ upgrade: net.upgrade })
      expect(net.dialled.slice(dialled).map(({ zone }) => zone)).toEqual([c.zoneOf(socket)?.azName])
      expect(c.zoneOf(socket)?.azName).not.toBe('us-west-2b')
    } finally {
      failover.stop()
    }
  })
})
