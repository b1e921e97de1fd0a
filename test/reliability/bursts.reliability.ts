import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addCredentials, captureError } from './support/capture.js'
import { redisClient, startApp } from './support/clients.js'
import { API_HOST, type Stack, startStack } from './support/stack.js'
import { record } from './support/summary.js'

// Issue 15, bursts: new connections on a healthy endpoint stay in the own zone and eject nothing.
// Active health checks are OFF here (healthCheck.intervalMs 0), so every connection the lab's
// zones accepted is one the burst opened; nothing is subtracted.
const BURST = Number(process.env['RELIABILITY_BURST'] ?? 1_000)

let stack: Stack
beforeAll(async () => {
  stack = await startStack()
  addCredentials('lab long-term key', stack.lab.aws.credentials)
})
afterAll(async () => {
  await stack?.close()
})

const acceptedBy = (service: string) =>
  Object.fromEntries(
    stack.lab.endpoint.zones.map((zone) => [
      zone.azName,
      stack.lab.zone(zone.azName).stats()[service]!.accepted,
    ]),
  )
const delta = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).map(([zone, n]) => [zone, n - (before[zone] ?? 0)]))

describe('bursts on a healthy endpoint (health checks off)', () => {
  it(`${BURST} new HTTPS requests at once, 200 pg queries on a fresh pool of 50, 16 new Redis clients`, async ({
    task,
  }) => {
    const credentials = stack.lab.aws.issueSession(3600)
    addCredentials('STS session', credentials)
    const app = startApp(stack, {
      credentials,
      connectorOptions: { healthCheck: { intervalMs: 0 } },
      poolMax: 50,
    })
    const extraRedis: NonNullable<typeof app.redis>[] = []
    const before = {
      api: acceptedBy('api'),
      postgres: acceptedBy('postgres'),
      redis: stack.cache ? acceptedBy('redis') : {},
    }
    const failures: string[] = []
    let firstAttempts: string | undefined
    const fail = (kind: string) => (error: unknown) => {
      captureError(error)
      const attempts = (error as { details?: { attempts?: unknown } }).details?.attempts
      if (attempts !== undefined) firstAttempts ??= `${kind}: ${JSON.stringify(attempts)}`
      failures.push(`${kind} ${(error as { code?: string }).code ?? (error as Error).message}`)
    }
    let ok = 0
    try {
      const started = performance.now()
      const http = Array.from({ length: BURST }, async (_, i) => {
        const response = await request(`https://${API_HOST}/burst/${i}`, { dispatcher: app.http })
        await response.body.dump()
        if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`)
        ok++
      })
      const pg = Array.from({ length: 200 }, async (_, i) => {
        await app.pool.query('SELECT $1::int AS n', [i])
        ok++
      })
      const redis =
        stack.cache === undefined
          ? []
          : Array.from({ length: 16 }, async (_, i) => {
              const client =
                i === 0
                  ? app.redis!
                  : redisClient(stack, {
                      credentials,
                      redis: { connectorOptions: { healthCheck: { intervalMs: 0 } } },
                    })
              if (i > 0) extraRedis.push(client)
              await client.set(`privatelink:reliability:burst:${i}`, String(i))
              ok++
            })
      await Promise.all([
        ...http.map((p) => p.catch(fail('http'))),
        ...pg.map((p) => p.catch(fail('pg'))),
        ...redis.map((p) => p.catch(fail('redis'))),
      ])
      const seconds = (performance.now() - started) / 1000
      const opened = {
        api: delta(before.api, acceptedBy('api')),
        postgres: delta(before.postgres, acceptedBy('postgres')),
        redis: stack.cache ? delta(before.redis, acceptedBy('redis')) : {},
      }
      const elsewhere = Object.values(opened).flatMap((byZone) =>
        Object.entries(byZone)
          .filter(([zone, n]) => zone !== 'us-west-2a' && n > 0)
          .map(([zone, n]) => `${n} in ${zone}`),
      )
      const ejections = app.events.filter((e) => e.type === 'eject')
      record(task, {
        scenario: `burst: ${BURST} HTTPS + 200 pg + 16 Redis clients, health checks off`,
        load: ok,
        faults: 0,
        badInputs: 0,
        failures: failures.length + elsewhere.length + ejections.length,
        secrets: 0,
        notes: `${seconds.toFixed(1)}s; connections opened a/b/c: https ${Object.values(opened.api).join('/')}, pg ${Object.values(opened.postgres).join('/')}, redis ${Object.values(opened.redis).join('/') || '-'}; ${ejections.length} ejections; nothing subtracted (no health checks)${firstAttempts === undefined ? '' : `; first failure's attempts ${firstAttempts.slice(0, 300)}`}`,
      })
      expect(failures).toEqual([])
      expect(ejections).toEqual([])
      expect(elsewhere).toEqual([])
      expect(opened.api['us-west-2a']).toBeGreaterThan(0)
      expect(opened.api['us-west-2a']).toBeLessThanOrEqual(BURST)
      expect(opened.postgres['us-west-2a']).toBeLessThanOrEqual(50)
    } finally {
      app.inspectAll()
      for (const client of extraRedis) client.disconnect()
      await app.close()
    }
  })
})
