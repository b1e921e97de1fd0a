import type { Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { stallWatch, type Watched } from './stall-watch.js'

const watched = (running = 1): Watched & { socket: { bytesRead: number; destroyed: boolean } } => ({
  socket: { bytesRead: 0, destroyed: false } as unknown as Socket & {
    bytesRead: number
    destroyed: boolean
  },
  running,
  seenBytes: 0,
  quietTicks: 0,
})

describe('stallWatch', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('asks for a check once a request has received no byte for stallMs, at most once per gap', () => {
    const a = watched()
    const check = vi.fn()
    const watch = stallWatch({ stallMs: 500, sockets: () => [a], check })
    watch.start()
    vi.advanceTimersByTime(499)
    expect(check).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(check).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(750) // still stalled, inside the 1 s gap
    expect(check).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(250)
    expect(check).toHaveBeenCalledTimes(2)
    watch.stop()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a request receiving bytes is not stalled, however long it runs', () => {
    const a = watched()
    const check = vi.fn()
    const watch = stallWatch({ stallMs: 500, sockets: () => [a], check })
    watch.start()
    for (let i = 0; i < 20; i++) {
      a.socket.bytesRead += 10
      vi.advanceTimersByTime(250)
    }
    expect(check).not.toHaveBeenCalled()
    watch.stop()
  })

  it('stops its timer when nothing is in flight, and 0 turns it off', () => {
    const idle = watched(0)
    const check = vi.fn()
    const watch = stallWatch({ stallMs: 500, sockets: () => [idle], check })
    watch.start()
    vi.advanceTimersByTime(250)
    expect(vi.getTimerCount()).toBe(0)
    const off = stallWatch({ stallMs: 0, sockets: () => [watched()], check })
    off.start()
    expect(vi.getTimerCount()).toBe(0)
    expect(check).not.toHaveBeenCalled()
  })
})
