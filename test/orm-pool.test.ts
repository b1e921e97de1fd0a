import type { Lab, RdsProxyFront } from '@privatelink/lab'
import { createPool, type PrivateLinkPool } from '@privatelink/pg'
import { sql as drizzleSql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { Kysely, PostgresDialect, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bytesByZone, postgresTarget, startProxyLab, zoneA } from '../packages/pg/test/support.js'

// Issue 35: query builders that take a pg.Pool (Kysely, Drizzle) take createPool's as it is.
// Each runs the README's snippet against the lab's RDS Proxy emulator with IAM.
const target = postgresTarget()
let lab: Lab
let front: RdsProxyFront

beforeAll(async () => {
  ;({ lab, front } = await startProxyLab())
})
afterAll(() => lab?.close())

const poolForLab = (): PrivateLinkPool =>
  createPool({
    endpoint: lab.endpoint,
    proxyHost: front.proxyHost,
    user: 'app_user',
    database: target.database,
    credentials: lab.aws.issueSession(3600),
    ssl: { ca: lab.ca.certificatePem },
    connectorOptions: { locality: zoneA },
    max: 4,
  })

/** Bytes `work` sent through the own zone and the others. */
async function zonesOf(work: () => Promise<void>) {
  const before = bytesByZone(lab, 'postgres')
  await work()
  const after = bytesByZone(lab, 'postgres')
  const sent = (zone: string) => after[zone]! - before[zone]!
  return { own: sent('us-west-2a'), others: sent('us-west-2b') + sent('us-west-2c') }
}

describe('query builders over createPool', () => {
  it('Kysely: PostgresDialect({ pool })', async () => {
    const pool = poolForLab()
    // readme:kysely
    const db = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool }) })
    // end
    const zones = await zonesOf(async () => {
      const { rows } = await sql<{ n: number }>`SELECT ${7}::int AS n`.execute(db)
      expect(rows).toEqual([{ n: 7 }])
    })
    await db.destroy() // ends the pool
    expect(zones.own).toBeGreaterThan(0)
    expect(zones.others).toBe(0)
    expect(pool.ended).toBe(true)
  })

  it('Drizzle: drizzle({ client: pool })', async () => {
    const pool = poolForLab()
    // readme:drizzle
    const db = drizzle({ client: pool })
    // end
    const zones = await zonesOf(async () => {
      const result = await db.execute<{ n: number }>(drizzleSql`SELECT ${7}::int AS n`)
      expect(result.rows).toEqual([{ n: 7 }])
    })
    await pool.end()
    expect(zones.own).toBeGreaterThan(0)
    expect(zones.others).toBe(0)
  })
})
