import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { hedgeDelay } from './hedge-delay.js'
import { type HedgedConnectOptions, hedgedConnect } from './hedged-connect.js'

interface Conn {
  zone: string
  secure: boolean
}

interface Pending<T> {
  signal: AbortSignal
  resolve(value: T): void
  reject(error: unknown): void
}

const fatal = Object.assign(new Error('name mismatch'), { code: 'FATAL' })
const reset = Object.assign(new Error('reset'), { code: 'ECONNRESET' })

/** Legs under the test's control: TCP connects to a leg's first zone at once, handshakes wait. */
function harness(overrides: Partial<HedgedConnectOptions<string, Conn>> = {}) {
  const connects: (Pending<string> & { zones: readonly string[] })[] = []
  const handshakes = new Map<string, Pending<void>>()
  const events: string[] = []
  let alive = false
  const options: HedgedConnectOptions<string, Conn> = {
    zones: ['a', 'b', 'c'],
    connect: (zones, signal) =>
      new Promise((resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
        const connect = {
          zones,
          signal,
          resolve: (zone: string) => resolve({ zone, opened: { zone, secure: false } }),
          reject,
        }
        connects.push(connect)
        queueMicrotask(() => connect.resolve(zones[0]!))
      }),
    handshake: (zone, opened, signal) =>
      new Promise((resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
        handshakes.set(zone, {
          signal,
          resolve: () => resolve({ ...opened, secure: true }),
          reject,
        })
      }),
    hedgeDelayMs: () => 100,
    keepWaiting: () => alive,
    eligible: (zones) => zones,
    onHandshakeFailure: (zone, _opened, error) => {
      events.push(`failed ${zone}`)
      return error === fatal ? 'fatal' : 'exclude'
    },
    onOvertaken: (zone) => events.push(`slow ${zone}`),
    exhausted: () => new Error('no zone left'),
    cancelled: () => Object.assign(new Error('cancelled'), { code: 'ABORT_ERR' }),
    dispose: (opened) => events.push(`disposed ${opened.zone}`),
    ...overrides,
  }
  const result = hedgedConnect(options)
  result.catch(() => {})
  return {
    result,
    connects,
    events,
    handshake: (zone: string) => handshakes.get(zone)!,
    setAlive: (value: boolean) => {
      alive = value
    },
  }
}

