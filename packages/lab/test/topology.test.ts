import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DelayLine } from '../src/topology-delay-line.js'
import { roundTrip, startEchoServer, tryConnect } from './helpers.js'

let echo: Awaited<ReturnType<typeof startEchoServer>>
let lab: Lab
const portOf = (zone: string) =>
  lab.endpoint.zones.find((z) => z.azName === zone)!.portMap?.['7000'] ?? 7000

async function echoThrough(zone: string, text: string): Promise<string | undefined> {
  const outcome = await tryConnect(lab.zone(zone).address, portOf(zone), 2000)
  if (outcome.kind !== 'connected') throw new Error(`connect to ${zone}: ${outcome.kind}`)
  try {
    return await roundTrip(outcome.socket, text, 5000)
  } finally {
    outcome.socket.destroy()
  }
}

beforeAll(async () => {
  echo = await startEchoServer()
  lab = await startLab({
    topology: {},
    services: [{ name: 'echo', port: 7000, target: { host: '127.0.0.1', port: echo.port } }],
  })
})
afterAll(async () => {
  await lab.close()
  await echo.close()
})
afterEach(async () => {
  lab.metadata.setZone('us-west-2a')
  for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).restore()
})

describe('AWS-like topology', () => {
  it('uses the measured round trips by default, and the metadata zone as the caller zone', () => {
    expect(lab.topology).toMatchObject({ intraAzRttMs: 0.25, interAzRttMs: 1 })
    expect(lab.topology!.callerZone()).toBe('us-west-2a')
    lab.metadata.setZone('usw2-az3')
    expect(lab.topology!.callerZone()).toBe('us-west-2c')
  })

  it("counts bytes through another zone's interface as crossing zones, the own zone's not", async () => {
    const before = lab.topology!.traffic()
    expect(await echoThrough('us-west-2a', 'own zone')).toBe('own zone')
    expect(await echoThrough('us-west-2b', 'other zone')).toBe('other zone')
    const after = lab.topology!.traffic()
    const delta = (zone: string) => ({
      bytes: after.zones[zone]!.bytes - (before.zones[zone]?.bytes ?? 0),
      crossZoneBytes: after.zones[zone]!.crossZoneBytes - (before.zones[zone]?.crossZoneBytes ?? 0),
    })
    // Both ways: what was sent and its echo.
    expect(delta('us-west-2a')).toEqual({ bytes: 16, crossZoneBytes: 0 })
    expect(delta('us-west-2b')).toEqual({ bytes: 20, crossZoneBytes: 20 })
    expect(lab.zone('us-west-2b').stats()['echo']!.crossZoneBytes).toBeGreaterThanOrEqual(20)
    expect(lab.zone('us-west-2a').stats()['echo']!.crossZoneBytes).toBe(0)
    expect(after.crossZoneShare).toBeGreaterThan(0)
    expect(after.crossZoneShare).toBeLessThan(1)
  })

  it('judges each connection by where the caller is when it connects', async () => {
    lab.metadata.setZone('us-west-2b')
    const before = lab.zone('us-west-2b').stats()['echo']!.crossZoneBytes
    const beforeA = lab.zone('us-west-2a').stats()['echo']!.crossZoneBytes
    expect(await echoThrough('us-west-2b', 'now local')).toBe('now local')
    expect(await echoThrough('us-west-2a', 'now remote')).toBe('now remote')
    expect(lab.zone('us-west-2b').stats()['echo']!.crossZoneBytes).toBe(before)
    expect(lab.zone('us-west-2a').stats()['echo']!.crossZoneBytes).toBe(beforeA + 20)
  })

  it('keeps byte order through the modelled delay and a latency fault switched on and off', async () => {
    const outcome = await tryConnect(lab.zone('us-west-2c').address, portOf('us-west-2c'), 2000)
    if (outcome.kind !== 'connected') throw new Error(outcome.kind)
    const socket = outcome.socket
    let received = ''
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString()
    })
    const sent: string[] = []
    for (let i = 0; i < 200; i++) {
      if (i === 50) await lab.zone('us-west-2c').fail('latency', { ms: 2 })
      if (i === 120) await lab.zone('us-west-2c').restore()
      const piece = `<${i}>`
      sent.push(piece)
      socket.write(piece)
      if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    const expected = sent.join('')
    await new Promise<void>((resolve) => {
      const check = () => (received.length >= expected.length ? resolve() : setImmediate(check))
      check()
    })
    socket.destroy()
    expect(received).toBe(expected)
  })

  it('refuses a bad round trip, naming the option', async () => {
    await expect(startLab({ topology: { interAzRttMs: -1 } })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      details: expect.objectContaining({ option: 'topology.interAzRttMs' }),
    })
    await expect(startLab({ topology: 'aws' as never })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      details: expect.objectContaining({ option: 'topology' }),
    })
  })
})

describe('DelayLine', () => {
  it('runs a zero delay at once and keeps FIFO order within each delay', async () => {
    const line = new DelayLine()
    const order: string[] = []
    line.schedule(0, () => order.push('now'))
    expect(order).toEqual(['now'])
    const done = new Promise<void>((resolve) => {
      for (let i = 0; i < 5; i++) line.schedule(0.5, () => order.push(`slow${i}`))
      for (let i = 0; i < 5; i++) line.schedule(0.05, () => order.push(`fast${i}`))
      line.schedule(0.5, resolve)
    })
    await done
    expect(order.filter((o) => o.startsWith('slow'))).toEqual([
      'slow0',
      'slow1',
      'slow2',
      'slow3',
      'slow4',
    ])
    expect(order.filter((o) => o.startsWith('fast'))).toEqual([
      'fast0',
      'fast1',
      'fast2',
      'fast3',
      'fast4',
    ])
    expect(line.lateness().delivered).toBe(11)
    line.close()
  })

  it('delivers what is pending when closed', () => {
    const line = new DelayLine()
    const order: number[] = []
    line.schedule(100, () => order.push(1))
    line.schedule(100, () => order.push(2))
    line.close()
    expect(order).toEqual([1, 2])
  })
})
