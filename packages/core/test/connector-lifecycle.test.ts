import { Socket } from 'node:net'
import {
  type Connector,
  type ConnectorOptions,
  createConnector,
  type PrivateLinkError,
  type RetireEvent,
  type Retirement,
  type ZoneChangeEvent,
} from '@privatelink/core'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startEchoServer } from '../../lab/test/helpers.js'

// One socket lifecycle in core: watch() reports how a socket ended and tells its owner when its
// zone is retired; onRetire says which zones' sockets leave, and why.
let lab: Lab
let east: Lab
let echo: Awaited<ReturnType<typeof startEchoServer>>
let now = 7_000_000
const PORT = 7600
const connectors: Connector[] = []

beforeAll(async () => {
  echo = await startEchoServer()
  const services = [{ name: 'echo', port: PORT, target: { host: '127.0.0.1', port: echo.port } }]
  ;[lab, east] = await Promise.all([
    startLab({ region: 'us-west-2', clock: () => now, services }),
    startLab({ region: 'us-east-1', clock: () => now, services }),
  ])
})
afterAll(async () => {
  await Promise.all([lab.close(), east.close()])
  await echo.close()
})
afterEach(() => {
  for (const c of connectors.splice(0)) c.close()
})

const connector = (options: Partial<ConnectorOptions> = {}) => {
  const c = createConnector({
    endpoint: lab.endpoint,
    locality: { source: 'options', azId: 'usw2-az2' },
    port: PORT,
    clock: () => now,
    attemptDelayMs: 20,
    healthCheck: { intervalMs: 0 },
    ...options,
  })
  connectors.push(c)
  return c
}
const closed = (socket: Socket) =>
  new Promise<void>((resolve) => {
    socket.once('close', () => resolve())
    socket.destroy()
  })
const ejections = (c: Connector) => {
  const events: ZoneChangeEvent[] = []
  c.onZoneChange((event) => {
    if (event.type === 'eject') events.push(event)
  })
  return events
}

describe('connector.watch', () => {
  it('a watched socket that dies while busy ejects its zone with lost-in-flight', async () => {
    const c = connector({ ejection: { consecutiveFailures: 1 } })
    const ejected = ejections(c)
    const socket = await c.connect()
    const watch = c.watch(socket, { busy: () => true })
    expect(watch.zone).toBe('usw2-az2')
    expect(watch.target.name).toBe('us-west-2')
    await closed(socket)
    expect(ejected).toMatchObject([{ zone: 'usw2-az2', signal: 'lost-in-flight' }])
  })

  it('an idle close counts nothing, and neither does a close the owner released', async () => {
    const c = connector({ ejection: { consecutiveFailures: 1 } })
    const ejected = ejections(c)
    const idle = await c.connect()
    c.watch(idle, { busy: () => false })
    await closed(idle)
    const ours = await c.connect()
    c.watch(ours, { busy: () => true }).release()
    await closed(ours)
    // The owner's own error (undici's UND_ERR_INFO) says nothing about the zone either.
    const aborted = await c.connect()
    c.watch(aborted, { busy: () => true, ownClose: (error) => error.message === 'ours' })
    await new Promise((resolve) => aborted.once('close', resolve).destroy(new Error('ours')))
    expect(ejected).toEqual([])
    expect(c.zones().find((z) => z.zone === 'usw2-az2')).toMatchObject({ failures: 0 })
  })

  it('an ejection retires the zone at once; a readmission retires the worse zones, to drain', async () => {
    const c = connector({ ejection: { baseMs: 5_000, consecutiveFailures: 1 } })
    const told: [string, Retirement][] = []
    const events: RetireEvent[] = []
    c.onRetire((event) => events.push(event))
    const own = await c.connect()
    c.watch(own, { busy: () => false, retire: (r) => told.push(['own', r]) })
    c.report('usw2-az2', 'connect-failed')
    expect(told).toMatchObject([['own', { reason: 'eject', zone: 'usw2-az2', out: true }]])
    expect(events).toMatchObject([{ reason: 'eject', zone: 'usw2-az2', zones: ['usw2-az2'] }])
    const other = await c.connect()
    const otherZone = c.watch(other, {
      busy: () => true,
      retire: (r) => told.push(['other', r]),
    }).zone
    expect(otherZone).not.toBe('usw2-az2')
    now += 5_000
    c.preferredZones()
    expect(told.slice(1)).toMatchObject([
      ['other', { reason: 'readmit', zone: otherZone, out: false, busy: true }],
    ])
    expect(events[1]).toMatchObject({ reason: 'readmit', zone: 'usw2-az2' })
    expect([...(events[1]?.zones ?? [])].sort()).toEqual(['usw2-az1', 'usw2-az3'])
    // Told once to drain; told again only when that becomes urgent (its own zone ejected).
    c.report('usw2-az2', 'connect-failed')
    now += 20_000
    c.preferredZones()
    expect(told).toHaveLength(2)
    c.report(otherZone, 'connect-failed')
    expect(told.slice(2)).toMatchObject([['other', { reason: 'eject', out: true }]])
    own.destroy()
    other.destroy()
  })

  it('a return to the primary target retires the other target, to drain', async () => {
    const c = connector({
      endpoint: [{ endpoint: lab.endpoint }, { endpoint: east.endpoint }],
      ejection: { baseMs: 5_000, consecutiveFailures: 1 },
    })
    for (const zone of c.zones().filter((z) => z.target === 'us-west-2'))
      c.report(zone.zone, 'connect-failed')
    expect(c.activeTarget().name).toBe('us-east-1')
    const socket = await c.connect()
    const told: Retirement[] = []
    const watch = c.watch(socket, { busy: () => false, retire: (r) => told.push(r) })
    expect(watch.target.name).toBe('us-east-1')
    now += 5_000
    expect(c.activeTarget().name).toBe('us-west-2')
    expect(told).toMatchObject([
      {
        reason: 'target',
        zone: watch.zone,
        out: false,
        event: { move: { type: 'return', from: 'us-east-1', to: 'us-west-2' } },
      },
    ])
    expect(watch.leaving).toBe('drain')
    socket.destroy()
  })

  it('refuses a socket it did not open, and options without busy', async () => {
    const c = connector()
    expect(() => c.watch(new Socket(), { busy: () => false })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }) as PrivateLinkError,
    )
    const socket = await c.connect()
    expect(() => c.watch(socket, {} as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        details: expect.objectContaining({ option: 'watch(options).busy' }),
      }) as PrivateLinkError,
    )
    expect(() => c.onRetire('nope' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }) as PrivateLinkError,
    )
    socket.destroy()
  })
})
