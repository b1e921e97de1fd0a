import { inspect } from 'node:util'
import type { Lab, RdsProxyFront } from '@privatelink/lab'
import { createClient, createIamTokenProvider, createPool } from '@privatelink/pg'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bytesByZone, postgresTarget, startPlainLab, startProxyLab, zoneA } from './support.js'

const PROXY = 'test-db.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com'

describe('createPool through the lab (plain PostgreSQL behind the endpoint)', () => {
  let lab: Lab
  const target = postgresTarget()
  beforeAll(async () => {
    lab = await startPlainLab()
  })
  afterAll(async () => {
    await lab?.close()
  })

  const options = () => ({
    endpoint: lab.endpoint,
    proxyHost: PROXY,
    user: target.user,
    database: target.database,
    auth: { password: target.password },
    ssl: { insecure: 'plaintext' as const },
    connectorOptions: { locality: zoneA },
  })

  it('runs queries from a pool of 8 through the own zone, and is a real pg.Pool', async () => {
    const before = bytesByZone(lab, 'pg')
    const pool = createPool({ ...options(), max: 8 })
    expect(pool).toBeInstanceOf(pg.Pool)
    let peak = 0
    const results = await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        const seen: number[] = []
        for (let i = 0; i < 25; i++) {
          const { rows } = await pool.query<{ n: number }>('SELECT $1::int AS n', [
            worker * 100 + i,
          ])
          seen.push(rows[0]!.n)
          peak = Math.max(peak, pool.totalCount)
        }
        return seen
      }),
    )
    expect(results.flat()).toHaveLength(200)
    expect(results[3]![24]).toBe(324)
    expect(peak).toBeLessThanOrEqual(8)
    expect(peak).toBeGreaterThan(1)
    const client = await pool.connect()
    const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db')
    expect(rows[0]!.db).toBe(target.database)
    client.release()
    await pool.end()
    const after = bytesByZone(lab, 'pg')
    expect(after['us-west-2a']! - before['us-west-2a']!).toBeGreaterThan(0)
    expect(after['us-west-2b']! - before['us-west-2b']!).toBe(0)
    expect(after['us-west-2c']! - before['us-west-2c']!).toBe(0)
  })

  it("its own 'error' listener swallows only housekeeping errors", async () => {
    const { PrivateLinkError } = await import('@privatelink/core')
    const pool = createPool(options())
    const benign = new PrivateLinkError('ERR_PG_ZONE_EJECTED', 'closed', { hint: '' })
    expect(() => pool.emit('error', benign)).not.toThrow()
    // Without a listener of yours, any other error throws, as with a plain pg.Pool.
    expect(() => pool.emit('error', new Error('boom'))).toThrow('boom')
    const seen: Error[] = []
    pool.on('error', (error) => seen.push(error))
    expect(() => pool.emit('error', new Error('boom'))).not.toThrow()
    expect(seen.map((e) => e.message)).toEqual(['boom'])
    await pool.end()
  })

  it('createClient connects once and queries', async () => {
    const client = createClient(options())
    expect(client).toBeInstanceOf(pg.Client)
    await client.connect()
    const { rows } = await client.query<{ one: number }>('SELECT 1 AS one')
    expect(rows[0]!.one).toBe(1)
    await client.end()
  })

  it('the lambda profile: max 1, idle timeout under the proxy, exit on idle', () => {
    const pool = createPool({ ...options(), profile: 'lambda' })
    expect(pool.options.max).toBe(1)
    expect(pool.options.idleTimeoutMillis).toBe(30_000)
    expect(pool.options.allowExitOnIdle).toBe(true)
    const custom = createPool({ ...options(), profile: 'lambda', max: 2 })
    expect(custom.options.max).toBe(2)
    return Promise.all([pool.end(), custom.end()])
  })
})

// The password must be one the server really asks for and checks, whatever the test PostgreSQL's
// own authentication is (trust here, scram in an embedded server): the lab's RDS Proxy asks every
// client for a password and accepts an IAM token for it, then logs in upstream with the test
// server's credentials (from the services helper). So the password sent is a distinctive secret.
describe('createPool with a password the server checks', () => {
  let lab: Lab
  let front: RdsProxyFront
  beforeAll(async () => {
    ;({ lab, front } = await startProxyLab())
  })
  afterAll(async () => {
    await lab?.close()
  })

  it('never shows the password in inspect output, even with connected clients', async () => {
    const secret = await createIamTokenProvider({
      hostname: front.proxyHost,
      username: 'app_user',
      region: lab.region,
      credentials: lab.aws.issueSession(3600),
    }).getToken()
    const signature = new URLSearchParams(secret.slice(secret.indexOf('?') + 1)).get(
      'X-Amz-Signature',
    )!
    const pool = createPool({
      endpoint: lab.endpoint,
      proxyHost: front.proxyHost,
      user: 'app_user',
      database: postgresTarget().database,
      auth: { password: secret },
      ssl: { ca: lab.ca.certificatePem },
      connectorOptions: { locality: zoneA },
    })
    const authenticated = front.stats().authenticated
    const client = await pool.connect()
    expect(front.stats().authenticated).toBe(authenticated + 1)
    const shown = [
      inspect(pool, { depth: 8, showHidden: false }),
      inspect(pool, { depth: 8, showHidden: true }),
      inspect(client, { depth: 8 }),
      inspect(client, { depth: 8, showHidden: true }),
      JSON.stringify(pool.options),
    ].join('\n')
    client.release()
    expect(shown).not.toContain(signature)
    // The token starts with the proxy's name (shown, rightly); its query part is the secret.
    expect(shown).not.toContain(secret.slice(secret.indexOf('?'), secret.indexOf('?') + 40))
    await pool.end()
  })
})
