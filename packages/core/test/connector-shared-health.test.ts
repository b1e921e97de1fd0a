import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { connect as netConnect } from 'node:net'
import {
  type Connector,
  type ConnectorOptions,
  createConnector,
  type Dial,
  HealthRegistry,
  type ZoneChangeEvent,
} from '@privatelink/core'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEchoServer } from '../../lab/test/helpers.js'

// Issue 30: one zone health per endpoint per process. Connectors of the same endpoint share one
// zone health table and one set of health checks; a zone one ejects, every other avoids.
let lab: Lab
let echo: Awaited<ReturnType<typeof startEchoServer>>
const now = 9_000_000
const clock = () => now
const PORT = 7610
const OWN = { az: 'usw2-az2', name: 'us-west-2b' }
let registry: HealthRegistry
let dialled: string[]
const connectors: Connector[] = []
// One dial (and clock) for every connector: both are part of what defines health.
const dial: Dial = (target) => {
  dialled.push(target.host)
  return netConnect({ ...target, noDelay: true })
}

beforeAll(async () => {
  echo = await startEchoServer()
  const services = [{ name: 'echo', port: PORT, target: { host: '127.0.0.1', port: echo.port } }]
  lab = await startLab({ region: 'us-west-2', clock, services })
})
afterAll(async () => {
  await lab.close()
  await echo.close()
})
beforeEach(() => {
  registry = new HealthRegistry()
  dialled = []
})
afterEach(async () => {
  for (const c of connectors.splice(0)) c.close()
  await lab.zone(OWN.name).restore()
})

const connector = (options: Partial<ConnectorOptions> = {}) => {
  const c = createConnector({
    endpoint: lab.endpoint,
    locality: { source: 'options', azId: OWN.az },
    port: PORT,
    clock,
    dial,
    attemptDelayMs: 20,
    healthCheck: { intervalMs: 0 },
    ejection: { consecutiveFailures: 1 },
    healthRegistry: registry,
    ...options,
  })
  connectors.push(c)
  return c
}
const ownAddress = () => lab.zone(OWN.name).address
const ejections = (c: Connector) => {
  const events: ZoneChangeEvent[] = []
  c.onZoneChange((event) => {
    if (event.type === 'eject') events.push(event)
  })
  return events
}
const close = (socket: Socket) => socket.destroy()

describe('one zone health per endpoint per process', () => {
  it('a zone one connector ejects is not dialled by the next connect of another', async () => {
    const first = connector()
    const second = connector()
    const heard = ejections(second)
    await lab.zone(OWN.name).fail('refuse')
    close(await first.connect())
    expect(first.zones().find((zone) => zone.zone === OWN.az)?.ejected).toBe(true)
    // The other connector heard it, and its very first connect goes elsewhere.
    expect(heard).toMatchObject([{ zone: OWN.az, signal: 'connect-failed' }])
    expect(second.preferredZones().map((zone) => zone.azId)).not.toContain(OWN.az)
    dialled = []
    const socket = await second.connect()
    expect(dialled).not.toContain(ownAddress())
    expect(second.zoneOf(socket)?.azId).not.toBe(OWN.az)
    close(socket)
  })

  it('the eject channel hears one message per ejection, not one per connector', async () => {
    const messages: unknown[] = []
    const listener = (message: unknown) => messages.push(message)
    subscribe('privatelink:connector:eject', listener)
    try {
      const first = connector()
      const second = connector()
      const heard = [ejections(first), ejections(second)]
      await lab.zone(OWN.name).fail('refuse')
      close(await first.connect())
      expect(messages).toMatchObject([{ zone: OWN.az, signal: 'connect-failed' }])
      expect(heard.map((events) => events.length)).toEqual([1, 1])
    } finally {
      unsubscribe('privatelink:connector:eject', listener)
    }
  })

  it('an equal Endpoint (same ID and zones, another object) shares the same state', async () => {
    const first = connector()
    const second = connector({ endpoint: structuredClone(lab.endpoint) })
    expect(registry.size).toBe(1)
    await lab.zone(OWN.name).fail('refuse')
    close(await first.connect())
    expect(second.zones().find((zone) => zone.zone === OWN.az)?.ejected).toBe(true)
    // One set of checks: both connectors' probe() is the same round, each zone dialled once.
    dialled = []
    const round = first.probe()
    expect(second.probe()).toBe(round)
    await round
    expect(dialled.length).toBe(lab.endpoint.zones.length - 1)
  })

  it('options that define health differently give a connector its own state, on purpose', async () => {
    const first = connector()
    const lenient = connector({ ejection: { consecutiveFailures: 5 } })
    const ownClock = connector({ clock: () => now })
    const alone = connector({ healthRegistry: false })
    expect(registry.size).toBe(3)
    await lab.zone(OWN.name).fail('refuse')
    close(await first.connect())
    for (const other of [lenient, ownClock, alone])
      expect(other.zones().find((zone) => zone.zone === OWN.az)?.ejected).toBe(false)
  })

  it('the shared state is released when its last connector closes', () => {
    const first = connector()
    const second = connector()
    expect(registry.size).toBe(1)
    first.close()
    first.close()
    expect(registry.size).toBe(1)
    second.close()
    expect(registry.size).toBe(0)
    connector()
    expect(registry.size).toBe(1)
  })

  it('a connector closed while another keeps going does not stop the shared checks', async () => {
    const first = connector()
    const second = connector()
    first.close()
    dialled = []
    const probe = await second.probe()
    expect(Object.values(probe).every((result) => typeof result === 'number')).toBe(true)
    expect(dialled.length).toBe(lab.endpoint.zones.length)
  })

  it('healthRegistry must be a HealthRegistry or false', () => {
    expect(() => connector({ healthRegistry: {} as HealthRegistry })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', details: expect.anything() }),
    )
    expect(() => connector({ healthRegistry: true as unknown as false })).toThrow(/healthRegistry/)
  })
})
