import { describe, expect, it } from 'vitest'
import type { ResolvedTarget, TargetChangeEvent } from './connector-types.js'
import type { Endpoint } from './model.js'
import { TargetRouter } from './target-router.js'
import { ZoneHealth } from './zone-health.js'
import { ZoneTable } from './zone-table.js'

// The router is pure: zone health, a locality and a clock in; the order and target moves out.
const endpoint = (id: string, region: string, prefix: string): Endpoint => ({
  id,
  region,
  dnsName: `${id}.vpce-svc.${region}.vpce.amazonaws.com`,
  zones: ['a', 'b', 'c'].map((letter, i) => ({
    azName: `${region}${letter}`,
    azId: `${prefix}-az${i + 1}`,
    addresses: [],
  })),
})
const target = (index: number, e: Endpoint): ResolvedTarget => ({
  index,
  name: e.region,
  endpoint: e,
  region: e.region,
})

function setup(targets: ResolvedTarget[], checksOn = false) {
  let now = 1_000
  const table = new ZoneTable(targets)
  const health = new ZoneHealth(table.keys, {
    baseMs: 1_000,
    maxMs: 60_000,
    consecutiveFailures: 1,
    maxEjectedPercent: 100,
    decayMs: 30_000,
    unhealthyThreshold: 2,
  })
  const moves: TargetChangeEvent[] = []
  const readmitted: string[] = []
  const router = new TargetRouter({
    targets,
    table,
    health,
    clock: () => now,
    checksOn,
    readmitted: (event) => readmitted.push(event.key),
    moved: (event) => moves.push(event),
  })
  const eject = (key: string) => health.record(key, 'connect-failed', now)
  const keys = () => router.route().zones.map((entry) => entry.key)
  return { router, health, moves, readmitted, eject, keys, tick: (ms: number) => (now += ms) }
}

const west = endpoint('vpce-1', 'us-west-2', 'usw2')
const east = endpoint('vpce-2', 'us-east-1', 'use1')

describe('TargetRouter', () => {
  it('puts the own zone first and leaves ejected zones to the end of the race', () => {
    const { router, eject, keys, tick, readmitted } = setup([target(0, west)])
    router.setLocality({ source: 'options', azId: 'usw2-az2' })
    expect(keys()).toEqual(['usw2-az2', 'usw2-az1', 'usw2-az3'])
    expect(router.ownZone()?.azName).toBe('us-west-2b')
    eject('usw2-az2')
    expect(keys()).toEqual(['usw2-az1', 'usw2-az3'])
    expect(router.route().race.map((entry) => entry.key)).toEqual([
      'usw2-az1',
      'usw2-az3',
      'usw2-az2',
    ])
    // The same arrays until something changes: the http adapter compares them by identity.
    expect(router.route().preferred).toBe(router.route().preferred)
    tick(1_000)
    expect(keys()[0]).toBe('usw2-az2')
    expect(readmitted).toEqual(['usw2-az2'])
  })

  it('fails over when every zone of the active target is out, and returns when one is back', () => {
    const { router, eject, keys, moves, tick } = setup([target(0, west), target(1, east)])
    for (const key of ['usw2-az1', 'usw2-az2', 'usw2-az3']) eject(key)
    expect(keys()).toEqual(['vpce-2/use1-az1', 'vpce-2/use1-az2', 'vpce-2/use1-az3'])
    expect(router.active.name).toBe('us-east-1')
    tick(1_000)
    router.route()
    expect(moves).toEqual([
      { type: 'failover', from: 'us-west-2', to: 'us-east-1' },
      { type: 'return', from: 'us-east-1', to: 'us-west-2' },
    ])
  })

  it('with health checks on, a target returns only after one of its zones passed two checks', () => {
    const { router, health, eject, moves, tick } = setup([target(0, west), target(1, east)], true)
    for (const key of ['usw2-az1', 'usw2-az2', 'usw2-az3']) eject(key)
    router.route()
    tick(1_000)
    router.route()
    expect(router.active.name).toBe('us-east-1')
    health.recordSuccess('usw2-az1', 2_000, true)
    health.recordSuccess('usw2-az1', 2_000, true)
    router.invalidate()
    router.route()
    expect(router.active.name).toBe('us-west-2')
    expect(moves.map((move) => move.type)).toEqual(['failover', 'return'])
  })
})
