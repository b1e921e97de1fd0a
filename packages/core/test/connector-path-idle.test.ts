import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import {
  type Connector,
  type ConnectorOptions,
  createConnector,
  type Retirement,
} from '@privatelink/core'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { roundTrip, startEchoServer } from '../../lab/test/helpers.js'

// The path's idle timeout, once in core: keep-alive on every socket the connector dials, a
// socket's last traffic by the wall clock, and sockets idle across a freeze retired.
let lab: Lab
let echo: Awaited<ReturnType<typeof startEchoServer>>
let now = 9_000_000
const PORT = 7610
const connectors: Connector[] = []

beforeAll(async () => {
  echo = await startEchoServer()
  // The lab forgets a flow idle for 3 s of real time, as the endpoint does after 350 s.
  lab = await startLab({
    idleTimeoutMs: 3_000,
    services: [{ name: 'echo', port: PORT, target: { host: '127.0.0.1', port: echo.port } }],
  })
})
afterAll(async () => {
  await lab.close()
  await echo.close()
})
afterEach(() => {
  for (const c of connectors.splice(0)) c.close()
})

const connector = (options: Partial<ConnectorOptions> = {}) => {
  const c = createConnector({
    endpoint: lab.endpoint,
    locality: { source: 'options', azId: 'usw2-az1' },
    port: PORT,
    attemptDelayMs: 20,
    healthCheck: { intervalMs: 0 },
    ...options,
  })
  connectors.push(c)
  return c
}
const stats = () => lab.zone('us-west-2a').stats()['echo']!

/** Waits for what the lab's or the kernel's own timers bring about (bounded, polled). */
async function until(condition: () => boolean, withinMs = 15_000): Promise<void> {
  const deadline = performance.now() + withinMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('path idle options', () => {
  it('defaults to the path’s 350 s and refuses a keep-alive delay at or above it, with a hint', () => {
    expect(connector().pathIdleTimeoutMs).toBe(350_000)
    expect(connector({ pathIdleTimeoutMs: 120_000 }).pathIdleTimeoutMs).toBe(120_000)
    let thrown: unknown
    try {
      connector({ keepAliveInitialDelayMs: 350_000 })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      details: { option: 'keepAliveInitialDelayMs', received: '350000' },
    })
    expect((thrown as { hint: string }).hint).toMatch(/forgets a connection idle for 350 s/)
    expect(() => connector({ pathIdleTimeoutMs: 60_000, keepAliveInitialDelayMs: 50_000 })).toThrow(
      /not below 48000 ms, too near the path's idle timeout \(60000 ms\)/,
    )
    for (const bad of [
      { keepAlive: 'yes' },
      { pathIdleTimeoutMs: 1_000 },
      { keepAliveInitialDelayMs: 500 },
    ])
      expect(() => connector(bad as Partial<ConnectorOptions>)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
      )
  })
})

describe('keep-alive on every dialled socket (real seconds: the kernel sends the probes)', () => {
  it('an idle connection outlives the path timeout by its probes; without them it is forgotten', async () => {
    // 5 s assumed by the connector: probes after 1 s idle, well inside the lab's 3 s.
    const kept = await connector({ pathIdleTimeoutMs: 5_000 }).connect()
    const bare = await connector({ pathIdleTimeoutMs: 5_000, keepAlive: false }).connect()
    for (const socket of [kept, bare]) socket.on('error', () => {})
    const before = stats()
    await until(() => stats().flowsForgotten > before.flowsForgotten)
    await until(() => stats().keepAliveSeen >= before.keepAliveSeen + 2)
    // Only the bare one was forgotten; the kept one still carries data.
    expect(stats().flowsForgotten).toBe(before.flowsForgotten + 1)
    expect(await roundTrip(kept, 'still here', 2_000)).toBe('still here')
    kept.destroy()
    bare.destroy()
  })
})

describe('watch: last traffic by the wall clock', () => {
  const watchOf = (c: Connector, socket: Socket, retired: Retirement[] = []) =>
    c.watch(socket, { busy: () => false, retire: (retirement) => retired.push(retirement) })

  it('without keep-alive, a socket idle past the path timeout is stale before use', async () => {
    const published: unknown[] = []
    const listener = (message: unknown) => published.push(message)
    subscribe('privatelink:connector:path-idle', listener)
    try {
      const c = connector({ clock: () => now, keepAlive: false, pathIdleTimeoutMs: 60_000 })
      const socket = await c.connect()
      const watch = watchOf(c, socket)
      expect(watch.lastTrafficAt()).toBe(now)
      expect(await roundTrip(socket, 'ping', 2_000)).toBe('ping')
      now += 30_000
      expect(watch.stale()).toBe(false)
      now += 29_999
      // Its traffic came after the first sample, and is credited to it: early, never late.
      expect(watch.stale()).toBe(false)
      now += 1
      expect(watch.stale()).toBe(true)
      expect(published).toEqual([{ zone: 'usw2-az1', idleMs: 60_000, at: 'use' }])
      socket.destroy()
    } finally {
      unsubscribe('privatelink:connector:path-idle', listener)
    }
  })

  it('with keep-alive, a freeze past the path timeout retires idle sockets, not busy ones', async () => {
    const c = connector({ clock: () => now, pathIdleTimeoutMs: 2_000 })
    const [idle, busy] = await Promise.all([c.connect(), c.connect()])
    const retired: Retirement[] = []
    const events: string[] = []
    c.onRetire((event) => events.push(event.reason))
    watchOf(c, idle, retired)
    const busyWatch = c.watch(busy, { busy: () => true, retire: (r) => retired.push(r) })
    now += 5_000
    // A clock moved by a test is no freeze: keep-alive kept both.
    expect(busyWatch.stale()).toBe(false)
    // A real one: the process does not run for 1.5 s (its next tick, due every 200 ms, is late
    // by more than a second), and the clock moved past the path's timeout meanwhile.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_500)
    now += 5_000
    await until(() => retired.length > 0, 5_000)
    expect(retired).toMatchObject([{ reason: 'idle', zone: 'usw2-az1', out: true, busy: false }])
    expect(events).toEqual(['idle'])
    // The busy one is its owner's to judge before use.
    expect(busyWatch.stale()).toBe(true)
    idle.destroy()
    busy.destroy()
  })
})
