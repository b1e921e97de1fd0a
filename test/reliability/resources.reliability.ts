import { readdirSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { createConnector } from '@privatelink/core'
import { createResolver } from '@privatelink/dns'
import { createEndpointDispatcher } from '@privatelink/http'
import { startLab } from '@privatelink/lab'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addCredentials, streamChannelMessages } from './support/capture.js'
import { ownLocality, startApp } from './support/clients.js'
import { startLoad } from './support/load.js'
import { API_HOST, type Stack, startStack } from './support/stack.js'
import { record } from './support/summary.js'

// Issue 15, resource hygiene: after close()/end() nothing the packages opened remains (sockets,
// servers, timers: process.getActiveResourcesInfo()); heap and file descriptors stay flat over
// 10,000 connect/close cycles; and a second lab on the same machine stays out of the way.
const CYCLES = Number(process.env['RELIABILITY_CYCLES'] ?? 10_000)

let stack: Stack
beforeAll(async () => {
  stack = await startStack()
  addCredentials('lab long-term key', stack.lab.aws.credentials)
})
afterAll(async () => {
  await stack?.close()
})

const KINDS = [
  'TCPSocketWrap',
  'TCPServerWrap',
  'TLSWrap',
  'UDPWrap',
  'Timeout',
  'Immediate',
  'MessagePort',
  'Worker',
]
function resources(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo())
    if (KINDS.includes(kind)) counts[kind] = (counts[kind] ?? 0) + 1
  return counts
}
const extra = (before: Record<string, number>, after: Record<string, number>) =>
  Object.entries(after)
    .filter(([kind, n]) => n > (before[kind] ?? 0))
    .map(([kind, n]) => `${kind} +${n - (before[kind] ?? 0)}`)