// The check after a hedge delay runs in a real setImmediate, which the async advance lets run.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('hedged connect', () => {
  it('a handshake within the hedge delay: one leg, no timer left', async () => {
    const h = harness()
    await vi.advanceTimersByTimeAsync(99)
    h.handshake('a').resolve()
    expect(await h.result).toEqual({ zone: 'a', opened: { zone: 'a', secure: true } })
    expect(h.connects).toHaveLength(1)
    expect(h.events).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a handshake pending past the delay: a hedge over the other zones wins, the slow zone is reported', async () => {
    const h = harness()
    await vi.advanceTimersByTimeAsync(100)
    expect(h.connects.map((c) => c.zones)).toEqual([
      ['a', 'b', 'c'],
      ['b', 'c'],
    ])
    h.handshake('b').resolve()
    expect(await h.result).toEqual({ zone: 'b', opened: { zone: 'b', secure: true } })
    expect(h.events).toEqual(['slow a'])
    expect(h.handshake('a').signal.reason).toMatchObject({ code: 'ABORT_ERR' })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('the first handshake completing after the hedge started: the hedge is cancelled and counts nothing', async () => {
    const h = harness()
    await vi.advanceTimersByTimeAsync(100)
    h.handshake('a').resolve()
    expect((await h.result).zone).toBe('a')
    expect(h.handshake('b').signal.aborted).toBe(true)
    expect(h.events).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('never hedges while the zone proves alive (a burst), and re-checks at each delay', async () => {
    const h = harness()
    h.setAlive(true)
    await vi.advanceTimersByTimeAsync(500)
    expect(h.connects).toHaveLength(1)
    h.setAlive(false)
    await vi.advanceTimersByTimeAsync(100)
    expect(h.connects).toHaveLength(2)
    h.handshake('a').resolve()
    await h.result
    expect(vi.getTimerCount()).toBe(0)
  })

  it('hedges only into eligible zones, and not at all when none is left', async () => {
    const h = harness({ eligible: () => [] })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(h.connects).toHaveLength(1)
    expect(vi.getTimerCount()).toBe(0)
    h.handshake('a').resolve()
    expect((await h.result).zone).toBe('a')
  })

  it('a hedge does not hedge again into a zone another leg holds', async () => {
    const h = harness({ zones: ['a', 'b'] })
    await vi.advanceTimersByTimeAsync(100)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(h.connects.map((c) => c.zones)).toEqual([['a', 'b'], ['b']])
    h.handshake('b').resolve()
    await h.result
  })

  it('the first handshake failing while the hedge runs: reported as a failure, the hedge still wins', async () => {
    const h = harness()
    await vi.advanceTimersByTimeAsync(100)
    h.handshake('a').reject(reset)
    await vi.advanceTimersByTimeAsync(0)
    expect(h.connects).toHaveLength(2)
    h.handshake('b').resolve()
    expect((await h.result).zone).toBe('b')
    expect(h.events).toEqual(['failed a'])
  })

  it('a failed handshake with no other leg running moves on to the zones left', async () => {
    const h = harness()
    await vi.advanceTimersByTimeAsync(0)
    h.handshake('a').reject(reset)
    await vi.advanceTimersByTimeAsync(0)
    expect(h.connects.map((c) => c.zones)).toEqual([
      ['a', 'b', 'c'],
      ['b', 'c'],
    ])
    h.handshake('b').resolve()
    expect((await h.result).zone).toBe('b')
  })

  it('no zone left: rejects with the exhausted error', async () => {
    const h = harness({ zones: ['a'] })
    await vi.advanceTimersByTimeAsync(0)
    h.handshake('a').reject(reset)
    await expect(h.result).rejects.toThrow('no zone left')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a fatal error stops every leg at once', async () => {
    const h = harness()
    await vi.advanceTimersByTimeAsync(100)
    h.handshake('a').reject(fatal)
    await expect(h.result).rejects.toBe(fatal)
    expect(h.handshake('b').signal.aborted).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it("the caller's abort during a hedge stops both legs and rejects with the caller's reason", async () => {
    const controller = new AbortController()
    const h = harness({ signal: controller.signal })
    await vi.advanceTimersByTimeAsync(100)
    const reason = new Error('caller gave up')
    controller.abort(reason)
    await expect(h.result).rejects.toBe(reason)
    expect(h.handshake('a').signal.reason).toBe(reason)
    expect(h.handshake('b').signal.reason).toBe(reason)
    expect(h.events).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a leg whose TCP connect arrives after the connect settled is disposed of', async () => {
    let late: ((zone: string) => void) | undefined
    const h = harness({
      // The hedge's connect ignores its abort, as a socket that connected in the same tick would.
      connect: (zones) =>
        new Promise((resolve) => {
          if (zones[0] === 'a')
            queueMicrotask(() => resolve({ zone: 'a', opened: { zone: 'a', secure: false } }))
          else late = (zone) => resolve({ zone, opened: { zone, secure: false } })
        }),
    })
    await vi.advanceTimersByTimeAsync(100)
    h.handshake('a').resolve()
    await h.result
    late!('b')
    await vi.advanceTimersByTimeAsync(0)
    expect(h.events).toEqual(['disposed b'])
  })

  it('a callback that throws ends the connect with its error, the winner disposed of', async () => {
    const broken = new Error('listener threw')
    const h = harness({
      onOvertaken: () => {
        throw broken
      },
    })
    await vi.advanceTimersByTimeAsync(100)
    h.handshake('b').resolve()
    await expect(h.result).rejects.toBe(broken)
    expect(h.events).toEqual(['disposed b'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('an already aborted signal rejects at once, with nothing started', async () => {
    const controller = new AbortController()
    controller.abort(new Error('before'))
    const h = harness({ signal: controller.signal })
    await expect(h.result).rejects.toThrow('before')
    expect(h.connects).toHaveLength(0)
  })
})

describe('hedge delay', () => {
  it('4x the smoothed handshake time, 100 to 1000 ms, 1000 until measured', () => {
    expect(hedgeDelay(undefined)).toBe(1_000)
    expect(hedgeDelay(3)).toBe(100)
    expect(hedgeDelay(60)).toBe(240)
    expect(hedgeDelay(400)).toBe(1_000)
  })
})
