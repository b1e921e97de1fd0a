import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { type Lab, type RdsProxyFront, rdsProxyFront, startLab } from '@privatelink/lab'
import { createPool } from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { postgresTarget } from './support.js'

// The seed's central scenario across two regions: a primary RDS Proxy in us-west-2 and a
// secondary in us-east-1, each behind its own endpoint, both in front of the test PostgreSQL.
const target = postgresTarget()
const upstream = {
  host: target.host,
  port: target.port,
  user: target.user,
  database: target.database,
  ...(target.password === '' ? {} : { password: target.password }),
}
let primary: { lab: Lab; front: RdsProxyFront }
let secondary: { lab: Lab; front: RdsProxyFront }
let now = Date.now()

const region = async (name: string) => {
  const front = rdsProxyFront({ upstream })
  const lab = await startLab({
    region: name,
    clock: () => now,
    fronts: [front],
    services: [{ name: 'postgres', port: 5432, target: { front: 'rds-proxy' } }],
  })
  return { lab, front }
}

beforeAll(async () => {
  ;[primary, secondary] = await Promise.all([region('us-west-2'), region('us-east-1')])
})
afterAll(async () => {
  await Promise.all([primary?.lab.close(), secondary?.lab.close()])
})

// Connections that passed IAM auth at each proxy (health checks open TCP only, never count).
const proxies = () => ({
  primary: primary.front.stats().authenticated,
  secondary: secondary.front.stats().authenticated,
})

const options = () => ({
  endpoint: primary.lab.endpoint,
  proxyHost: primary.front.proxyHost,
  credentials: primary.lab.aws.issueSession(3600),
  failover: [
    {
      endpoint: secondary.lab.endpoint,
      proxyHost: secondary.front.proxyHost,
      credentials: secondary.lab.aws.issueSession(3600),
    },
  ],
  user: 'app_user',
  database: target.database,
  ssl: { ca: [primary.lab.ca.certificatePem, secondary.lab.ca.certificatePem] },
  connectorOptions: {
    locality: { source: 'options' as const, azId: 'usw2-az1' },
    clock: () => now,
    healthCheck: { timeoutMs: 500 },
  },
  max: 4,
})

describe('createPool with failover targets', () => {
  it('uses the primary region, own zone first, while it is healthy', async () => {
    const pool = createPool(options())
    try {
      const before = proxies()
      expect((await pool.query('select 1 as one')).rows).toEqual([{ one: 1 }])
      expect(proxies()).toEqual({ primary: before.primary + 1, secondary: before.secondary })
    } finally {
      await pool.end()
    }
  })

  it('a whole region blackholed: every query succeeds in the secondary with tokens for its proxy, and traffic returns after the primary passes health checks', async () => {
    // Health checks run on setInterval: advanced by hand at the end, to bring traffic back.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const pool = createPool(options())
    pool.on('error', () => {})
    try {
      for (const zone of primary.lab.endpoint.zones)
        await primary.lab.zone(zone.azName).fail('blackhole')
      const before = proxies()
      // New connections race the dead region's zones, then land in us-east-1 with a token signed
      // for the us-east-1 proxy (the emulator refuses any other host or region).
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, () => pool.query('select current_user as who')),
      )
      expect(outcomes.map((o) => o.status)).toEqual(Array(12).fill('fulfilled'))
      expect(proxies().primary).toBe(before.primary)
      expect(proxies().secondary).toBeGreaterThan(before.secondary)
      expect(secondary.front.stats().refused).toEqual({})

      for (const zone of primary.lab.endpoint.zones) await primary.lab.zone(zone.azName).restore()
      // The region is back: once its ejections ran out and a zone passed two health checks in a
      // row, traffic returns; idle connections in us-east-1 are retired.
      now += 120_000
      let back: unknown
      const listener = (message: unknown) => {
        back = message
      }
      subscribe('privatelink:connector:region-return', listener)
      try {
        // Each poll fires the health-check interval once; the checks themselves are real I/O.
        await vi.waitFor(
          () => {
            vi.advanceTimersByTime(2_000)
            expect(back).toBeDefined()
          },
          { timeout: 10_000, interval: 50 },
        )
      } finally {
        unsubscribe('privatelink:connector:region-return', listener)
      }
      expect(back).toMatchObject({ type: 'return', from: 'us-east-1', to: 'us-west-2' })
      const atReturn = proxies()
      await Promise.all(Array.from({ length: 8 }, () => pool.query('select 1')))
      expect(proxies().primary).toBeGreaterThan(atReturn.primary)
      expect(proxies().secondary).toBe(atReturn.secondary)
    } finally {
      vi.useRealTimers()
      await pool.end()
    }
  })
})
