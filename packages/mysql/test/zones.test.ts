import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { type Connector, createConnector } from '@privatelink/core'
import type { Lab } from '@privatelink/lab'
import { createPool, createPromisePool } from '@privatelink/mysql'
import type { Pool, PoolConnection } from 'mysql2'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { MariadbHandle } from '../../../test/support/mariadb.js'
import { bytesByZone, mariadb, startPlainLab, zoneA } from './support.js'

// Core decides which zones a pool's connections leave; the pool only says how: idle ones through
// mysql2's pool at once, checked-out ones when released (or failed, typed, when their zone is out
// with a query waiting). The connector's clock is injected: readmission comes when the test
// moves time, not after a wait.
let db: MariadbHandle | undefined
let unavailable = ''
let lab: Lab
let now = 1_000_000
let connector: Connector | undefined
let pool: Pool | undefined
const retired: { zone: string | null; reason: string; out: boolean; idle: boolean }[] = []
const onRetired = (message: unknown) => retired.push(message as (typeof retired)[number])

beforeAll(async () => {
  const found = await mariadb()
  if ('unavailable' in found) {
    unavailable = found.unavailable
    return
  }
  db = found
  lab = await startPlainLab(db)
  subscribe('privatelink:mysql:zone-retired', onRetired)
})
afterAll(async () => {
  unsubscribe('privatelink:mysql:zone-retired', onRetired)
  await lab?.close()
  await db?.stop()
})
afterEach(async () => {
  await new Promise<void>((resolve) => (pool === undefined ? resolve() : pool.end(() => resolve())))
  pool = undefined
  connector?.close()
  connector = undefined
  retired.length = 0
  for (const zone of ['us-west-2a', 'us-west-2b', 'us-west-2c']) await lab.zone(zone).restore()
})

const plain = () => ({
  proxyHost: 'test-db.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com',
  user: db!.user,
  database: db!.database,
  auth: { password: db!.password },
  ssl: { insecure: 'plaintext' as const },
})

const start = () => {
  connector = createConnector({
    endpoint: lab.endpoint,
    port: 3306,
    locality: zoneA,
    clock: () => now,
    healthCheck: { intervalMs: 0 },
  })
  pool = createPool({ ...plain(), connector, connectionLimit: 4 })
}

const checkout = () =>
  new Promise<PoolConnection>((resolve, reject) =>
    pool!.getConnection((error, connection) => (error ? reject(error) : resolve(connection))),
  )

const eject = (zone: string) => {
  while (!connector!.zones().find((z) => z.zone === zone)!.ejected)
    connector!.report(zone, 'connect-failed', 'ECONNREFUSED')
}

/** Connections open now through the zone's relay. */
const activeIn = (zone: string) => lab.zone(zone).stats()['mysql']!.active

/** Resolves once the zone's relay has `count` connections open. */
async function settle(zone: string, count: number): Promise<void> {
  for (let turn = 0; turn < 500 && activeIn(zone) !== count; turn++)
    await new Promise((resolve) => setImmediate(resolve))
  expect(activeIn(zone)).toBe(count)
}

