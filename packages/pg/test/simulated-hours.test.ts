import { type Lab, type RdsProxyFront, rdsProxyFront, startLab } from '@privatelink/lab'
import { type AwsCredentials, createIamTokenProvider, createPool } from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { postgresTarget, zoneA } from './support.js'

const MINUTE = 60_000
const target = postgresTarget()
let lab: Lab
let front: RdsProxyFront

// Simulated time moves Date only: rds-signer's X-Amz-Date, the lab's clock (Date.now) and the
// provider's clock agree; sockets and timers stay real.
beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(Date.now())
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
afterAll(async () => {
  await lab?.close()
  vi.useRealTimers()
})

describe('two simulated hours through the RDS Proxy emulator', () => {
  it('every new connection authenticates with a valid token; steady state never waits on signing', async () => {
    const start = Date.now()
    let sessions = 0
    let current: AwsCredentials | undefined
    // One-hour STS sessions from the lab, renewed 5 minutes before they lapse (as the SDK does).
    const credentials = async () => {
      if (current === undefined || current.expiration!.getTime() - Date.now() < 5 * MINUTE) {
        sessions++
        current = lab.aws.issueSession(3600)
      }
      return current
    }
    const tokens = createIamTokenProvider({
      hostname: front.proxyHost,
      username: 'app_user',
      region: lab.region,
      credentials,
    })
    const pool = createPool({
      endpoint: lab.endpoint,
      proxyHost: front.proxyHost,
      user: 'app_user',
      database: target.database,
      region: lab.region,
      tokenProvider: tokens,
      ssl: { ca: lab.ca.certificatePem },
      connectorOptions: { locality: zoneA },
      max: 2,
    })
    let connections = 0
    for (let t = 0; t <= 120 * MINUTE; t += 100_000) {
      vi.setSystemTime(start + t)
      const client = await pool.connect()
      const { rows } = await client.query<{ one: number }>('SELECT 1 AS one')
      expect(rows[0]!.one).toBe(1)
      client.release(true) // destroy it: the next checkout is a new connection with a new password call
      connections++
    }
    await pool.end()
    const stats = tokens.stats()
    expect(connections).toBe(73)
    expect(front.stats().authenticated).toBe(connections)
    expect(front.stats().refused).toEqual({})
    expect(stats.waited).toBe(1)
    expect(stats.signed).toBeGreaterThanOrEqual(16)
    expect(stats.signed).toBeLessThanOrEqual(22)
    expect(sessions).toBeGreaterThanOrEqual(2)
  }, 60_000)
})
