import { describe, expect, it } from 'vitest'
import { attemptDelay } from './attempt-delay.js'
import type { EndpointZone } from './model.js'
import { ZoneHealth, type ZoneHealthOptions } from './zone-health.js'
import { orderZones } from './zone-order.js'

const defaults: ZoneHealthOptions = {
  baseMs: 1_000,
  maxMs: 60_000,
  consecutiveFailures: 3,
  maxEjectedPercent: 50,
  decayMs: 30_000,
  unhealthyThreshold: 2,
}
const health = (options: Partial<ZoneHealthOptions> = {}) =>
  new ZoneHealth(['az1', 'az2', 'az3'], { ...defaults, ...options })

describe('zone health', () => {
  it('ejects after N failures in a row; a success in between resets the streak', () => {
    const h = health()
    expect(h.record('az1', 'connect-failed', 0)).toBeUndefined()
    expect(h.record('az1', 'connect-slow', 0)).toBeUndefined()
    h.recordSuccess('az1', 0)
    expect(h.record('az1', 'lost-in-flight', 0)).toBeUndefined()
    expect(h.record('az1', 'connect-failed', 0)).toBeUndefined()
    expect(h.record('az1', 'connect-failed', 0)).toEqual({
      type: 'eject',
      key: 'az1',
      signal: 'connect-failed',
      level: 1,
      untilMs: 1_000,
    })
  })

  it('counts one incident once: failures of an ejected zone do not add up', () => {
    const h = health({ consecutiveFailures: 1 })
    const events = Array.from({ length: 16 }, () => h.record('az1', 'connect-failed', 0))
    expect(events.filter(Boolean)).toHaveLength(1)
    expect(h.snapshot(0)['az1']).toMatchObject({ ejected: true, level: 1, ejectedForMs: 1_000 })
  })

  it('readmits on expiry with an event, and decays the backoff while healthy', () => {
    const h = health({ consecutiveFailures: 1 })
    h.record('az1', 'connect-failed', 0)
    expect(h.readmitExpired(999)).toEqual([])
    expect(h.readmitExpired(1_000)).toEqual([{ type: 'readmit', key: 'az1' }])
    expect(h.readmitExpired(1_001)).toEqual([])
    // Failing again soon after: the backoff doubles.
    expect(h.record('az1', 'connect-failed', 1_500)).toMatchObject({ level: 2, untilMs: 3_500 })
    h.readmitExpired(3_500)
    // Healthy for two decay periods: back to the first level.
    expect(h.record('az1', 'connect-failed', 3_500 + 60_000)).toMatchObject({ level: 1 })
  })

  it('never ejects more than the cap (rounded up, one zone always left in)', () => {
    const h = health({ consecutiveFailures: 1 })
    expect(h.record('az1', 'connect-failed', 0)).toBeDefined()
    expect(h.record('az2', 'connect-failed', 0)).toBeDefined()
    expect(h.record('az3', 'connect-failed', 0)).toBeUndefined()
    const none = health({ consecutiveFailures: 1, maxEjectedPercent: 0 })
    expect(none.record('az1', 'connect-failed', 0)).toBeUndefined()
    const single = new ZoneHealth(['az1'], { ...defaults, consecutiveFailures: 1 })
    expect(single.record('az1', 'connect-failed', 0)).toBeUndefined()
  })

  it('benign signals never count', () => {
    const h = health({ consecutiveFailures: 1 })
    for (let i = 0; i < 10; i++) {
      expect(h.record('az1', 'idle-close', 0)).toBeUndefined()
      expect(h.record('az1', 'cancelled', 0)).toBeUndefined()
    }
    expect(h.snapshot(0)['az1']).toMatchObject({ ejected: false, failures: 0 })
  })

  it('health checks have their own threshold; a passing check does not readmit early', () => {
    const h = health()
    expect(h.record('az1', 'probe-failed', 0)).toBeUndefined()
    expect(h.record('az1', 'probe-failed', 0)).toMatchObject({ signal: 'probe-failed' })
    expect(h.recordSuccess('az1', 10, true)).toBeUndefined()
    expect(h.isEjected('az1', 10)).toBe(true)
    // A real connection that got through does readmit (the zone serves again).
    expect(h.recordSuccess('az1', 20)).toEqual({ type: 'readmit', key: 'az1' })
  })
})

describe('attempt delay', () => {
  it('adapts to measured connect times, 10 to 250 ms, 250 until measured', () => {
    expect(attemptDelay(undefined)).toBe(250)
    expect(attemptDelay(0.4)).toBe(10)
    expect(attemptDelay(2)).toBe(10)
    expect(attemptDelay(12)).toBe(36)
    expect(attemptDelay(500)).toBe(250)
  })
})

describe('zone order', () => {
  const zones: EndpointZone[] = ['a', 'b', 'c'].map((letter) => ({
    azName: `us-west-2${letter}`,
    addresses: [],
  }))
  it('ranks by connect time, but treats noise as a tie so connections do not rotate', () => {
    const times = new Map([
      [zones[0]!, 1.1],
      [zones[1]!, 1.0],
      [zones[2]!, 9],
    ])
    expect(orderZones(zones, undefined, (z) => times.get(z)).map((z) => z.azName)).toEqual([
      'us-west-2a',
      'us-west-2b',
      'us-west-2c',
    ])
    times.set(zones[0]!, 4)
    expect(orderZones(zones, undefined, (z) => times.get(z)).map((z) => z.azName)).toEqual([
      'us-west-2b',
      'us-west-2a',
      'us-west-2c',
    ])
    expect(orderZones(zones, zones[2], (z) => times.get(z))[0]!.azName).toBe('us-west-2c')
  })
})

describe('zone health: the backoff level is capped where the ejection time reaches maxMs', () => {
  it('3000 incidents leave the level at the cap, so recovery decays from there, not from 3000', () => {
    const h = health({ consecutiveFailures: 1 })
    let now = 0
    // Each incident: ejected, the ejection runs out, readmitted, refused again at once.
    for (let incident = 0; incident < 3_000; incident++) {
      const event = h.record('az1', 'connect-failed', now)
      if (event?.type !== 'eject') return expect.unreachable()
      now = event.untilMs
      h.readmitExpired(now)
    }
    // 1000 ms x 2^6 = 64 s is the first ejection past maxMs (60 s): level 7 is the ceiling, as
    // Envoy's max_ejection_time stops the ejection time growing.
    expect(h.snapshot(now)['az1']!.level).toBe(7)
    // Healthy for two decay periods: two levels back, so the next incident ejects for 32 s
    // (level 6), where an unbounded level (~2998) would still eject for the full minute.
    now += 2 * 30_000
    const next = h.record('az1', 'connect-failed', now)
    expect(next).toMatchObject({ type: 'eject', level: 6, untilMs: now + 32_000 })
    // Healthy long enough to decay every level: the first ejection is short again.
    h.readmitExpired(now + 32_000)
    now += 32_000 + 7 * 30_000
    expect(h.record('az1', 'connect-failed', now)).toMatchObject({ level: 1, untilMs: now + 1_000 })
  })

  it('baseMs at or above maxMs: every ejection is maxMs and the level stays 1', () => {
    const h = health({ consecutiveFailures: 1, baseMs: 90_000 })
    let now = 0
    for (let incident = 0; incident < 5; incident++) {
      const event = h.record('az1', 'connect-failed', now)
      if (event?.type !== 'eject') return expect.unreachable()
      expect(event).toMatchObject({ level: 1, untilMs: now + 60_000 })
      now = event.untilMs
      h.readmitExpired(now)
    }
  })
})
