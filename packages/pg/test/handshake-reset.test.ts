import { type Lab, type RdsProxyFront, rdsProxyFront, startLab } from '@privatelink/lab'
import { createPool } from '@privatelink/pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { postgresTarget, zoneA } from './support.js'

// A zone that accepts TCP and then fails the SSLRequest / TLS handshake (an NLB target going away,
// a proxy restarting, a hung path): the connector's TCP race was already won when it fails.
const target = postgresTarget()
let lab: Lab
let front: RdsProxyFront

beforeAll(async () => {
  front = rdsProxyFront({
    upstream: {
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      ...(target.password === '' ? {} : { password: target.password }),
    },
  })
  lab = await startLab({
    fronts: [front],
    services: [{ name: 'postgres', port: 5432, target: { front: 'rds-proxy' } }],
  })
})
afterAll(() => lab?.close())
afterEach(async () => {
  for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).restore()
})

const pool = (extra: { handshakeTimeoutMs?: number } = {}) =>
  createPool({
    ...extra,
    endpoint: lab.endpoint,
    proxyHost: front.proxyHost,
    user: 'app_user',
    database: target.database,
    credentials: lab.aws.issueSession(3600),
    ssl: { ca: lab.ca.certificatePem },
    connector: { locality: zoneA, healthCheck: { intervalMs: 0 } },
    max: 2,
  })

const accepted = (zone: string) => lab.zone(zone).stats()['postgres']!.accepted

describe('a zone that fails connections during the handshake', () => {
  it('new connections move to the next zone: none fails', async () => {
    // 'hang': TCP is accepted, the SSLRequest is never answered. The handshake deadline is short
    // only so the test is quick: what is tested is that the same connect moves on.
    const p = pool({ handshakeTimeoutMs: 300 })
    try {
      await lab.zone('us-west-2a').fail('hang')
      const before = accepted('us-west-2a')
      const failures: string[] = []
      for (let i = 0; i < 10; i++) {
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
      // The hung zone was really dialled (and then avoided once zone health ejected it).
      expect(accepted('us-west-2a')).toBeGreaterThan(before)
    } finally {
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
