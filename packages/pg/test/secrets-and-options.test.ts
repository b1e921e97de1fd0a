import type { PrivateLinkError } from '@privatelink/core'
import { type Lab, type RdsProxyFront, rdsProxyFront, startLab } from '@privatelink/lab'
import {
  createClient,
  createIamTokenProvider,
  createPool,
  type SecretsManagerClientLike,
} from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { everythingShown, LEAKED, leaks, sdkShapedError } from './sdk-error.js'
import { postgresTarget, zoneA } from './support.js'

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

/** A Secrets Manager stand-in: answers GetSecretValue from a list, one entry per call. */
function secretsClient(values: string[]): SecretsManagerClientLike & { calls: unknown[] } {
  const calls: unknown[] = []
  return {
    calls,
    async send(command) {
      calls.push((command as { input: unknown }).input)
      return { SecretString: values[Math.min(calls.length - 1, values.length - 1)] }
    },
  }
}

describe("auth: { secretId } (RDS Proxy's Secrets Manager mode)", () => {
  // The emulator checks IAM tokens, so the "password" in the secret is one: a real check either way.
  const token = (user = 'app_user') =>
    createIamTokenProvider({
      hostname: front.proxyHost,
      username: user,
      region: lab.region,
      credentials: lab.aws.issueSession(3600),
    }).getToken()
  const options = (client: SecretsManagerClientLike) => ({
    endpoint: lab.endpoint,
    proxyHost: front.proxyHost,
    user: 'app_user',
    database: target.database,
    auth: { secretId: 'prod/app_user', client },
    ssl: { ca: lab.ca.certificatePem },
    connectorOptions: { locality: zoneA },
  })

  it('reads the secret once and caches it across connections', async () => {
    const client = secretsClient([
      JSON.stringify({ username: 'app_user', password: await token() }),
    ])
    const pool = createPool({ ...options(client), max: 4 })
    await Promise.all(Array.from({ length: 8 }, () => pool.query('SELECT 1')))
    expect(pool.totalCount).toBeGreaterThan(1)
    expect(client.calls).toEqual([{ SecretId: 'prod/app_user' }])
    await pool.end()
  })

  it('re-reads the secret once after an authentication failure (rotation) and connects', async () => {
    const stale = JSON.stringify({ username: 'app_user', password: 'rotated-away' })
    const client = secretsClient([
      stale,
      JSON.stringify({ username: 'app_user', password: await token() }),
    ])
    const pool = createPool(options(client))
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one')
    expect(rows[0]!.one).toBe(1)
    expect(client.calls).toHaveLength(2)
    await pool.end()
  })

  it('a secret that stays wrong fails with ERR_PG_AUTH_FAILED, never showing the password', async () => {
    const client = secretsClient([
      JSON.stringify({ username: 'app_user', password: 'hunter2-but-longer' }),
    ])
    const pool = createPool(options(client))
    const error = (await pool.query('SELECT 1').catch((e: unknown) => e)) as PrivateLinkError
    expect(error.code).toBe('ERR_PG_AUTH_FAILED')
    expect(error.hint).toMatch(/re-read/)
    expect(JSON.stringify(error) + error.message).not.toContain('hunter2')
    expect(client.calls).toHaveLength(2)
    await pool.end()
  })

  it('a secret for another user is ERR_PG_SECRET_INVALID', async () => {
    const client = secretsClient([JSON.stringify({ username: 'admin', password: 'x' })])
    const pg = createClient(options(client))
    const error = (await pg.connect().catch((e: unknown) => e)) as PrivateLinkError
    expect(error.code).toBe('ERR_PG_SECRET_INVALID')
    expect(error.message).toContain('admin')
  })

  it("a Secrets Manager error is kept without its request: the caller's session token and signature are unreachable", async () => {
    const failure = sdkShapedError(
      'AccessDeniedException',
      `User is not authorized to perform secretsmanager:GetSecretValue (X-Amz-Security-Token=${LEAKED.sessionToken})`,
    )
    const client = {
      async send() {
        throw failure
      },
    }
    const pg = createClient(options(client))
    const error = (await pg.connect().catch((e: unknown) => e)) as PrivateLinkError
    expect(error.code).toBe('ERR_PG_SECRET_INVALID')
    const shown = everythingShown(error)
    expect(shown).toContain('AccessDeniedException')
    expect(shown).toContain('req-0123')
    expect(leaks(shown)).toBe(false)
    expect(leaks(JSON.stringify(error))).toBe(false)
  })
})