const fds = () => readdirSync('/proc/self/fd').length
const heapMb = () => {
  ;(globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage().heapUsed / 2 ** 20
}

describe('resource hygiene', () => {
  it('close()/end() of every client leaves no socket, server, worker or timer behind', async ({
    task,
  }) => {
    await sleep(100)
    const before = resources()
    const credentials = stack.lab.aws.issueSession(3600)
    addCredentials('STS session', credentials)
    const app = startApp(stack, { credentials })
    const resolver = createResolver({
      servers: [stack.lab.dns.address],
      allowedRanges: stack.lab.allowedRanges,
    })
    await resolver.resolve(API_HOST)
    const load = startLoad(app, { workers: 4, prefix: 'privatelink:reliability:hygiene' })
    await sleep(1_500)
    await load.stop()
    const during = resources()
    await app.close()
    // Sockets finish closing on the next turns of the event loop: give them a bounded moment.
    let left: string[] = []
    for (let i = 0; i < 40; i++) {
      left = extra(before, resources())
      if (left.length === 0) break
      await sleep(50)
    }
    record(task, {
      scenario: 'resources: http + pg + redis clients closed',
      load: load.completed(),
      faults: 0,
      badInputs: 0,
      failures: left.length,
      secrets: 0,
      notes: `while running: ${extra(before, during).join(', ') || 'nothing extra'}; after close: ${left.join(', ') || 'nothing extra'}`,
    })
    expect(load.completed()).toBeGreaterThan(0)
    expect(left).toEqual([])
  })

  it(`heap and file descriptors stay flat over ${CYCLES} connect/close cycles`, async ({
    task,
  }) => {
    const connector = createConnector({
      endpoint: stack.lab.endpoint,
      port: 443,
      locality: ownLocality,
      healthCheck: { intervalMs: 0 },
    })
    const dispatcher = createEndpointDispatcher({
      connector,
      ca: stack.lab.ca.certificatePem,
    })
    let done = 0
    const failures: string[] = []
    const run = async (count: number) => {
      const per = Math.ceil(count / 8)
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = 0; i < per; i++) {
            try {
              const socket = await connector.connect({ tls: false })
              socket.destroy()
              done++
            } catch (error) {
              failures.push(String((error as { code?: string }).code ?? error))
            }
          }
        }),
      )
    }
    streamChannelMessages(true)
    try {
      // Warm: TLS contexts, JIT, pools; then measure from there.
      await run(Math.min(1_000, CYCLES / 10))
      const response = await request(`https://${API_HOST}/warm`, { dispatcher })
      await response.body.dump()
      await sleep(200)
      const start = { heap: heapMb(), fds: fds() }
      await run(CYCLES)
      await sleep(200)
      const end = { heap: heapMb(), fds: fds() }
      record(task, {
        scenario: `resources: ${CYCLES} connect/close cycles`,
        load: done,
        faults: 0,
        badInputs: 0,
        failures: failures.length,
        secrets: 0,
        notes: `heap ${start.heap.toFixed(1)} -> ${end.heap.toFixed(1)} MB, fds ${start.fds} -> ${end.fds}`,
      })
      expect(failures).toEqual([])
      expect(end.fds - start.fds).toBeLessThanOrEqual(2)
      expect(end.heap - start.heap).toBeLessThan(8)
    } finally {
      streamChannelMessages(false)
      await dispatcher.close()
      connector.close()
    }
  })

  it('alongside another lab under faults: each lab sees only its own clients', async ({ task }) => {
    const other = await startLab({
      privateDnsName: API_HOST,
      services: [{ name: 'api', port: 443, target: { host: '127.0.0.1', port: stack.api.port } }],
    })
    const accepted = (lab: typeof other) =>
      Object.values(lab.stats()).reduce(
        (sum, services) => sum + (services['api']?.accepted ?? 0),
        0,
      )
    const mine = accepted(stack.lab)
    const theirs = accepted(other)
    // The other lab's own client: plain TCP connects through its connector while its zone a fails.
    const neighbour = createConnector({
      endpoint: other.endpoint,
      port: 443,
      locality: ownLocality,
      healthCheck: { intervalMs: 0 },
    })
    let neighbourConnects = 0
    let neighbourAttempts = 0
    let stop = false
    const neighbourLoop = (async () => {
      while (!stop) {
        neighbourAttempts++
        try {
          ;(await neighbour.connect({ tls: false })).destroy()
          neighbourConnects++
        } catch {}
        await sleep(2)
      }
    })()
    const credentials = stack.lab.aws.issueSession(3600)
    addCredentials('STS session', credentials)
    const app = startApp(stack, { credentials })
    const load = startLoad(app, { workers: 4, prefix: 'privatelink:reliability:neighbours' })
    try {
      await other.zone('us-west-2a').fail('reset')
      await sleep(1_500)
      await other.zone('us-west-2a').restore()
    } finally {
      await load.stop()
      stop = true
      await neighbourLoop
      neighbour.close()
      await app.close()
    }
    const failed = load.outcomes.filter((o) => !o.ok)
    const myConnects = accepted(stack.lab) - mine
    const theirConnects = accepted(other) - theirs
    await other.close()
    record(task, {
      scenario: 'alongside another lab (its zone reset meanwhile)',
      load: load.completed() + neighbourConnects,
      faults: 1,
      badInputs: 0,
      failures:
        failed.length +
        (theirConnects >= neighbourConnects && theirConnects <= neighbourAttempts * 3 ? 0 : 1),
      secrets: 0,
      notes: `blocks ${stack.lab.addressBlock} and ${other.addressBlock}; this lab accepted ${myConnects}, the other ${theirConnects} (its own client connected ${neighbourConnects} times in ${neighbourAttempts} connect() calls, zone a reset meanwhile)`,
    })
    expect(other.addressBlock).not.toBe(stack.lab.addressBlock)
    expect(failed.map((o) => `${o.kind} ${o.code}`)).toEqual([])
    // The other lab saw its own client only: its successful connects, plus the attempts its reset
    // zone accepted and reset (a connect() may try up to three zones).
    expect(theirConnects).toBeGreaterThanOrEqual(neighbourConnects)
    expect(theirConnects).toBeLessThanOrEqual(neighbourAttempts * 3)
    expect(myConnects).toBeGreaterThan(0)
  })
})