describe('zones', (it_ = it) => {
  it_('own zone first; a refusing own zone fails over to another zone', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const promise = createPromisePool({
      ...plain(),
      endpoint: lab.endpoint,
      connectorOptions: { locality: zoneA },
    })
    const before = bytesByZone(lab, 'mysql')
    await promise.query('SELECT 1')
    await promise.end()
    await settle('us-west-2a', 0)
    await lab.zone('us-west-2a').fail('refuse')
    const healthy = bytesByZone(lab, 'mysql')
    expect(healthy['us-west-2a']! - before['us-west-2a']!).toBeGreaterThan(0)
    const failover = createPromisePool({
      ...plain(),
      endpoint: lab.endpoint,
      connectorOptions: { locality: zoneA },
    })
    const [rows] = await failover.query('SELECT 2 AS two')
    expect(rows).toEqual([{ two: 2 }])
    const after = bytesByZone(lab, 'mysql')
    expect(after['us-west-2a']).toBe(healthy['us-west-2a'])
    expect(
      after['us-west-2b']! + after['us-west-2c']! - healthy['us-west-2b']! - healthy['us-west-2c']!,
    ).toBeGreaterThan(0)
    await failover.end()
  })

  it_(
    'a zone that accepts TCP and never greets is left for another zone (the greeting is the upgrade step)',
    async (context) => {
      if (db === undefined) return context.skip(unavailable)
      await lab.zone('us-west-2a').fail('hang')
      const before = bytesByZone(lab, 'mysql')
      const hung = createPromisePool({
        ...plain(),
        endpoint: lab.endpoint,
        connectorOptions: { locality: zoneA },
      })
      try {
        const [rows] = await hung.query('SELECT 4 AS four')
        expect(rows).toEqual([{ four: 4 }])
      } finally {
        await hung.end()
      }
      const after = bytesByZone(lab, 'mysql')
      expect(
        after['us-west-2b']! + after['us-west-2c']! - before['us-west-2b']! - before['us-west-2c']!,
      ).toBeGreaterThan(0)
    },
  )

  it_(
    'ejected zone: idle pooled connections are closed through the pool; a checked-out one leaves when released',
    async (context) => {
      if (db === undefined) return context.skip(unavailable)
      start()
      const [first, second, held] = await Promise.all([checkout(), checkout(), checkout()])
      first.release()
      second.release()
      await settle('us-west-2a', 3)
      eject('usw2-az1')
      expect(retired.filter((r) => r.idle)).toHaveLength(2)
      expect(retired.filter((r) => !r.idle)).toHaveLength(1)
      expect(retired[0]).toMatchObject({ zone: 'usw2-az1', reason: 'eject', out: true })
      await settle('us-west-2a', 1)
      // The held connection keeps working until it is released, then leaves the pool and the zone.
      const rows = await new Promise((resolve, reject) =>
        held.query('SELECT 3 AS three', (error, result) =>
          error ? reject(error) : resolve(result),
        ),
      )
      expect(rows).toEqual([{ three: 3 }])
      held.release()
      await settle('us-west-2a', 0)
      // New connections go to a healthy zone.
      const before = bytesByZone(lab, 'mysql')
      await pool!.promise().query('SELECT 1')
      const after = bytesByZone(lab, 'mysql')
      expect(after['us-west-2a']).toBe(before['us-west-2a'])
    },
  )

  it_(
    'a query waiting in a zone that goes out fails with ERR_MYSQL_CONNECTION_LOST',
    async (context) => {
      if (db === undefined) return context.skip(unavailable)
      start()
      const held = await checkout()
      const waiting = new Promise<unknown>((resolve) =>
        held.query('SELECT SLEEP(20)', (error) => resolve(error)),
      )
      // The query is written before the zone is ejected.
      for (let turn = 0; turn < 100; turn++) await new Promise((resolve) => setImmediate(resolve))
      eject('usw2-az1')
      const error = (await waiting) as { code?: string; details?: Record<string, unknown> }
      expect(error.code).toBe('ERR_MYSQL_CONNECTION_LOST')
      expect(error.details?.['zone']).toBe('usw2-az1')
      held.destroy()
    },
  )

  it_('readmitted own zone: idle connections in other zones leave', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    start()
    eject('usw2-az1')
    const base = activeIn('us-west-2b') + activeIn('us-west-2c')
    const [one, two] = await Promise.all([checkout(), checkout()])
    one.release()
    two.release()
    const elsewhere = () => activeIn('us-west-2b') + activeIn('us-west-2c') - base
    for (let turn = 0; turn < 500 && elsewhere() !== 2; turn++)
      await new Promise((resolve) => setImmediate(resolve))
    expect(elsewhere()).toBe(2)
    now += 3_600_000
    connector!.preferredZones() // routing notices the ejection has run out: readmit
    expect(retired.at(-1)).toMatchObject({ zone: 'usw2-az1', reason: 'readmit', idle: true })
    for (let turn = 0; turn < 500 && elsewhere() !== 0; turn++)
      await new Promise((resolve) => setImmediate(resolve))
    expect(elsewhere()).toBe(0)
  })
})