describe('options are validated at construction', () => {
  const valid = () => ({
    endpoint: lab.endpoint,
    proxyHost: front.proxyHost,
    user: 'app_user',
    region: 'us-west-2',
  })
  const codeOf = (build: () => unknown): [string | undefined, unknown] => {
    try {
      build()
    } catch (error) {
      return [(error as PrivateLinkError).code, (error as PrivateLinkError).details['option']]
    }
    return [undefined, undefined]
  }
  it.each([
    ['endpoint', { endpoint: 42 }],
    ['endpoint', { endpoint: 'db.example.com' }],
    ['proxyHost', { proxyHost: '' }],
    ['port', { port: 0 }],
    ['user', { user: '' }],
    ['region', { region: 'west' }],
    ['profile', { profile: 'serverless' }],
    ['ssl', { ssl: true }],
    ['ssl.insecure', { ssl: { insecure: 'yes' } }],
    ['ssl.ca', { ssl: { ca: 42 } }],
    ['auth', { auth: 'password' }],
    ['auth.password', { auth: { password: 42 } }],
    ['auth.secretId', { auth: { secretId: '' } }],
    ['auth.clientConfig', { auth: { secretId: 'prod/db', clientConfig: 'us-west-2' } }],
    ['auth.clientConfig', { auth: { secretId: 'prod/db', clientConfig: null } }],
    [
      'auth.clientConfig',
      { auth: { secretId: 'prod/db', client: { send: async () => ({}) }, clientConfig: {} } },
    ],
    ['handshakeTimeoutMs', { handshakeTimeoutMs: 0 }],
    ['host', { host: 'db.internal' }],
    ['password', { password: 'hunter2' }],
    ['connectionString', { connectionString: 'postgres://u:hunter2@h/db' }],
    ['tokenProvider', { tokenProvider: {} }],
  ])('a bad %s', (option, bad) => {
    const [code, named] = codeOf(() => createPool({ ...valid(), ...bad } as never))
    expect(code === 'ERR_INVALID_OPTION' || code === 'ERR_INVALID_DNS_NAME').toBe(true)
    if (code === 'ERR_INVALID_OPTION') expect(named).toBe(option)
  })

  it('never echoes a password it refuses', () => {
    try {
      createPool({ ...valid(), password: 'hunter2' } as never)
    } catch (error) {
      expect(JSON.stringify(error) + (error as Error).message).not.toContain('hunter2')
      return
    }
    throw new Error('expected a refusal')
  })

  it('a shared token provider for another user is refused', () => {
    const other = createIamTokenProvider({
      hostname: front.proxyHost,
      username: 'admin',
      region: 'us-west-2',
    })
    const [code, option] = codeOf(() => createPool({ ...valid(), tokenProvider: other }))
    expect([code, option]).toEqual(['ERR_INVALID_OPTION', 'tokenProvider'])
  })

  it('the region comes from the endpoint when not given', () => {
    const { region: _, ...rest } = valid()
    const pool = createPool(rest)
    expect(pool).toBeDefined()
    return pool.end()
  })

  it('a vpce DNS name works as the endpoint (its zones found through DNS)', async () => {
    const { createResolver } = await import('@privatelink/dns')
    const resolver = createResolver({
      servers: [lab.dns.address],
      allowedRanges: lab.allowedRanges,
    })
    const pool = createPool({
      ...valid(),
      endpoint: lab.endpoint.dnsName,
      database: target.database,
      credentials: lab.aws.issueSession(3600),
      ssl: { ca: lab.ca.certificatePem },
      connectorOptions: { resolver, locality: zoneA },
    })
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one')
    expect(rows[0]!.one).toBe(1)
    await pool.end()
  })
})
