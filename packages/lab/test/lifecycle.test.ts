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
      lab.zone('us-west-2a').address,
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

  it('a lab asking for a block another lab holds fails, naming the block', async () => {
    const first = await startLab({ zones: [{ name: 'us-west-2a', id: 'usw2-az1' }] })
    try {
      const octet = Number(first.addressBlock.split('.')[1])
      await expect(
        startLab({ zones: [{ name: 'us-west-2a', id: 'usw2-az1' }], addressBlock: octet }),
      ).rejects.toThrow(`address block ${first.addressBlock} is taken`)
    } finally {
      await first.close()
    }
  })
})
