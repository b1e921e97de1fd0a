import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { inspect } from 'node:util'
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import type { PrivateLinkError } from '@privatelink/core'
import {
  createTestCa,
  type Lab,
  type RdsProxyFront,
  rdsProxyFront,
  startLab,
} from '@privatelink/lab'
import {
  createClient,
  createIamTokenProvider,
  createPool,
  type IamTokenProvider,
} from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bytesByZone, postgresTarget, zoneA } from './support.js'

// rds-signer signs with the real clock, so the lab clock is the real one plus an offset.
let offsetMs = 0
const clock = () => Date.now() + offsetMs
const target = postgresTarget()
let lab: Lab
let front: RdsProxyFront
let restricted: RdsProxyFront

beforeAll(async () => {
  const upstream = {
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
    ...(target.password === '' ? {} : { password: target.password }),
  }
  front = rdsProxyFront({ upstream })
  restricted = rdsProxyFront({ name: 'restricted', port: 5433, users: ['reader'], upstream })
  lab = await startLab({
    clock,
    fronts: [front, restricted],
    services: [
      { name: 'postgres', port: 5432, target: { front: 'rds-proxy' } },
      { name: 'restricted', port: 5433, target: { front: 'restricted' } },
    ],
  })
})
afterAll(() => lab?.close())

/** The cross-account role, assumed through the lab's STS with its ExternalId. */
const crossAccount = () =>
  fromTemporaryCredentials({
    params: {
      RoleArn: lab.aws.roles[0]!.arn,
      RoleSessionName: 'privatelink-pg-test',
      ExternalId: 'privatelink-lab',
    },
    clientConfig: {
      endpoint: lab.aws.endpoint,
      region: lab.region,
      credentials: lab.aws.credentials,
    },
  })

const base = () => ({
  endpoint: lab.endpoint,
  proxyHost: front.proxyHost,
  user: 'app_user',
  database: target.database,
  region: lab.region,
  credentials: crossAccount(),
  ssl: { ca: lab.ca.certificatePem },
  connectorOptions: { locality: zoneA },
  clock,
})

async function refusal(options: Parameters<typeof createPool>[0]): Promise<PrivateLinkError> {
  const pool = createPool(options)
  try {
    await pool.query('SELECT 1')
  } catch (error) {
    return error as PrivateLinkError
  } finally {
    await pool.end()
  }
  throw new Error('expected the connection to be refused')
}

/** A provider that claims to sign for `claims` but signs for `signs` (a misconfigured share). */
function lying(claims: IamTokenProvider, signs: IamTokenProvider): IamTokenProvider {
  return { ...signs, hostname: claims.hostname, port: claims.port, username: claims.username }
}

