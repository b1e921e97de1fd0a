import { once } from 'node:events'
import { connect as netConnect } from 'node:net'
import { createServer, type Server, type TLSSocket } from 'node:tls'
import { type Connector, createConnector, type Dial, HealthRegistry } from '@privatelink/core'
import { createTestCa, type Lab, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { IDLE_EVERY_TICKS, PROVE_EVERY_ROUNDS } from '../src/health-checker.js'

// Issue 30, item 2: health checks cost what they must. Periodic rounds are a TCP connect per
// zone; TLS is proven once in PROVE_EVERY_ROUNDS rounds and resumes the last check's session.
const PORT = 7630
const INTERVAL = 1_000
const servername = 'api.example.internal'
let lab: Lab
let server: Server
let ca: string
const handshakes: ('full' | 'resumed')[] = []
let dials = 0
let open = 0
const dial: Dial = (target) => {
  dials++
  open++
  const socket = netConnect({ ...target, noDelay: true })
  socket.once('close', () => open--)
  return socket
}
/** Polls real time (vi.waitFor would also advance the faked check timer). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = performance.now() + 5_000
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
let connector: Connector

beforeAll(async () => {
  const testCa = await createTestCa()
  const issued = await testCa.issue([servername])
  ca = testCa.certificatePem
  server = createServer({ cert: issued.certificatePem, key: issued.privateKeyPem }, (socket) =>
    socket.on('error', () => {}),
  )
  // Counted when the server has its handshake keys: a check closes right after its own
  // handshake completes, often before the server has read the client's Finished.
  server.on('keylog', (line: Buffer, socket: TLSSocket) => {
    if (line.toString().startsWith('SERVER_HANDSHAKE_TRAFFIC_SECRET'))
      handshakes.push(socket.isSessionReused() ? 'resumed' : 'full')
  })
  server.on('tlsClientError', () => {})
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  lab = await startLab({
    services: [{ name: 'tls', port: PORT, target: { host: '127.0.0.1', port } }],
  })
})
afterAll(async () => {
  await lab.close()
  server.close()
})
afterEach(() => {
  connector?.close()
  vi.useRealTimers()
})

const zones = () => lab.endpoint.zones.length

describe('health check cost', () => {
  it('periodic rounds connect TCP only, and prove TLS once in a while with a resumed session', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    connector = createConnector({
      endpoint: lab.endpoint,
      locality: { source: 'options', azName: lab.endpoint.zones[0]?.azName ?? '' },
      port: PORT,
      tls: { servername, ca },
      dial,
      healthCheck: { intervalMs: INTERVAL },
      healthRegistry: new HealthRegistry(),
    })
    const socket = (await connector.connect()) as TLSSocket
    await until(() => handshakes.length === 1)
    const rounds: { dials: number; handshakes: string[] }[] = []
    for (let round = 0; round <= PROVE_EVERY_ROUNDS; round++) {
      const dialled = dials
      const shook = handshakes.length
      // One tick of the check timer (its period is 80-100% of the interval, drawn per endpoint),
      // then the round's end: every check's socket closed, only the connection left open.
      socket.write('in use') // bytes moved since the last tick: the endpoint is in use
      vi.advanceTimersToNextTimer()
      await until(() => dials - dialled === zones() && open === 1)
      if (round % PROVE_EVERY_ROUNDS === 0) await until(() => handshakes.length - shook === zones())
      rounds.push({ dials: dials - dialled, handshakes: handshakes.slice(shook) })
    }
    const [first, ...rest] = rounds
    const last = rest.pop()
    // The first round proves TLS: full handshakes (no session yet).
    expect(first?.handshakes).toEqual(Array(zones()).fill('full'))
    // The rounds between connect TCP only: no handshake reaches the service.
    for (const round of rest) expect(round).toEqual({ dials: zones(), handshakes: [] })
    // The next proving round resumes the session the first one kept.
    expect(last?.handshakes).toEqual(Array(zones()).fill('resumed'))
    socket.destroy()
  })

  it('while the open sockets are idle, one tick in IDLE_EVERY_TICKS runs a round', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    connector = createConnector({
      endpoint: lab.endpoint,
      locality: { source: 'options', azName: lab.endpoint.zones[0]?.azName ?? '' },
      port: PORT,
      tls: { servername, ca },
      dial,
      healthCheck: { intervalMs: INTERVAL },
      healthRegistry: new HealthRegistry(),
    })
    const socket = (await connector.connect()) as TLSSocket
    const tick = async () => {
      const dialled = dials
      vi.advanceTimersToNextTimer()
      // A round dials at once; a skipped tick dials nothing (a real-time pause to let it show).
      await new Promise((resolve) => setTimeout(resolve, 50))
      if (dials === dialled) return 'skipped'
      await until(() => dials - dialled === zones() && open === 1)
      return 'ran'
    }
    // The new socket is use: the first tick runs. Then idle: IDLE_EVERY_TICKS - 1 skipped, one run.
    const ticks: string[] = []
    for (let i = 0; i < 1 + IDLE_EVERY_TICKS; i++) ticks.push(await tick())
    expect(ticks).toEqual(['ran', ...Array(IDLE_EVERY_TICKS - 1).fill('skipped'), 'ran'])
    // Bytes moved: the next tick runs.
    socket.write('in use')
    expect(await tick()).toBe('ran')
    socket.destroy()
  })
})
