import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseSegmentsIn } from '../src/kernel-flows.js'
import { roundTrip, tryConnect } from './helpers.js'

/** An echo service that keeps its sockets, so a test can make the service speak or probe. */
async function startService(): Promise<{
  port: number
  sockets: Socket[]
  received: () => number
  close: () => Promise<void>
}> {
  const sockets: Socket[] = []
  let received = 0
  const server: Server = createServer((socket) => {
    sockets.push(socket)
    socket.on('error', () => {})
    socket.on('data', (chunk) => {
      received += chunk.length
      socket.write(chunk)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    received: () => received,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** Waits for a condition the lab's own timers bring about (bounded, polled: not a fixed sleep). */
async function until(condition: () => boolean, withinMs = 10_000): Promise<void> {
  const deadline = performance.now() + withinMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** What happens to a socket next: data, a reset, a close, or nothing within `withinMs`. */
function outcome(socket: Socket, withinMs: number): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done('nothing'), withinMs)
    const onData = () => done('data')
    const onError = (error: NodeJS.ErrnoException) => done(error.code ?? 'error')
    const onClose = () => done('closed')
    const done = (what: string) => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('error', onError)
      socket.off('close', onClose)
      resolve(what)
    }
    socket.on('data', onData)
    socket.once('error', onError)
    socket.once('close', onClose)
  })
}

const ssWorks = (() => {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

describe('idle flow timeout, by the lab clock', () => {
  let service: Awaited<ReturnType<typeof startService>>
  let lab: Lab
  let now = Date.parse('2026-10-01T00:00:00Z')
  const zoneA = 'us-west-2a'
  const zoneB = 'us-west-2b'
  const stats = (zone: string) => lab.zone(zone).stats()['echo']!
  const open = async (zone: string): Promise<Socket> => {
    const entry = lab.endpoint.zones.find((z) => z.azName === zone)!
    const result = await tryConnect(entry.addresses[0]!, entry.portMap?.['7400'] ?? 7400, 2000)
    if (result.kind !== 'connected') throw new Error(`expected a connection, got ${result.kind}`)
    result.socket.on('error', () => {})
    return result.socket
  }

  beforeAll(async () => {
    service = await startService()
    lab = await startLab({
      clock: () => now,
      zones: [
        { name: zoneA, id: 'usw2-az1' },
        { name: zoneB, id: 'usw2-az2', idleTimeoutMs: 60_000, idleTimeoutMode: 'drop' },
      ],
      services: [{ name: 'echo', port: 7400, target: { host: '127.0.0.1', port: service.port } }],
    })
  })
  afterAll(async () => {
    await lab?.close()
    await service?.close()
  })

  it('defaults to 350 s and reset; a zone can set its own', () => {
    expect(lab.zone(zoneA).idleTimeout()).toEqual({ timeoutMs: 350_000, mode: 'reset' })
    expect(lab.zone(zoneB).idleTimeout()).toEqual({ timeoutMs: 60_000, mode: 'drop' })
  })

  it('forgets a flow idle for 350 s; the next segment from the client gets a reset, the service is not told', async () => {
    const socket = await open(zoneA)
    expect(await roundTrip(socket, 'hello', 2000)).toBe('hello')
    const serviceSocket = service.sockets.at(-1)!
    now += 349_999
    expect(await lab.zone(zoneA).sweepIdle()).toBe(0)
    expect(await roundTrip(socket, 'still', 2000)).toBe('still')
    now += 350_000
    expect(await lab.zone(zoneA).sweepIdle()).toBe(1)
    expect(stats(zoneA).flowsForgotten).toBe(1)
    const serviceSaw = outcome(serviceSocket, 300)
    const next = outcome(socket, 2000)
    socket.write('late')
    expect(await next).toBe('ECONNRESET')
    expect(stats(zoneA).resetsSent).toBe(1)
    // The service's end of the flow lives on: no FIN, no reset, and the bytes never came.
    expect(await serviceSaw).toBe('nothing')
    expect(serviceSocket.destroyed).toBe(false)
    // A new connection is a new flow.
    const fresh = await open(zoneA)
    expect(await roundTrip(fresh, 'new flow', 2000)).toBe('new flow')
    fresh.destroy()
  })

  it('the service speaking on a forgotten flow gets the reset; the client hears nothing', async () => {
    const socket = await open(zoneA)
    expect(await roundTrip(socket, 'x', 2000)).toBe('x')
    const serviceSocket = service.sockets.at(-1)!
    const resets = stats(zoneA).resetsSent
    now += 351_000
    expect(await lab.zone(zoneA).sweepIdle()).toBe(1)
    const serviceSees = outcome(serviceSocket, 2000)
    const clientSees = outcome(socket, 500)
    serviceSocket.write('push')
    expect(await serviceSees).toBe('ECONNRESET')
    expect(await clientSees).toBe('nothing')
    expect(stats(zoneA).resetsSent).toBe(resets + 1)
    socket.destroy()
  })

  it("drop mode: the client's write is swallowed, no reset; the request hangs until the client's own timeout", async () => {
    const socket = await open(zoneB)
    expect(await roundTrip(socket, 'y', 2000)).toBe('y')
    const received = service.received()
    now += 60_000
    expect(await lab.zone(zoneB).sweepIdle()).toBe(1)
    expect(await roundTrip(socket, 'into the void', 500)).toBeUndefined()
    expect(socket.destroyed).toBe(false)
    expect(service.received()).toBe(received)
    expect(stats(zoneB)).toMatchObject({ flowsForgotten: 1, resetsSent: 0, segmentsDropped: 1 })
    socket.destroy()
  })

  it('setIdleTimeout changes a zone from now on, and refuses bad values', async () => {
    const socket = await open(zoneA)
    expect(await roundTrip(socket, 'z', 2000)).toBe('z')
    lab.zone(zoneA).setIdleTimeout({ idleTimeoutMs: 5_000 })
    now += 5_000
    expect(await lab.zone(zoneA).sweepIdle()).toBe(1)
    lab.zone(zoneA).setIdleTimeout({ idleTimeoutMs: 350_000, idleTimeoutMode: 'reset' })
    socket.destroy()
    expect(() => lab.zone(zoneA).setIdleTimeout({ idleTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    expect(() => lab.zone(zoneA).setIdleTimeout({ idleTimeoutMode: 'fin' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    await expect(startLab({ idleTimeoutMs: -1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      details: expect.objectContaining({ option: 'idleTimeoutMs' }),
    })
    await expect(
      startLab({ zones: [{ name: 'us-west-2a', id: 'usw2-az1', idleTimeoutMode: 'x' as never }] }),
    ).rejects.toMatchObject({
      details: expect.objectContaining({ option: 'zones[0].idleTimeoutMode' }),
    })
  })
})

describe.skipIf(!ssWorks)(
  'idle flow timeout and TCP keep-alive (the kernel sees the probes)',
  () => {
    let service: Awaited<ReturnType<typeof startService>>
    let lab: Lab
    const stats = () => lab.zone('us-west-2a').stats()['echo']!
    const open = async (): Promise<Socket> => {
      const entry = lab.endpoint.zones[0]!
      const result = await tryConnect(entry.addresses[0]!, entry.portMap?.['7401'] ?? 7401, 2000)
      if (result.kind !== 'connected') throw new Error(`expected a connection, got ${result.kind}`)
      result.socket.on('error', () => {})
      return result.socket
    }

    beforeAll(async () => {
      service = await startService()
      // Real time here: the kernel sends probes on its own clock. Linux's shortest keep-alive
      // idle time is 1 s, so the path forgets after 2.5 s.
      lab = await startLab({
        idleTimeoutMs: 2500,
        zones: [{ name: 'us-west-2a', id: 'usw2-az1' }],
        services: [{ name: 'echo', port: 7401, target: { host: '127.0.0.1', port: service.port } }],
      })
    })
    afterAll(async () => {
      await lab?.close()
      await service?.close()
    })
    afterEach(async () => {
      for (const socket of service.sockets) socket.destroy()
    })

    it("the client's keep-alive probes keep the flow; without them it is forgotten and reset", async () => {
      const kept = await open()
      kept.setKeepAlive(true, 1000)
      const idle = await open()
      expect(await roundTrip(kept, 'a', 2000)).toBe('a')
      expect(await roundTrip(idle, 'b', 2000)).toBe('b')
      await until(() => stats().flowsForgotten >= 1)
      // Carry on well past the timeout: the probed flow is refreshed again and again.
      await until(() => stats().keepAliveSeen >= 4)
      expect(stats().flowsForgotten).toBe(1)
      expect(await roundTrip(kept, 'still here', 2000)).toBe('still here')
      const next = outcome(idle, 2000)
      idle.write('late')
      expect(await next).toBe('ECONNRESET')
      kept.destroy()
    })

    it("the service's keep-alive probes count too; a forgotten flow's probes get a reset", async () => {
      const socket = await open()
      expect(await roundTrip(socket, 'c', 2000)).toBe('c')
      const serviceSocket = service.sockets.at(-1)!
      serviceSocket.setKeepAlive(true, 1000)
      const seen = stats().keepAliveSeen
      await until(() => stats().keepAliveSeen >= seen + 3)
      expect(await roundTrip(socket, 'alive', 2000)).toBe('alive')

      // Keep-alive on after the flow was forgotten: the first probe gets the path's reset.
      const other = await open()
      expect(await roundTrip(other, 'd', 2000)).toBe('d')
      const otherService = service.sockets.at(-1)!
      const forgotten = stats().flowsForgotten
      await until(() => stats().flowsForgotten > forgotten)
      const resets = stats().resetsSent
      const serviceSees = outcome(otherService, 8000)
      otherService.setKeepAlive(true, 1000)
      expect(await serviceSees).toBe('ECONNRESET')
      expect(stats().resetsSent).toBe(resets + 1)
      socket.destroy()
      other.destroy()
    })

    it('forgets the only flow of a zone on its own timer (the first flow arms it)', async () => {
      const before = stats().flowsForgotten
      const only = await open()
      expect(await roundTrip(only, 'alone', 2000)).toBe('alone')
      await until(() => stats().flowsForgotten > before)
      const next = outcome(only, 2000)
      only.write('late')
      expect(await next).toBe('ECONNRESET')
    })
  },
)

describe('ss output parsing', () => {
  it('reads segs_in per socket, 0 when absent, IPv4-mapped addresses as IPv4', () => {
    const output = [
      '0      0      127.16.1.1:7400 127.0.0.1:51000',
      '\t cubic wscale:7,7 rto:204 segs_out:3 segs_in:5 lastsnd:4',
      '0      0      [::ffff:127.0.0.1]:40000 [::ffff:127.0.0.1]:5432',
      '\t cubic rto:204 lastsnd:4',
      '',
    ].join('\n')
    expect([...parseSegmentsIn(output)]).toEqual([
      ['127.16.1.1:7400|127.0.0.1:51000', 5],
      ['127.0.0.1:40000|127.0.0.1:5432', 0],
    ])
  })
})
