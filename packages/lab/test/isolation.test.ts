import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { endpointsFromEnv } from '@privatelink/core'
import { PORT_MAP_TAG, startLab } from '@privatelink/lab'
import { describe, expect, it } from 'vitest'
import { type QuickstartResult, runQuickstart } from './quickstart-flow.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const isRoot = process.getuid?.() === 0

/** Runs the quickstart flow in a fresh Node process; resolves with its result. */
function quickstartInChild(): Promise<QuickstartResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'packages/lab/test/fixtures/quickstart-child.ts'],
      { cwd: root, env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000 },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`${error.message}\n${stderr}`))
          : resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as QuickstartResult),
    )
  })
}

const octetOf = (block: string) => Number(block.split('.')[1])

/** What every passing quickstart shows: discovery matches the lab, and the right port was dialled. */
function expectPassed(result: QuickstartResult) {
  expect(result.body).toBe('ok')
  // Discovery through the EC2 API learns everything the lab knows, remapped ports included.
  expect(result.discovered.zones).toEqual(result.labEndpoint.zones)
  const own = result.labEndpoint.zones[0]!
  expect(result.dialled).toEqual({
    address: own.addresses[0],
    port: own.portMap?.['443'] ?? 443,
  })
  expect(result.dialled.address.startsWith(`127.${octetOf(result.addressBlock)}.1.`)).toBe(true)
  expect(result.accepted['us-west-2a']).toBe(1)
  // Without root, 443 cannot be bound: every zone serves on one other port, and says so.
  if (!isRoot) {
    expect(own.portMap?.['443']).toBeGreaterThan(1023)
    expect(result.tags).toEqual([{ Key: PORT_MAP_TAG, Value: `443=${own.portMap?.['443']}` }])
  }
}

async function hold(host: string, port = 0): Promise<Server & { connections: number }> {
  const server = Object.assign(createServer(), { connections: 0 })
  server.on('connection', (socket: Socket) => {
    server.connections++
    socket.destroy()
  })
  server.listen(port, host)
  await once(server, 'listening')
  return server
}

describe('isolation: every lab has its own 127.X.0.0/16', () => {
  it('two labs started concurrently in one process both pass the quickstart', async () => {
    const [first, second] = await Promise.all([runQuickstart(), runQuickstart()])
    expect(octetOf(first.addressBlock)).not.toBe(octetOf(second.addressBlock))
    expectPassed(first)
    expectPassed(second)
  })

  it('two labs in two processes both pass the quickstart', async () => {
    // This process's lab is up for as long as the child runs its own.
    const [child, here] = await Promise.all([quickstartInChild(), runQuickstart()])
    expect(octetOf(child.addressBlock)).not.toBe(octetOf(here.addressBlock))
    expectPassed(child)
    expectPassed(here)
  }, 60_000)

  it("a zone's port held by another server: the lab serves elsewhere and discovery dials there", async () => {
    // Block 0 is never chosen automatically: the lab takes it because it is asked to, and finds
    // 127.0.1.1:<port> already served by someone else (a developer's web server, say).
    const holder = await hold('127.0.1.1')
    const port = (holder.address() as { port: number }).port
    try {
      const result = await runQuickstart({ port, lab: { addressBlock: 0 } })
      const [a, b] = result.labEndpoint.zones
      const moved = a!.portMap?.[String(port)]
      expect(moved).toBeGreaterThan(0)
      expect(moved).not.toBe(port)
      expect(b!.portMap).toBeUndefined()
      expect(result.tags).toEqual([
        { Key: `${PORT_MAP_TAG}:us-west-2a`, Value: `${port}=${moved}` },
      ])
      expect(result.discovered.zones).toEqual(result.labEndpoint.zones)
      expect(result.dialled).toEqual({ address: '127.0.1.1', port: moved })
      expect(result.body).toBe('ok')
      expect(holder.connections).toBe(0)
    } finally {
      holder.close()
    }
  })

  it('endpointJson() carries the port maps into PRIVATELINK_ENDPOINTS', async () => {
    const lab = await startLab({
      services: [{ name: 'api', port: 443, target: { host: '127.0.0.1', port: 1 } }],
    })
    try {
      const [endpoint] = endpointsFromEnv({ PRIVATELINK_ENDPOINTS: lab.endpointJson() })
      expect(endpoint).toEqual(lab.endpoint)
      expect(lab.allowedRanges).toEqual([lab.addressBlock])
    } finally {
      await lab.close()
    }
  })
})
