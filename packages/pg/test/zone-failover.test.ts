import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { EventEmitter, once } from 'node:events'
import type { Lab, RdsProxyFront } from '@privatelink/lab'
import { createPool } from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bytesByZone, postgresTarget, startProxyLab, zoneA } from './support.js'

const target = postgresTarget()
let lab: Lab
let front: RdsProxyFront

beforeAll(async () => {
  ;({ lab, front } = await startProxyLab())
})
afterAll(() => lab?.close())

interface Outcome {
  started: number
  ok: boolean
  code?: string
}

describe('own zone blackholed during a query loop', () => {
  it('new connections go elsewhere, queries on dying connections get a typed error, none started after the fault fails', async () => {
    const pool = createPool({
      endpoint: lab.endpoint,
      proxyHost: front.proxyHost,
      user: 'app_user',
      database: target.database,
      credentials: lab.aws.issueSession(3600),
      ssl: { ca: lab.ca.certificatePem },
      connectorOptions: { locality: zoneA },
      max: 8,
    })
    const events = new EventEmitter()
    const retired: unknown[] = []
    const onRetired = (message: unknown) => {
      retired.push(message)
      events.emit('retired')
    }
    subscribe('privatelink:pg:zone-retired', onRetired)
    const outcomes: Outcome[] = []
    let stop = false
    let completedAfterRetire = 0
    const workers = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const outcome: Outcome = { started: performance.now(), ok: true }
        try {
          await pool.query('SELECT 1')
        } catch (error) {
          outcome.ok = false
          outcome.code = (error as { code?: string }).code ?? String(error)
        }
        outcomes.push(outcome)
        if (outcomes.length === 200) events.emit('warm')
        if (retired.length > 0 && outcome.ok && ++completedAfterRetire === 400)
          events.emit('enough')
      }
    })
    try {
      while (outcomes.length < 200)
        await once(events, 'tick', { signal: AbortSignal.timeout(50) }).catch(() => {})
      const before = bytesByZone(lab, 'postgres')
      await lab.zone('us-west-2a').fail('blackhole')
      const faultAt = performance.now()
      await once(events, 'retired')
      const retiredAt = performance.now()
      await once(events, 'enough')
      stop = true
      await Promise.all(workers)
      const after = bytesByZone(lab, 'postgres')
      const failed = outcomes.filter((o) => !o.ok)
      if (process.env['PRIVATELINK_PRINT'] === '1')
        console.log({
          failed: failed.length,
          retiredAfterMs: Math.round(retiredAt - faultAt),
          total: outcomes.length,
        })
      const startedAfter = outcomes.filter((o) => o.started > faultAt)
      expect(startedAfter.length).toBeGreaterThanOrEqual(400)
      expect(startedAfter.filter((o) => !o.ok)).toEqual([])
      // Only queries in flight on the frozen connections failed, each with the typed error.
      expect(failed.length).toBeLessThanOrEqual(8)
      for (const o of failed) expect(o.code).toBe('ERR_PG_CONNECTION_LOST')
      expect(retired[0]).toMatchObject({ zone: 'usw2-az1' })
      const moved =
        after['us-west-2b']! -
        before['us-west-2b']! +
        (after['us-west-2c']! - before['us-west-2c']!)
      expect(moved).toBeGreaterThan(0)
      expect(pool.totalCount).toBeLessThanOrEqual(8)
    } finally {
      stop = true
      unsubscribe('privatelink:pg:zone-retired', onRetired)
      await lab.zone('us-west-2a').restore()
      await pool.end()
    }
  }, 40_000)
})
