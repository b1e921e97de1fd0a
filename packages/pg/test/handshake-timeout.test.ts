import type { Lab, RdsProxyFront } from '@privatelink/lab'
import { createPool } from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresTarget, startProxyLab, zoneA } from './support.js'

// Every zone accepts TCP and never answers the SSLRequest: the error must say that TCP connected
// and the handshake timed out, not ETIMEDOUT with a security-group checklist (issue 25, item 3).
const target = postgresTarget()
let lab: Lab
let front: RdsProxyFront

beforeAll(async () => {
  ;({ lab, front } = await startProxyLab())
})
afterAll(() => lab?.close())

describe('a proxy that never completes the handshake in any zone', () => {
  it('fails with ERR_TLS_HANDSHAKE_TIMEOUT naming the endpoint and each zone, with a hint that TCP connected', async () => {
    for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).fail('hang')
    const pool = createPool({
      endpoint: lab.endpoint,
      proxyHost: front.proxyHost,
      user: 'app_user',
      database: target.database,
      credentials: lab.aws.issueSession(3600),
      ssl: { ca: lab.ca.certificatePem },
      // A short deadline keeps the test quick; the code under test does not depend on its length.
      handshakeTimeoutMs: 500,
      connectorOptions: { locality: zoneA, healthCheck: { intervalMs: 0 } },
      max: 1,
    })
    pool.on('error', () => {})
    try {
      const error = await pool.query('select 1').then(
        () => undefined,
        (caught: unknown) => caught,
      )
      expect(error).toMatchObject({ code: 'ERR_TLS_HANDSHAKE_TIMEOUT' })
      const { message, hint } = error as { message: string; hint: string }
      expect(message).toContain(lab.endpoint.id)
      for (const zone of lab.endpoint.zones) expect(message).toContain(zone.azName)
      expect(hint).toMatch(/TCP connected/)
      expect(hint).not.toMatch(/security group/i)
    } finally {
      await pool.end()
      for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).restore()
    }
  })
})
