import type { Lab, RdsProxyFront } from '@privatelink/lab'
import { createPool, type PrivateLinkPool } from '@privatelink/pg'
// The workspace's `knex` is 3.1 (the pg-module route); `knex33` is npm:knex@3.3.0, whose
// `connectionPool` takes a pg.Pool. The README's snippet imports it as `knex`.
import knex from 'knex33'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bytesByZone, postgresTarget, startProxyLab, zoneA } from '../packages/pg/test/support.js'

// The pg README's Knex 3.3 snippet against the lab's RDS Proxy emulator with IAM.
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

describe('Knex 3.3 over createPool', () => {
  it("knex({ client: 'pg', connectionPool: pool }) queries through the own zone", async () => {
    const pool = poolForLab()
    // readme:knex33
    const db = knex({ client: 'pg', connectionPool: pool })
    // end
    const before = bytesByZone(lab, 'postgres')
    const rows = await db.select(db.raw('?::int AS n', [7]))
    const raw = await db.raw('SELECT count(*)::int AS count FROM generate_series(1, 3)')
    const after = bytesByZone(lab, 'postgres')
    expect(rows).toEqual([{ n: 7 }])
    expect(raw.rows).toEqual([{ count: 3 }])
    expect(front.stats().authenticated).toBeGreaterThan(0) // IAM token checked by the emulator
    expect(after['us-west-2a']! - before['us-west-2a']!).toBeGreaterThan(0)
    expect(after['us-west-2b']! - before['us-west-2b']!).toBe(0)
    expect(after['us-west-2c']! - before['us-west-2c']!).toBe(0)
    // Knex leaves a pool it was given open: the pool's owner ends it.
    await db.destroy()
    expect(pool.ended).toBe(false)
    await pool.end()
    expect(pool.ended).toBe(true)
  })
})
