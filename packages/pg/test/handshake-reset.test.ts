import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Lab, RdsProxyFront } from '@privatelink/lab'
import { createPool } from '@privatelink/pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { postgresTarget, startProxyLab, zoneA } from './support.js'

// A zone that accepts TCP and then fails the SSLRequest / TLS handshake (an NLB target going away,
// a proxy restarting, a hung path): the connector's TCP race was already won when it fails.
const target = postgresTarget()
let lab: Lab
let front: RdsProxyFront

beforeAll(async () => {
  ;({ lab, front } = await startProxyLab())
})
afterAll(() => lab?.close())
afterEach(async () => {
  for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).restore()
})

// Default deadlines (handshakeTimeoutMs 10 s): a hung zone must cost a new connection the hedge
// delay, not the handshake deadline. Health checks off: only new connections can eject the zone.
const pool = () =>
  createPool({
    endpoint: lab.endpoint,
    proxyHost: front.proxyHost,
    user: 'app_user',
    database: target.database,
    credentials: lab.aws.issueSession(3600),
    ssl: { ca: lab.ca.certificatePem },
    connectorOptions: { locality: zoneA, healthCheck: { intervalMs: 0 } },
    max: 2,
  })

const accepted = (zone: string) => lab.zone(zone).stats()['postgres']!.accepted

describe('a zone that fails connections during the handshake', () => {
  it('new connections are hedged into the next zone with default options: none fails, and a few connects eject the hung zone', async () => {
    // 'hang': TCP is accepted, the SSLRequest is never answered.
    const p = pool()
    let connects = 0
    const ejections: string[] = []
    const onEject = (message: unknown) => {
      const { endpointId, azName, signal } = message as Record<string, string>
      if (endpointId === lab.endpoint.id) ejections.push(`${azName} ${signal} after ${connects}`)
    }
    subscribe('privatelink:connector:eject', onEject)
    try {
      await lab.zone('us-west-2a').fail('hang')
      const before = accepted('us-west-2a')
      const failures: string[] = []
      for (let i = 0; i < 10; i++) {
        connects++
        try {
          const client = await p.connect()
          const { rows } = await client.query<{ n: number }>('SELECT $1::int AS n', [i])
          expect(rows[0]!.n).toBe(i)
          client.release(true) // destroyed: the next checkout opens a new connection
        } catch (error) {
          failures.push(String((error as { code?: string }).code ?? error))
        }
      }
      expect(failures).toEqual([])
      // The hung zone was really dialled, and each connect that reached it was hedged and
      // reported slow: the third ejects it (ejection.consecutiveFailures), not a health check.
      expect(accepted('us-west-2a')).toBeGreaterThan(before)
      expect(ejections[0]).toBe('us-west-2a connect-slow after 3')
    } finally {
      unsubscribe('privatelink:connector:eject', onEject)
      await p.end()
    }
  })

  it('every zone resetting: a typed error naming the handshake, not a bare ECONNRESET', async () => {
    const p = pool()
    try {
      for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).fail('reset')
      const error = (await p.query('SELECT 1').catch((e: unknown) => e)) as {
        code?: string
        hint?: string
        details?: Record<string, unknown>
      }
      expect(error.code).toMatch(/^ERR_/)
      expect(['ERR_TLS_HANDSHAKE', 'ERR_ENDPOINT_UNREACHABLE']).toContain(error.code)
      expect(error.hint).toEqual(expect.any(String))
    } finally {
      await p.end()
    }
  })
})
