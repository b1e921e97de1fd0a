import { once } from 'node:events'
import type { Socket } from 'node:net'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { roundTrip, startEchoServer, tryConnect } from './helpers.js'

let echo: Awaited<ReturnType<typeof startEchoServer>>
let lab: Lab
const ZONE = 'us-west-2a'
const stats = () => lab.zone(ZONE).stats()['echo']!
const open = async (): Promise<Socket> => {
  const zone = lab.endpoint.zones[0]!
  const outcome = await tryConnect(zone.addresses[0]!, zone.portMap?.['7300'] ?? 7300, 2000)
  if (outcome.kind !== 'connected') throw new Error(`expected a connection, got ${outcome.kind}`)
  return outcome.socket
}
// Lets socket events run without timers (fake timers may be on): bounded, never a sleep.
async function settle(until: () => boolean): Promise<void> {
  for (let turn = 0; turn < 20_000 && !until(); turn++)
    await new Promise((resolve) => setImmediate(resolve))
  expect(until()).toBe(true)
}

beforeAll(async () => {
  echo = await startEchoServer()
  lab = await startLab({
    zones: [{ name: ZONE, id: 'usw2-az1' }],
    services: [{ name: 'echo', port: 7300, target: { host: '127.0.0.1', port: echo.port } }],
  })
})
afterAll(async () => {
  await lab.close()
  await echo.close()
})
afterEach(async () => {
  vi.useRealTimers()
  await lab.zone(ZONE).restore()
  await settle(() => stats().active === 0)
})

describe('fault modes for open connections', () => {
  it('blackhole: open connections go silent too, and get their bytes after restore', async () => {
    const socket = await open()
    expect(await roundTrip(socket, 'before', 2000)).toBe('before')
    await lab.zone(ZONE).fail('blackhole')
    const bytesIn = stats().bytesIn
    expect(await roundTrip(socket, 'during', 300)).toBeUndefined()
    expect(stats().bytesIn).toBe(bytesIn)
    const zone = lab.endpoint.zones[0]!
    expect((await tryConnect(zone.addresses[0]!, socket.remotePort!, 300)).kind).toBe('pending')
    // Like TCP after a partition heals: what was sent meanwhile arrives.
    const late = once(socket, 'data')
    await lab.zone(ZONE).restore()
    expect(String((await late)[0])).toBe('during')
    socket.destroy()
  })

  it('blackhole-new: new connects never complete; open connections keep working', async () => {
    const socket = await open()
    await lab.zone(ZONE).fail('blackhole-new')
    expect(await roundTrip(socket, 'still here', 2000)).toBe('still here')
    const zone = lab.endpoint.zones[0]!
    expect((await tryConnect(zone.addresses[0]!, socket.remotePort!, 300)).kind).toBe('pending')
    await lab.zone(ZONE).restore()
    const fresh = await open()
    expect(await roundTrip(fresh, 'back', 2000)).toBe('back')
    fresh.destroy()
    socket.destroy()
  })

  it.each(['hang', 'blackhole'] as const)(
    '%s: 30 clients that give up and close leave active at 0 (no leaked relay sockets)',
    async (mode) => {
      const earlier =
        mode === 'blackhole' ? await Promise.all(Array.from({ length: 30 }, open)) : []
      await lab.zone(ZONE).fail(mode)
      const sockets =
        mode === 'hang' ? await Promise.all(Array.from({ length: 30 }, open)) : earlier
      await settle(() => stats().active === sockets.length)
      for (const socket of sockets) socket.destroy()
      // Frozen relays still read, so each client's FIN is seen while the zone is down.
      await settle(() => stats().active === 0)
      expect(lab.zone(ZONE).stats()['echo']!.active).toBe(0)
    },
  )

  it('idle-close: closes connections idle for ms (a FIN, as a service does); traffic keeps one open', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    await lab.zone(ZONE).fail('idle-close', { ms: 1000 })
    const idle = await open()
    const busy = await open()
    expect(await roundTrip(idle, 'a', 2000)).toBe('a')
    expect(await roundTrip(busy, 'b', 2000)).toBe('b')
    const idleEnded = once(idle, 'end')
    vi.advanceTimersByTime(600)
    expect(await roundTrip(busy, 'c', 2000)).toBe('c')
    vi.advanceTimersByTime(600)
    await idleEnded
    expect(stats().idleClosed).toBe(1)
    expect(await roundTrip(busy, 'd', 2000)).toBe('d')
    const busyEnded = once(busy, 'end')
    vi.advanceTimersByTime(1000)
    await busyEnded
    expect(stats().idleClosed).toBe(2)
    await settle(() => stats().active === 0)
    // The service is still up: a new connection works (and would be closed when idle too).
    const fresh = await open()
    expect(await roundTrip(fresh, 'e', 2000)).toBe('e')
    fresh.destroy()
  })

  it('rejects a bad ms', async () => {
    await expect(lab.zone(ZONE).fail('idle-close', { ms: -1 })).rejects.toThrow(/ms must be/)
    await expect(lab.zone(ZONE).fail('latency', { ms: Number.NaN })).rejects.toThrow(/ms must be/)
  })
})
