import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { connect as netConnect } from 'node:net'
import { type Connector, createConnector, type PrivateLinkError } from '@privatelink/core'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startEchoServer } from '../../lab/test/helpers.js'

// Two labs as two regions: a primary in us-west-2 and a secondary in us-east-1.
let primary: Lab
let secondary: Lab
let echo: Awaited<ReturnType<typeof startEchoServer>>
let now = 5_000_000
const connectors: Connector[] = []

beforeAll(async () => {
  echo = await startEchoServer()
  const services = [{ name: 'echo', port: 7500, target: { host: '127.0.0.1', port: echo.port } }]
  ;[primary, secondary] = await Promise.all([
    startLab({ region: 'us-west-2', clock: () => now, services }),
    startLab({ region: 'us-east-1', clock: () => now, services }),
  ])
})
afterAll(async () => {
  await Promise.all([primary.close(), secondary.close()])
  await echo.close()
})
afterEach(async () => {
  for (const c of connectors.splice(0)) c.close()
  for (const lab of [primary, secondary])
    for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).restore()
})

const twoRegions = (options: Record<string, unknown> = {}) => {
  const c = createConnector({
    endpoint: [{ endpoint: primary.endpoint }, { endpoint: secondary.endpoint }],
    locality: { source: 'options', azId: 'usw2-az2' },
    port: 7500,
    clock: () => now,
    attemptDelayMs: 20,
    ...options,
  })
  connectors.push(c)
  return c
}
function record(name: string) {
  const events: Record<string, unknown>[] = []
  const listener = (message: unknown) => events.push(message as Record<string, unknown>)
  subscribe(name, listener)
  return { events, stop: () => unsubscribe(name, listener) }
}
const blackholeRegion = async (lab: Lab) => {
  for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).fail('blackhole')
}

