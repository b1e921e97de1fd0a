import { startLab } from '@privatelink/lab'
import { describe, expect, it, vi } from 'vitest'
import { startEchoServer, tryConnect } from './helpers.js'

const resources = () =>
  process
    .getActiveResourcesInfo()
    // vitest's own timers and pipes come and go; sockets, servers, workers and DNS handles must not.
    .filter((name) => !['TTYWrap', 'PipeWrap', 'Timeout', 'Immediate'].includes(name))
    .sort()

describe('lab lifecycle', () => {
  it('close() leaves no listener, socket, worker or timer behind', async () => {
    const before = resources()
    const echo = await startEchoServer()
    const lab = await startLab({
      services: [{ name: 'echo', port: 7100, target: { host: '127.0.0.1', port: echo.port } }],
    })
    const outcome = await tryConnect(
      '127.0.1.1',
      lab.endpoint.zones[0]!.portMap?.['7100'] ?? 7100,
      2000,
    )
    expect(outcome.kind).toBe('connected')
    await lab.zone('us-west-2b').fail('blackhole')
    await lab.zone('us-west-2c').fail('latency', { ms: 50 })
    expect(resources().length).toBeGreaterThan(before.length)
    await lab.close()
    if (outcome.kind === 'connected') outcome.socket.destroy()
    await echo.close()
    // Closed handles leave the list on the loop's next turns; wait for that, bounded.
    await vi.waitFor(() => expect(resources()).toEqual(before), { timeout: 2000, interval: 10 })
  })

  it('uses a free port when the service port is taken on a zone address', async () => {
    const first = await startLab({
      zones: [{ name: 'us-west-2a', id: 'usw2-az1' }],
      services: [{ name: 's', port: 7200, target: { host: '127.0.0.1', port: 1 } }],
    })
    const second = await startLab({
      zones: [{ name: 'us-west-2a', id: 'usw2-az1' }],
      services: [{ name: 's', port: 7200, target: { host: '127.0.0.1', port: 1 } }],
    })
    try {
      expect(first.endpoint.zones[0]!.portMap).toBeUndefined()
      expect(second.endpoint.zones[0]!.portMap?.['7200']).toBeGreaterThan(0)
      expect(second.endpoint.zones[0]!.portMap?.['7200']).not.toBe(7200)
    } finally {
      await second.close()
      await first.close()
    }
  })
})
