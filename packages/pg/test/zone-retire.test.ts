import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { type Connector, createConnector } from '@privatelink/core'
import type { Lab } from '@privatelink/lab'
import { createPool } from '@privatelink/pg'
import type pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { bytesByZone, postgresTarget, startPlainLab, zoneA } from './support.js'

// Core decides which zones a pool's connections leave (eject, readmission of the own zone); the
// pool only says how: idle clients at once, checked-out ones when released. The connector's
// clock is injected, so readmission comes when the test moves time, not after a wait.
const target = postgresTarget()
let lab: Lab
let now = 1_000_000
let connector: Connector
let pool: pg.Pool
const retired: { zone: string | null; clients: number; reason: string }[] = []
const onRetired = (message: unknown) => retired.push(message as (typeof retired)[number])

beforeAll(async () => {
  lab = await startPlainLab()
  subscribe('privatelink:pg:zone-retired', onRetired)
})
afterAll(async () => {
  unsubscribe('privatelink:pg:zone-retired', onRetired)
  await lab?.close()
})
afterEach(async () => {
  await pool?.end()
  connector?.close()
  retired.length = 0
})

const start = () => {
  connector = createConnector({
    endpoint: lab.endpoint,
    port: 5432,
    locality: zoneA,
    clock: () => now,
    healthCheck: { intervalMs: 0 },
  })
  pool = createPool({
    connector,
    proxyHost: 'test-db.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com',
    user: target.user,
    database: target.database,
    auth: { password: target.password },
    ssl: { insecure: 'plaintext' },
    max: 4,
  })
}

/** Two connections, both idle afterwards. */
const twoIdle = async () => {
  const clients = await Promise.all([pool.connect(), pool.connect()])
  for (const client of clients) client.release()
  expect(pool.idleCount).toBe(2)
}

const eject = (zone: string) => {
  while (!connector.zones().find((z) => z.zone === zone)!.ejected)
    connector.report(zone, 'connect-failed', 'ECONNREFUSED')
}

/** Whether the pool emptied once pg-pool's 'remove' ran (it ends a client asynchronously). */
const removed = (count: number) =>
  new Promise<void>((resolve) => {
    let left = count
    const onRemove = () => {
      if (--left > 0) return
      pool.off('remove', onRemove)
      resolve()
    }
    pool.on('remove', onRemove)
  })

describe('a pool follows the zones core retires', () => {
  it('ejected zone: idle clients leave at once; readmitted own zone: idle clients elsewhere leave, a checked-out one when released', async () => {
    start()
    await twoIdle()
    const gone = removed(2)
    eject('usw2-az1')
    // Synchronously out of the idle list: the next checkout cannot pick one.
    expect(pool.idleCount).toBe(0)
    await gone
    expect(retired).toEqual([
      expect.objectContaining({ zone: 'usw2-az1', clients: 2, reason: 'eject' }),
    ])

    const held = await pool.connect()
    await twoIdle()
    expect(pool.totalCount).toBe(3)
    const before = bytesByZone(lab, 'pg')
    now += 3_600_000
    const away = removed(2)
    connector.preferredZones() // routing notices the ejection has run out: readmit
    expect(pool.idleCount).toBe(0)
    await away
    expect(retired.at(-1)).toMatchObject({ zone: 'usw2-az1', clients: 3, reason: 'readmit' })
    // The checked-out client keeps working until it is released, then leaves.
    const { rows } = await held.query<{ one: number }>('SELECT 1 AS one')
    expect(rows[0]!.one).toBe(1)
    const last = removed(1)
    held.release()
    await last
    expect(pool.totalCount).toBe(0)
    await pool.query('SELECT 1')
    const after = bytesByZone(lab, 'pg')
    expect(after['us-west-2a']! - before['us-west-2a']!).toBeGreaterThan(0)
  })

  it('a retired client released while a checkout waits leaves; the waiter gets a new connection', async () => {
    start()
    eject('usw2-az1')
    const held = await pool.connect() // in another zone while the own zone is out
    now += 3_600_000
    connector.preferredZones() // the own zone is back: held should leave
    const waiting = pool.connect() // a saturated pool (max 4 here: take the other three first)
    const others = await Promise.all([waiting, pool.connect(), pool.connect()])
    const queued = pool.connect()
    const before = bytesByZone(lab, 'pg')
    const gone = removed(1)
    held.release()
    const next = await queued
    expect(next).not.toBe(held)
    await gone
    await next.query('SELECT 1')
    const after = bytesByZone(lab, 'pg')
    expect(after['us-west-2a']! - before['us-west-2a']!).toBeGreaterThan(0)
    next.release()
    for (const client of others) client.release()
  })
})