describe('priority groups (regions)', () => {
  it('names targets by region and keeps traffic in the first, own zone first', async () => {
    const c = twoRegions()
    expect(c.targets.map((t) => [t.name, t.region])).toEqual([
      ['us-west-2', 'us-west-2'],
      ['us-east-1', 'us-east-1'],
    ])
    const socket = await c.connect()
    expect(c.targetOf(socket)?.name).toBe('us-west-2')
    expect(c.zoneOf(socket)?.azId).toBe('usw2-az2')
    socket.destroy()
    expect(c.zones().map((z) => z.zone)).toEqual([
      'usw2-az1',
      'usw2-az2',
      'usw2-az3',
      `${secondary.endpoint.id}/use1-az1`,
      `${secondary.endpoint.id}/use1-az2`,
      `${secondary.endpoint.id}/use1-az3`,
    ])
  })

  it('a whole region down: new connections go to the next, the failover is published, and traffic returns after health checks pass', async () => {
    const c = twoRegions({ ejection: { consecutiveFailures: 1 }, healthCheck: { timeoutMs: 500 } })
    const failover = record('privatelink:connector:region-failover')
    const back = record('privatelink:connector:region-return')
    const changes: unknown[] = []
    c.onTargetChange((event) => changes.push(event))
    try {
      const warm = await c.connect()
      await blackholeRegion(primary)
      // Every new connection succeeds; the first one ejects the primary's zones.
      for (let i = 0; i < 5; i++) {
        const socket = await c.connect()
        expect(c.targetOf(socket)?.name).toBe('us-east-1')
        socket.destroy()
      }
      expect(c.activeTarget().name).toBe('us-east-1')
      expect(changes).toEqual([{ type: 'failover', from: 'us-west-2', to: 'us-east-1' }])
      expect(failover.events).toEqual([
        { endpointId: primary.endpoint.id, type: 'failover', from: 'us-west-2', to: 'us-east-1' },
      ])
      // The region comes back. Its ejections run out, but traffic stays until it passes checks.
      for (const zone of primary.endpoint.zones) await primary.zone(zone.azName).restore()
      now += 60_000
      const stillSecondary = await c.connect()
      expect(c.targetOf(stillSecondary)?.name).toBe('us-east-1')
      stillSecondary.destroy()
      // Two passing checks in a row bring it back; a check already running when the region was
      // restored (the periodic one) may still fail, so check until it is back, boundedly.
      for (let i = 0; i < 10 && c.activeTarget().name !== 'us-west-2'; i++) await c.probe()
      expect(c.activeTarget().name).toBe('us-west-2')
      expect(back.events).toMatchObject([{ type: 'return', from: 'us-east-1', to: 'us-west-2' }])
      const home = await c.connect()
      expect(c.targetOf(home)?.name).toBe('us-west-2')
      home.destroy()
      warm.destroy()
    } finally {
      failover.stop()
      back.stop()
    }
  })

  it('one health check round fails a whole region over while the other region answers; one zone alone needs the repeat', async () => {
    // Fixed check timeout: the test is about how many checks it takes, not how long one is.
    const dialled: string[] = []
    const c = twoRegions({
      healthCheck: { intervalMs: 0, timeoutMs: 300 },
      dial: (target: { host: string; port: number }) => {
        dialled.push(target.host)
        return netConnect(target)
      },
    })
    const primaryAddresses = primary.endpoint.zones.map((zone) => zone.addresses[0]!)
    const dialsTo = (address: string) => dialled.filter((host) => host === address).length
    const ejections = record('privatelink:connector:eject')
    try {
      ;(await c.connect()).destroy()
      // One zone silent: the failed check is repeated at once (one lost SYN is not an outage).
      await primary.zone('us-west-2b').fail('blackhole')
      const silent = primary.zone('us-west-2b').address
      const before = dialsTo(silent)
      await c.probe()
      expect(dialsTo(silent) - before).toBe(2)
      expect(ejections.events.map((e) => [e['azName'], e['signal']])).toEqual([
        ['us-west-2b', 'probe-failed'],
      ])
      await primary.zone('us-west-2b').restore()
      ejections.events.length = 0
      now += 120_000
      await c.probe()
      // The whole region silent while us-east-1 answers the same round: out after that round.
      await blackholeRegion(primary)
      const changes: unknown[] = []
      c.onTargetChange((event) => changes.push(event))
      const dialsBefore = primaryAddresses.map(dialsTo)
      const result = await c.probe()
      // One check each, no repeat: the other region answered the same round.
      expect(primaryAddresses.map((address, i) => dialsTo(address) - dialsBefore[i]!)).toEqual([
        1, 1, 1,
      ])
      expect(Object.values(result).filter((r) => typeof r === 'string')).toHaveLength(3)
      expect(c.activeTarget().name).toBe('us-east-1')
      expect(changes).toEqual([{ type: 'failover', from: 'us-west-2', to: 'us-east-1' }])
      expect(new Set(ejections.events.map((e) => e['azName']))).toEqual(
        new Set(primary.endpoint.zones.map((zone) => zone.azName)),
      )
    } finally {
      ejections.stop()
    }
  })

  it('connect({ target }) dials one target only, e.g. the one a token was signed for', async () => {
    const c = twoRegions()
    const socket = await c.connect({ target: 'us-east-1' })
    expect(c.targetOf(socket)?.name).toBe('us-east-1')
    socket.destroy()
    await blackholeRegion(secondary)
    const error = (await twoRegions({ connectTimeoutMs: 100 })
      .connect({ target: 1 })
      .catch((e) => e)) as PrivateLinkError
    expect(error.code).toMatch(/^ERR_/)
    await expect(c.connect({ target: 'eu-west-1' })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    })
  })

  it('the signing region is the service region for a cross-region endpoint', () => {
    const c = createConnector({
      endpoint: [
        { endpoint: { ...primary.endpoint, serviceRegion: 'eu-west-1' } },
        { endpoint: secondary.endpoint, name: 'dr', region: 'us-east-2' },
      ],
      locality: null,
      port: 7500,
    })
    connectors.push(c)
    expect(c.targets.map((t) => [t.name, t.region])).toEqual([
      ['eu-west-1', 'eu-west-1'],
      ['dr', 'us-east-2'],
    ])
    expect(() =>
      createConnector({ endpoint: [{ endpoint: { zones: [] } as never }], port: 1 }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
  })
})
