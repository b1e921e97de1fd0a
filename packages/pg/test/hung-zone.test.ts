import type { Lab, RdsProxyFront } from '@privatelink/lab'
import { createPool } from '@privatelink/pg'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { postgresTarget, startProxyLab, zoneA } from './support.js'

// A zone whose proxy accepts TCP but never answers (a hung target): TCP health checks pass it,
// the pool's SSLRequest + TLS checks do not.
const target = postgresTarget()
let lab: Lab
let front: RdsProxyFront
const now = Date.now()

beforeAll(async () => {
  ;({ lab, front } = await startProxyLab({ clock: () => now }))
})
afterAll(() => lab?.close())
afterEach(async () => {
  for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).restore()
})

const pool = (healthCheck: Record<string, unknown> = {}) => {
  const created = createPool({
    endpoint: lab.endpoint,
    proxyHost: front.proxyHost,
    user: 'app_user',
    database: target.database,
    credentials: lab.aws.issueSession(3600),
    ssl: { ca: lab.ca.certificatePem },
    connectorOptions: { locality: zoneA, clock: () => now, healthCheck },
    max: 4,
  })
  created.on('error', () => {})
  return created
}

describe('the pool on ordinary days', () => {
  it('a zone whose proxy accepts TCP but never answers fails the SSLRequest health check and is ejected', async () => {
    const p = pool({ timeoutMs: 300 })
    const ejected: string[] = []
    try {
      await p.query('select 1')
      const connector = (await import('@privatelink/core')).createConnector // the pool's own connector is internal; watch through diagnostics instead
      expect(typeof connector).toBe('function')
      const { subscribe, unsubscribe } = await import('node:diagnostics_channel')
      const listener = (message: unknown) =>
        ejected.push(
          `${(message as { azName: string }).azName} ${(message as { signal: string }).signal}`,
        )
      subscribe('privatelink:connector:eject', listener)
      try {
        await lab.zone('us-west-2a').fail('hang')
        // The health check runs every 2 s (real time) while the pool holds a connection; it is
        // awaited through its eject event.
        await vi.waitFor(() => expect(ejected.length).toBeGreaterThan(0), {
          timeout: 15_000,
          interval: 100,
        })
      } finally {
        unsubscribe('privatelink:connector:eject', listener)
      }
      expect(ejected).toContain('us-west-2a probe-failed')
    } finally {
      await p.end()
    }
  })
})
