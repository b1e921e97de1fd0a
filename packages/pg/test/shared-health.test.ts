import type { Lab, RdsProxyFront } from '@privatelink/lab'
import { createClient, createPool } from '@privatelink/pg'
import type pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { bytesByZone, postgresTarget, startProxyLab, zoneA } from './support.js'

// Issue 30: one zone health per endpoint per process. Every pool and client of the same endpoint
// and proxy (a pool, a LISTEN client, an ORM's pool) shares core's zone health: a zone one of them
// ejects, the others avoid from their next connection on. The clock is fixed, so an ejection
// never runs out during a test.
const target = postgresTarget()
const now = Date.now()
const clock = () => now
let lab: Lab
let front: RdsProxyFront
const open: { end(): Promise<void> }[] = []

beforeAll(async () => {
  ;({ lab, front } = await startProxyLab({ clock }))
})
afterAll(() => lab?.close())
afterEach(async () => {
  await lab.zone('us-west-2a').restore()
  for (const client of open.splice(0)) await client.end().catch(() => {})
})

const options = () => ({
  endpoint: lab.endpoint,
  proxyHost: front.proxyHost,
  user: 'app_user',
  database: target.database,
  credentials: lab.aws.issueSession(3600),
  ssl: { ca: lab.ca.certificatePem },
  // The same settings (and clock) in each: options that define health are part of what is shared.
  connectorOptions: {
    locality: zoneA,
    clock,
    ejection: { consecutiveFailures: 1 },
    healthCheck: { intervalMs: 0 },
  },
})
const pool = () => {
  const created = createPool({ ...options(), max: 2 })
  created.on('error', () => {})
  open.push(created)
  return created
}
const client = () => {
  const created = createClient(options())
  created.on('error', () => {})
  open.push(created)
  return created
}

/** Runs `work` with the own zone refused: its connect fails there, which ejects it. */
async function ejectOwnZoneThrough(work: () => Promise<unknown>): Promise<void> {
  await lab.zone('us-west-2a').fail('refuse')
  await work()
  // The zone works again: only shared health keeps the others away from it.
  await lab.zone('us-west-2a').restore()
}

/** Bytes `work` sent through each zone. */
async function bytesOf(work: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = bytesByZone(lab, 'postgres')
  await work()
  const after = bytesByZone(lab, 'postgres')
  return Object.fromEntries(Object.entries(after).map(([zone, n]) => [zone, n - before[zone]!]))
}

describe('pools and clients of one endpoint share its zone health', () => {
  it('a zone one pool ejects is avoided by a second pool from its first connection', async () => {
    const first = pool()
    const second = pool()
    await ejectOwnZoneThrough(() => first.query('SELECT 1'))
    const sent = await bytesOf(() => second.query('SELECT 1'))
    expect(sent['us-west-2a']).toBe(0)
    expect(sent['us-west-2b']! + sent['us-west-2c']!).toBeGreaterThan(0)
  })

  it('and the other way round: a client (LISTEN, say) ejects, the pool avoids', async () => {
    const pooled = pool()
    await pooled.query('SELECT 1') // in the own zone, before anything failed
    const held = client()
    await ejectOwnZoneThrough(() => held.connect())
    const sent = await bytesOf(async () => {
      // Two new connections (the pool's first one is idle in the own zone: it was retired).
      const clients: pg.PoolClient[] = await Promise.all([pooled.connect(), pooled.connect()])
      for (const c of clients) await c.query('SELECT 1')
      for (const c of clients) c.release()
    })
    expect(sent['us-west-2a']).toBe(0)
    expect(sent['us-west-2b']! + sent['us-west-2c']!).toBeGreaterThan(0)
  })

  it('a pool of another proxy behind the same endpoint keeps health of its own', async () => {
    const first = pool()
    const other = createPool({
      ...options(),
      proxyHost: front.proxyHost.replace(/^[^.]+/, 'other'),
      max: 1,
    })
    other.on('error', () => {})
    open.push(other)
    await ejectOwnZoneThrough(() => first.query('SELECT 1'))
    // Its connect reaches the own zone (its check proves another proxy name: not the same health).
    const sent = await bytesOf(() => other.query('SELECT 1').catch(() => undefined))
    expect(sent['us-west-2a']).toBeGreaterThan(0)
  })
})
