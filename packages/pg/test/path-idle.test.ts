import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Lab, RdsProxyFront } from '@privatelink/lab'
import { createClient, createPool } from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresTarget, startProxyLab, zoneA } from './support.js'

// The path forgets a connection idle for its timeout (350 s on AWS, 5 s of the lab's clock
// here). One clock drives the lab and the client, so "idle past it" takes no real time; a jump
// of the clock with no tick between is what a frozen Lambda sandbox sees, and no keep-alive
// probe could have kept the flow meanwhile.
const target = postgresTarget()
const PATH_IDLE_MS = 5_000

describe.each(['reset', 'drop'] as const)("the path's idle timeout, lab mode '%s'", (mode) => {
  let lab: Lab
  let front: RdsProxyFront
  let now = Date.now()
  const clock = () => now

  beforeAll(async () => {
    ;({ lab, front } = await startProxyLab({
      clock,
      idleTimeoutMs: PATH_IDLE_MS,
      idleTimeoutMode: mode,
    }))
  })
  afterAll(() => lab?.close())

  const options = (connectorOptions: Record<string, unknown> = {}) => ({
    endpoint: lab.endpoint,
    proxyHost: front.proxyHost,
    user: 'app_user',
    database: target.database,
    credentials: lab.aws.issueSession(3600),
    ssl: { ca: lab.ca.certificatePem },
    connectorOptions: {
      locality: zoneA,
      clock,
      pathIdleTimeoutMs: PATH_IDLE_MS,
      ...connectorOptions,
    },
  })
  /** Idle past the path's timeout: the lab forgets every flow idle that long. */
  const idlePastThePath = async () => {
    const forgotten = () => lab.zone('us-west-2a').stats()['postgres']!.flowsForgotten
    const before = forgotten()
    now += PATH_IDLE_MS + 1_000
    // (The lab's own timer may be the one to forget them: counted either way.)
    await lab.zone('us-west-2a').sweepIdle()
    expect(forgotten()).toBeGreaterThan(before)
  }

  it.each([
    ['a pool', {}],
    ['a pool with the Lambda profile', { profile: 'lambda' as const }],
  ])(
    '%s with keep-alive off, idle past it, loses no query: the forgotten connection is replaced',
    async (_, own) => {
      const pool = createPool({ ...options({ keepAlive: false }), ...own, max: 2 })
      const seen: unknown[] = []
      const listener = (message: unknown) => seen.push(message)
      subscribe('privatelink:connector:path-idle', listener)
      try {
        await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 2')])
        await idlePastThePath()
        const results = await Promise.all([1, 2, 3].map((n) => pool.query(`SELECT ${n} AS n`)))
        expect(results.map((r) => r.rows[0].n)).toEqual([1, 2, 3])
        expect(pool.stats().pathIdleReplaced).toBeGreaterThanOrEqual(1)
        expect(seen).toContainEqual(expect.objectContaining({ zone: 'usw2-az1', at: 'use' }))
      } finally {
        unsubscribe('privatelink:connector:path-idle', listener)
        await pool.end()
      }
    },
  )

  it('a client held idle past it with keep-alive off: a typed error with a hint, never a hang', async () => {
    const client = createClient(options({ keepAlive: false }))
    const errors: unknown[] = []
    client.on('error', (error) => errors.push(error))
    await client.connect()
    await client.query('SELECT 1')
    await idlePastThePath()
    const failed = await client.query('SELECT 2').catch((error: unknown) => error)
    expect(failed).toMatchObject({
      code: 'ERR_PG_CONNECTION_LOST',
      details: { cause: 'path-idle', pathIdleTimeoutMs: PATH_IDLE_MS, zone: 'usw2-az1' },
    })
    expect((failed as { hint: string }).hint).toMatch(/keep-alive/)
    await client.end().catch(() => {})
  })
})

describe("the path's idle timeout with default options (real seconds: the kernel's keep-alive)", () => {
  let lab: Lab
  let front: RdsProxyFront
  beforeAll(async () => {
    // The lab forgets a flow idle for 3 s of real time; the connector is told so, as a user
    // with an NLB listener at a shorter timeout would (keep-alive then probes after 1 s).
    ;({ lab, front } = await startProxyLab({ idleTimeoutMs: 3_000 }))
  })
  afterAll(() => lab?.close())

  it('a pool idle past it loses no query, and the path forgot nothing', async () => {
    const pool = createPool({
      endpoint: lab.endpoint,
      proxyHost: front.proxyHost,
      user: 'app_user',
      database: target.database,
      credentials: lab.aws.issueSession(3600),
      ssl: { ca: lab.ca.certificatePem },
      connectorOptions: {
        locality: zoneA,
        pathIdleTimeoutMs: 3_000,
        healthCheck: { intervalMs: 0 },
      },
    })
    const stats = () => lab.zone('us-west-2a').stats()['postgres']!
    try {
      await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 2')])
      const before = stats()
      // Idle for longer than the path's timeout: four probes a second apart per connection.
      await until(() => stats().keepAliveSeen >= before.keepAliveSeen + 8)
      const results = await Promise.all([1, 2, 3].map((n) => pool.query(`SELECT ${n} AS n`)))
      expect(results.map((r) => r.rows[0].n)).toEqual([1, 2, 3])
      expect(stats().flowsForgotten).toBe(before.flowsForgotten)
      expect(pool.stats().pathIdleReplaced).toBe(0)
    } finally {
      await pool.end()
    }
  })
})

/** Waits for what the kernel's and the lab's own timers bring about (bounded, polled). */
async function until(condition: () => boolean, withinMs = 15_000): Promise<void> {
  const deadline = performance.now() + withinMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
