import { createConnector } from '@privatelink/core'
import type { Lab } from '@privatelink/lab'
import { createPool } from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresTarget, startPlainLab, zoneA } from './support.js'

const target = postgresTarget()
let lab: Lab
beforeAll(async () => {
  lab = await startPlainLab()
})
afterAll(() => lab?.close())

const options = () => ({
  endpoint: lab.endpoint,
  proxyHost: 'test-db.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com',
  user: target.user,
  database: target.database,
  auth: { password: target.password },
  ssl: { insecure: 'plaintext' as const },
  connectorOptions: { locality: zoneA },
})

describe('connections that die', () => {
  it('a reset during a query fails it with ERR_PG_CONNECTION_LOST and counts against the zone', async () => {
    const connector = createConnector({ endpoint: lab.endpoint, port: 5432, locality: zoneA })
    const pool = createPool({
      ...options(),
      endpoint: undefined,
      connectorOptions: undefined,
      connector,
    })
    await pool.query('SELECT 1')
    const failures = () => connector.zones().find((z) => z.azId === 'usw2-az1')!.failures
    expect(failures()).toBe(0)
    try {
      const running = pool.query('SELECT pg_sleep(5)').catch((error: unknown) => error)
      // The query is on the wire once the zone's relay has seen its bytes.
      const stats = () => lab.zone('us-west-2a').stats()['pg']!.bytesIn
      const sent = stats()
      while (stats() === sent) await new Promise((resolve) => setImmediate(resolve))
      await lab.zone('us-west-2a').fail('reset')
      const error = (await running) as { code?: string; details?: Record<string, unknown> }
      expect(error.code).toBe('ERR_PG_CONNECTION_LOST')
      expect(error.details?.['zone']).toBe('usw2-az1')
      expect(failures()).toBe(1) // lost-in-flight counts; an idle close would not
      await lab.zone('us-west-2a').restore()
      expect(pool.totalCount).toBe(0)
      const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one')
      expect(rows[0]!.one).toBe(1)
    } finally {
      await lab.zone('us-west-2a').restore()
      await pool.end()
      connector.close()
    }
  })

  it('the server closing an idle connection is benign: the pool drops it, throws nothing, and reconnects', async () => {
    const pool = createPool(options())
    await pool.query('SELECT 1')
    expect(pool.idleCount).toBe(1)
    const errors: { code?: string }[] = []
    pool.on('error', (error) => errors.push(error as { code?: string }))
    await lab.zone('us-west-2a').fail('idle-close', { ms: 50 })
    try {
      // (events.once would reject on the pool's 'error' event, which is what we assert below.)
      await new Promise((resolve) => pool.once('remove', resolve))
      expect(errors.map((e) => e.code)).toEqual(['ERR_PG_IDLE_CLOSED'])
      expect(pool.totalCount).toBe(0)
    } finally {
      await lab.zone('us-west-2a').restore()
    }
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one')
    expect(rows[0]!.one).toBe(1)
    await pool.end()
  })

  it('no zone accepting connections surfaces as ERR_ENDPOINT_UNREACHABLE with every attempt', async () => {
    const zones = ['us-west-2a', 'us-west-2b', 'us-west-2c']
    await Promise.all(zones.map((zone) => lab.zone(zone).fail('refuse')))
    const pool = createPool(options())
    try {
      const error = (await pool.query('SELECT 1').catch((e: unknown) => e)) as {
        code?: string
        hint?: string
        details?: { attempts?: { azName: string }[] }
      }
      expect(error.code).toBe('ERR_ENDPOINT_UNREACHABLE')
      expect(error.hint).toMatch(/security group/)
      expect(error.details?.attempts?.map((a) => a.azName).sort()).toEqual(zones)
    } finally {
      await Promise.all(zones.map((zone) => lab.zone(zone).restore()))
      await pool.end()
    }
  })
})