describe('createPool -> lab ENIs -> RDS Proxy emulator -> PostgreSQL', () => {
  it('runs queries from a pool of 8 with IAM tokens of a cross-account role and verify-full TLS', async () => {
    const before = bytesByZone(lab, 'postgres')
    const authenticatedBefore = front.stats().authenticated
    // No periodic health checks: a round (every 1.6-2 s) sends an SSLRequest to every zone, and
    // this test counts the bytes queries send per zone.
    const pool = createPool({
      ...base(),
      connectorOptions: { locality: zoneA, healthCheck: { intervalMs: 0 } },
      max: 8,
    })
    const rows = await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        const out: number[] = []
        for (let i = 0; i < 20; i++) {
          const result = await pool.query<{ n: number }>('SELECT $1::int AS n', [worker * 1000 + i])
          out.push(result.rows[0]!.n)
        }
        return out
      }),
    )
    expect(rows.flat()).toHaveLength(160)
    expect(rows[7]![19]).toBe(7019)
    const opened = front.stats().authenticated - authenticatedBefore
    expect(opened).toBeGreaterThan(1)
    expect(opened).toBeLessThanOrEqual(8)
    const connected = front.events().filter((e) => e.type === 'connected')
    expect(connected.at(-1)?.principal).toMatch(/^arn:aws:sts::222222222222:assumed-role\//)
    expect(connected.at(-1)?.user).toBe('app_user')
    const after = bytesByZone(lab, 'postgres')
    expect(after['us-west-2a']! - before['us-west-2a']!).toBeGreaterThan(0)
    expect(after['us-west-2b']! - before['us-west-2b']!).toBe(0)
    // Nothing that reaches a log shows the token.
    const client = await pool.connect()
    client.release()
    const shown = inspect(pool, { depth: 10 }) + inspect(client, { depth: 10, showHidden: true })
    expect(shown).not.toMatch(/X-Amz-Signature/)
    await pool.end()
  })

  it('createClient authenticates with a token too', async () => {
    const client = createClient(base())
    await client.connect()
    const { rows } = await client.query<{ user: string }>('SELECT 1 AS one, current_user AS user')
    expect(rows[0]!.user).toBe(target.user) // the proxy logs in upstream with its own user
    expect(inspect(client, { depth: 10, showHidden: true })).not.toMatch(/X-Amz-Signature/)
    await client.end()
  })

  it('a token for the wrong host surfaces as ERR_PG_TOKEN_WRONG_HOST, after one retry', async () => {
    const right = createIamTokenProvider({
      hostname: front.proxyHost,
      username: 'app_user',
      region: lab.region,
      credentials: crossAccount(),
    })
    const wrong = createIamTokenProvider({
      hostname: 'other-db.proxy-zzzzzzzzzzzz.us-west-2.rds.amazonaws.com',
      username: 'app_user',
      region: lab.region,
      credentials: crossAccount(),
    })
    const retries: unknown[] = []
    const onRetry = (message: unknown) => retries.push(message)
    subscribe('privatelink:pg:auth-retry', onRetry)
    const before = front.stats().refused['wrong-host'] ?? 0
    try {
      const error = await refusal({ ...base(), tokenProvider: lying(right, wrong) })
      expect(error.code).toBe('ERR_PG_TOKEN_WRONG_HOST')
      expect(error.hint).toContain(front.proxyHost)
      expect(error.details['sqlState']).toBe('28P01')
      expect(JSON.stringify(error)).not.toMatch(/X-Amz-Signature/)
      expect(error.message).not.toMatch(/X-Amz/)
    } finally {
      unsubscribe('privatelink:pg:auth-retry', onRetry)
    }
    expect((front.stats().refused['wrong-host'] ?? 0) - before).toBe(2)
    expect(retries).toHaveLength(1)
  })

  it('a token for another user surfaces as ERR_PG_TOKEN_USER_MISMATCH', async () => {
    const right = createIamTokenProvider({
      hostname: front.proxyHost,
      username: 'app_user',
      region: lab.region,
      credentials: crossAccount(),
    })
    const other = createIamTokenProvider({
      hostname: front.proxyHost,
      username: 'admin',
      region: lab.region,
      credentials: crossAccount(),
    })
    const error = await refusal({ ...base(), tokenProvider: lying(right, other) })
    expect(error.code).toBe('ERR_PG_TOKEN_USER_MISMATCH')
  })

  it('an expired token surfaces as ERR_PG_TOKEN_EXPIRED', async () => {
    offsetMs = 20 * 60_000
    try {
      // The lab is 20 minutes ahead of the pool: every token rds-signer signs now is too old.
      const { clock: _, ...options } = base()
      const error = await refusal({ ...options, credentials: lab.aws.issueSession(7200) })
      expect(error.code).toBe('ERR_PG_TOKEN_EXPIRED')
      expect(error.hint).toMatch(/15 minutes/)
    } finally {
      offsetMs = 0
    }
  })

  it('a bad signature surfaces as ERR_PG_TOKEN_SIGNATURE', async () => {
    const session = lab.aws.issueSession(3600)
    const error = await refusal({
      ...base(),
      credentials: { ...session, secretAccessKey: `${session.secretAccessKey.slice(0, -4)}AAAA` },
    })
    expect(error.code).toBe('ERR_PG_TOKEN_SIGNATURE')
  })

  it('a user the proxy does not allow surfaces as ERR_PG_IAM_NOT_AUTHORIZED with the policy hint', async () => {
    const error = await refusal({ ...base(), port: 5433, proxyHost: restricted.proxyHost })
    expect(error.code).toBe('ERR_PG_IAM_NOT_AUTHORIZED')
    expect(error.hint).toContain('rds-db:connect')
    expect(error.hint).toContain('prx-')
  })

  it('a certificate for another name is ERR_TLS_NAME_MISMATCH; an unknown CA is ERR_TLS_UNTRUSTED', async () => {
    const mismatch = await refusal({
      ...base(),
      proxyHost: 'other-db.proxy-zzzzzzzzzzzz.us-west-2.rds.amazonaws.com',
    })
    expect(mismatch.code).toBe('ERR_TLS_NAME_MISMATCH')
    expect(mismatch.details['expected']).toBe(
      'other-db.proxy-zzzzzzzzzzzz.us-west-2.rds.amazonaws.com',
    )
    expect(String(mismatch.details['presented'])).toContain(front.proxyHost)
    const untrusted = await refusal({ ...base(), ssl: {} })
    expect(untrusted.code).toBe('ERR_TLS_UNTRUSTED')
    // The RDS CA bundle replaces the roots: the lab's CA (like the proxy's Amazon roots) is not in it.
    const rdsBundle = await refusal({ ...base(), ssl: { ca: 'rds' } })
    expect(rdsBundle.code).toBe('ERR_TLS_UNTRUSTED')
  })

  it("ERR_TLS_UNTRUSTED's hint is right for AWS and for the lab, whichever CAs were given", async () => {
    const other = await createTestCa('another lab CA')
    const [roots, rds, custom] = await Promise.all([
      refusal({ ...base(), ssl: {} }),
      refusal({ ...base(), ssl: { ca: 'rds' } }),
      refusal({ ...base(), ssl: { ca: other.certificatePem } }),
    ])
    for (const [error, caSource] of [
      [roots, 'roots'],
      [rds, 'rds'],
      [custom, 'custom'],
    ] as const) {
      expect(error.code).toBe('ERR_TLS_UNTRUSTED')
      expect(error.details['caSource']).toBe(caSource)
      // AWS: Amazon Trust Services roots verify RDS Proxy; the lab: its own CA, named how to pass.
      expect(error.hint).toContain('Amazon Trust Services')
      expect(error.hint).toContain('ssl: { ca: lab.ca.certificatePem }')
      expect(error.hint).toContain('NODE_EXTRA_CA_CERTS')
    }
    // Never "use the RDS bundle" for a proxy: it does not verify one.
    expect(rds.hint).toMatch(/RDS CA bundle, which verifies database instances, not RDS Proxy/)
    expect(roots.hint).not.toMatch(/ca: 'rds'/)
    expect(custom.hint).toMatch(/no CA in it signed this certificate/)
    // And the lab's CA, given as the hint says, is trusted.
    const pool = createPool(base())
    await expect(pool.query('SELECT 1')).resolves.toBeDefined()
    await pool.end()
  })

  it('a plain connection is refused by the proxy: ERR_PG_TLS_REQUIRED', async () => {
    const error = await refusal({ ...base(), ssl: { insecure: 'plaintext' } })
    expect(error.code).toBe('ERR_PG_TLS_REQUIRED')
    expect(error.hint).toContain('plaintext')
  })
})
