import { once } from 'node:events'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { roundTrip, startEchoServer, tryConnect } from './helpers.js'

let echo: Awaited<ReturnType<typeof startEchoServer>>
let lab: Lab
const portOf = (zone: string) => {
  const z = lab.endpoint.zones.find((candidate) => candidate.azName === zone)!
  return z.portMap?.['7000'] ?? 7000
}
const addressOf = (zone: string) => lab.zone(zone).address

beforeAll(async () => {
  echo = await startEchoServer()
  lab = await startLab({
    services: [{ name: 'echo', port: 7000, target: { host: '127.0.0.1', port: echo.port } }],
  })
})
afterAll(async () => {
  await lab.close()
  await echo.close()
})
afterEach(async () => {
  for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).restore()
})

describe('zonal ENIs', () => {
  it("models three zones on distinct loopback addresses in the lab's own block", () => {
    const x = /^127\.(\d+)\.0\.0\/16$/.exec(lab.addressBlock)?.[1]
    expect(Number(x)).toBeGreaterThanOrEqual(16)
    expect(lab.allowedRanges).toEqual([lab.addressBlock])
    expect(lab.endpoint.zones.map((z) => [z.azName, z.azId, z.addresses[0]])).toEqual([
      ['us-west-2a', 'usw2-az1', `127.${x}.1.1`],
      ['us-west-2b', 'usw2-az2', `127.${x}.2.1`],
      ['us-west-2c', 'usw2-az3', `127.${x}.3.1`],
    ])
    expect(lab.endpoint.id).toMatch(/^vpce-[0-9a-f]{17}$/)
    expect(lab.endpoint.serviceName).toMatch(
      /^com\.amazonaws\.vpce\.us-west-2\.vpce-svc-[0-9a-f]{17}$/,
    )
    expect(lab.endpoint.zones[1]!.dnsName).toBe(
      lab.endpoint.dnsName.replace(/^(vpce-\w+-\w+)\./, '$1-us-west-2b.'),
    )
  })

  it('relays bytes through each zone and counts them', async () => {
    for (const zone of lab.endpoint.zones) {
      const outcome = await tryConnect(zone.addresses[0]!, portOf(zone.azName), 2000)
      expect(outcome.kind).toBe('connected')
      if (outcome.kind !== 'connected') continue
      expect(await roundTrip(outcome.socket, `hello ${zone.azName}`, 2000)).toBe(
        `hello ${zone.azName}`,
      )
      outcome.socket.destroy()
    }
    const stats = lab.stats()
    expect(stats['us-west-2a']!['echo']).toMatchObject({
      accepted: 1,
      bytesIn: 'hello us-west-2a'.length,
      bytesOut: 'hello us-west-2a'.length,
    })
  })

  it('refuse: the connect fails before any byte', async () => {
    await lab.zone('us-west-2a').fail('refuse')
    const outcome = await tryConnect(addressOf('us-west-2a'), portOf('us-west-2a'), 2000)
    expect(outcome).toMatchObject({ kind: 'error', bytes: 0 })
    expect(['ECONNREFUSED', 'ECONNRESET']).toContain((outcome as { code: string }).code)
    // Other zones are untouched.
    expect((await tryConnect(addressOf('us-west-2b'), portOf('us-west-2b'), 2000)).kind).toBe(
      'connected',
    )
  })

  it('blackhole: the connect never completes', async () => {
    await lab.zone('us-west-2a').fail('blackhole')
    expect((await tryConnect(addressOf('us-west-2a'), portOf('us-west-2a'), 500)).kind).toBe(
      'pending',
    )
  })

  it('hang: the connect completes but nothing is answered', async () => {
    await lab.zone('us-west-2a').fail('hang')
    const outcome = await tryConnect(addressOf('us-west-2a'), portOf('us-west-2a'), 2000)
    expect(outcome.kind).toBe('connected')
    if (outcome.kind !== 'connected') return
    expect(await roundTrip(outcome.socket, 'anyone?', 300)).toBeUndefined()
    outcome.socket.destroy()
  })

  it('reset: open connections get ECONNRESET, and so do new ones', async () => {
    const open = await tryConnect(addressOf('us-west-2a'), portOf('us-west-2a'), 2000)
    expect(open.kind).toBe('connected')
    if (open.kind !== 'connected') return
    expect(await roundTrip(open.socket, 'before', 2000)).toBe('before')
    const closed = once(open.socket, 'error')
    await lab.zone('us-west-2a').fail('reset')
    const [error] = (await closed) as [NodeJS.ErrnoException]
    expect(error.code).toBe('ECONNRESET')
    const fresh = await tryConnect(addressOf('us-west-2a'), portOf('us-west-2a'), 2000)
    if (fresh.kind === 'connected') {
      const [again] = (await once(fresh.socket, 'error')) as [NodeJS.ErrnoException]
      expect(again.code).toBe('ECONNRESET')
    } else {
      expect(fresh).toMatchObject({ kind: 'error', code: 'ECONNRESET' })
    }
  })

  it('latency: adds delay in both directions', async () => {
    await lab.zone('us-west-2a').fail('latency', { ms: 150 })
    const outcome = await tryConnect(addressOf('us-west-2a'), portOf('us-west-2a'), 2000)
    if (outcome.kind !== 'connected') throw new Error('expected a connection')
    const started = performance.now()
    expect(await roundTrip(outcome.socket, 'slow', 3000)).toBe('slow')
    // Generous bound: two one-way delays of 150 ms, on a shared machine.
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    outcome.socket.destroy()
  })

  it('latency: bytes keep their order when the zone is restored mid-stream', async () => {
    await lab.zone('us-west-2a').fail('latency', { ms: 150 })
    const outcome = await tryConnect(addressOf('us-west-2a'), portOf('us-west-2a'), 2000)
    if (outcome.kind !== 'connected') throw new Error('expected a connection')
    const before = lab.stats()['us-west-2a']!['echo']!.bytesIn
    let echoed = ''
    outcome.socket.on('data', (chunk: Buffer) => {
      echoed += chunk.toString()
    })
    outcome.socket.write('first;')
    // The relay holds "first;" for 150 ms; "second;" arrives after restore() and must wait behind it.
    await vi.waitFor(() =>
      expect(lab.stats()['us-west-2a']!['echo']!.bytesIn).toBe(before + 'first;'.length),
    )
    await lab.zone('us-west-2a').restore()
    outcome.socket.write('second;')
    await vi.waitFor(() => expect(echoed).toHaveLength('first;second;'.length), { timeout: 3000 })
    expect(echoed).toBe('first;second;')
    outcome.socket.destroy()
  })

  it('restore() brings a zone back from every fault mode', async () => {
    for (const mode of [
      'refuse',
      'blackhole',
      'blackhole-new',
      'hang',
      'reset',
      'latency',
      'idle-close',
    ] as const) {
      await lab.zone('us-west-2a').fail(mode)
      await lab.zone('us-west-2a').restore()
      const outcome = await tryConnect(addressOf('us-west-2a'), portOf('us-west-2a'), 2000)
      expect(outcome.kind, mode).toBe('connected')
      if (outcome.kind !== 'connected') continue
      expect(await roundTrip(outcome.socket, mode, 2000)).toBe(mode)
      outcome.socket.destroy()
    }
  })
})
