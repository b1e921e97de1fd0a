import type { Socket } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { PathIdleWatch, type Traffic } from './path-idle-watch.js'

// The byte counters are all the watch reads of a socket: a stand-in with those two is enough.
const socketWith = () =>
  ({ bytesRead: 0, bytesWritten: 0 }) as unknown as Socket & {
    bytesRead: number
    bytesWritten: number
  }

describe('PathIdleWatch', () => {
  let now = 1_000_000
  /** The monotonic clock timers run on: it moves with the wall clock unless a test says not. */
  let mono = 0
  const pass = (ms: number) => {
    now += ms
    mono += ms
  }
  const watches: PathIdleWatch[] = []
  const make = (keepAlive: boolean, onThaw: (expired: Traffic[]) => void = () => {}) => {
    const watch = new PathIdleWatch(
      { clock: () => now, monotonic: () => mono, pathIdleTimeoutMs: 10_000, keepAlive },
      onThaw,
    )
    watches.push(watch)
    return watch
  }
  afterEach(() => {
    for (const watch of watches.splice(0)) watch.close()
    vi.useRealTimers()
  })

  it('without keep-alive, a socket idle for the path timeout by the clock is expired', () => {
    const watch = make(false)
    const socket = socketWith()
    const traffic = watch.track(socket)
    // Checked now and then, as ticks would: no freeze, only idle time.
    for (let i = 0; i < 9; i++) pass(1_000)
    pass(999)
    expect(watch.expired(traffic)).toBe(false)
    pass(1)
    expect(watch.expired(traffic)).toBe(true)
  })

  it('traffic between samples is credited to the earlier sample: early, never late', () => {
    const watch = make(false)
    const socket = socketWith()
    const traffic = watch.track(socket)
    now += 6_000
    expect(watch.expired(traffic)).toBe(false) // a sample at +6 s
    socket.bytesWritten += 10
    now += 3_000
    // Moved somewhere in (+6 s, +9 s]: credited to +6 s.
    expect(watch.lastActivity(traffic)).toBe(now - 3_000)
    now += 6_999
    expect(watch.expired(traffic)).toBe(false)
    now += 1
    expect(watch.expired(traffic)).toBe(true)
  })

  it('with keep-alive, idle time alone never expires a socket: the probes keep the path', () => {
    const watch = make(true)
    const traffic = watch.track(socketWith())
    // Asked often enough that no freeze is seen: the process ran, and its kernel probed.
    for (let i = 0; i < 30; i++) {
      pass(1_000)
      expect(watch.expired(traffic)).toBe(false)
    }
  })

  it('with keep-alive, a clock jump past the path timeout (a freeze) expires idle sockets', () => {
    const watch = make(true)
    const idle = watch.track(socketWith())
    pass(60_000)
    expect(watch.expired(idle)).toBe(true)
    // A socket opened after the thaw is fresh.
    const fresh = watch.track(socketWith())
    pass(500)
    expect(watch.expired(fresh)).toBe(false)
  })

  it('a jump of the wall clock alone (a test moving its injected clock) is no freeze', () => {
    const watch = make(true)
    const traffic = watch.track(socketWith())
    now += 3_600_000
    expect(watch.expired(traffic)).toBe(false)
  })

  it('a freeze shorter than the path timeout expires nothing', () => {
    const watch = make(true)
    const traffic = watch.track(socketWith())
    pass(5_000)
    expect(watch.expired(traffic)).toBe(false)
  })

  it('its tick finds the thaw and hands over every socket idle across it, busy or not', () => {
    vi.useFakeTimers()
    const thawed: Traffic[][] = []
    const watch = make(true, (expired) => thawed.push(expired))
    const idle = watch.track(socketWith())
    const active = socketWith()
    const activeTraffic = watch.track(active)
    for (let i = 0; i < 5; i++) {
      pass(1_000)
      active.bytesRead += 1
      vi.advanceTimersByTime(1_000)
    }
    expect(thawed).toEqual([])
    // Frozen: no tick for 20 s, then the overdue one.
    pass(20_000)
    vi.advanceTimersByTime(1_000)
    // Both went 20 s without a packet on the path (the active one included): both may be gone.
    expect(thawed).toEqual([[idle, activeTraffic]])
  })

  it('keeps no timer once nothing is tracked', () => {
    vi.useFakeTimers()
    const watch = make(true)
    const traffic = watch.track(socketWith())
    expect(vi.getTimerCount()).toBe(1)
    watch.untrack(traffic)
    expect(vi.getTimerCount()).toBe(0)
  })
})
