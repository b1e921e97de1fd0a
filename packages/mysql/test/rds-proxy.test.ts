import { inspect } from 'node:util'
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import type { PrivateLinkError } from '@privatelink/core'
import {
  createTestCa,
  type Lab,
  type RdsProxyMysqlFront,
  rdsProxyMysqlFront,
  startLab,
} from '@privatelink/lab'
import {
  createIamTokenProvider,
  createPool,
  createPromiseConnection,
  createPromisePool,
  type PrivateLinkPoolOptions,
} from '@privatelink/mysql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MariadbHandle } from '../../../test/support/mariadb.js'
import { bytesByZone, mariadb, zoneA } from './support.js'

// rds-signer signs with the real clock, so the lab clock is the real one plus an offset.
let offsetMs = 0
const clock = () => Date.now() + offsetMs
let db: MariadbHandle | undefined
let unavailable = ''
let lab: Lab
let front: RdsProxyMysqlFront
let restricted: RdsProxyMysqlFront

beforeAll(async () => {
  const found = await mariadb()
  if ('unavailable' in found) {
    unavailable = found.unavailable
    return
  }
  db = found
  const upstream = {
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.database,
  }
  front = rdsProxyMysqlFront({ upstream })
  restricted = rdsProxyMysqlFront({ name: 'restricted', port: 3307, users: ['reader'], upstream })
  lab = await startLab({
    clock,
    fronts: [front, restricted],
    services: [
      { name: 'mysql', port: 3306, target: { front: 'rds-proxy-mysql' } },
      { name: 'restricted', port: 3307, target: { front: 'restricted' } },
    ],
  })
})
afterAll(async () => {
  await lab?.close()
  await db?.stop()
})

/** The cross-account role, assumed through the lab's STS with its ExternalId. */
const crossAccount = () =>
  fromTemporaryCredentials({
    params: {
      RoleArn: lab.aws.roles[0]!.arn,
      RoleSessionName: 'privatelink-mysql-test',
      ExternalId: 'privatelink-lab',
    },
    clientConfig: {
      endpoint: lab.aws.endpoint,
      region: lab.region,
      credentials: lab.aws.credentials,
    },
  })

const base = (): PrivateLinkPoolOptions => ({
  endpoint: lab.endpoint,
  proxyHost: front.proxyHost,
  user: 'app_user',
  database: db!.database,
  credentials: crossAccount(),
  ssl: { ca: lab.ca.certificatePem },
  connectorOptions: { locality: zoneA },
  clock,
})

async function refusal(options: PrivateLinkPoolOptions): Promise<PrivateLinkError> {
  const pool = createPromisePool(options)
  try {
    await pool.query('SELECT 1')
    throw new Error('expected a refusal')
  } catch (error) {
    return error as PrivateLinkError
  } finally {
    await pool.end()
  }
}

describe('createPool through the RDS Proxy for MySQL emulator', () => {
  it('logs in with an IAM token over TLS verified against the proxy name, own zone first', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const before = front.stats().authenticated
    const pool = createPromisePool({ ...base(), connectionLimit: 4 })
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        pool.query('SELECT ? + 1 AS n, CURRENT_USER() AS who', [i]),
      ),
    )
    expect(results.map(([rows]) => (rows as { n: number }[])[0]!.n)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ])
    const [[row]] = (await pool.query('SELECT @@ssl_cipher AS cipher')) as unknown as [
      [{ cipher: string }],
    ]
    // The relay to MariaDB is plain (the lab's database has no TLS): TLS ends at the proxy.
    expect(row).toBeDefined()
    await pool.end()
    expect(front.stats().authenticated - before).toBeGreaterThanOrEqual(1)
    expect(front.stats().authenticated - before).toBeLessThanOrEqual(4)
    const connected = front
      .events()
      .filter((e) => e.type === 'connected')
      .at(-1)!
    expect(connected.tls).toBe(true)
    expect(connected.principal).toMatch(
      /assumed-role\/privatelink-cross-account\/privatelink-mysql-test$/,
    )
    const bytes = bytesByZone(lab, 'mysql')
    expect(bytes['us-west-2a']).toBeGreaterThan(0)
    expect(bytes['us-west-2b']).toBe(0)
    expect(bytes['us-west-2c']).toBe(0)
  })

  it('serves the callback API and a promise connection, each with a fresh token per connection', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const pool = createPool({ ...base(), connectionLimit: 1 })
    const answer = await new Promise<unknown>((resolve, reject) =>
      pool.query('SELECT 41 + 1 AS answer', (error, rows) =>
        error ? reject(error) : resolve(rows),
      ),
    )
    expect(answer).toEqual([{ answer: 42 }])
    await new Promise<void>((resolve) => pool.end(() => resolve()))
    const connection = await createPromiseConnection(base())
    const [rows] = await connection.query('SELECT DATABASE() AS db')
    expect(rows).toEqual([{ db: db!.database }])
    await connection.end()
  })

  it('never shows a token or password in util.inspect of the pool', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const pool = createPool({ ...base(), auth: { password: 'hunter2-secret' } })
    expect(inspect(pool)).not.toMatch(/hunter2/)
    expect(inspect(pool)).toMatch(/PrivateLinkMysqlPool \{ app_user@lab-mysql\.proxy-/)
    await new Promise<void>((resolve) => pool.end(() => resolve()))
  })

  it('refuses a token signed for another host, user or time, typed from the token it sent', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const wrongHost = createIamTokenProvider({
      hostname: 'other.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com',
      port: 3306,
      username: 'app_user',
      region: lab.region,
      credentials: lab.aws.credentials,
    })
    // A provider for another host is refused at the call: it could only sign refused tokens.
    expect(() => createPool({ ...base(), tokenProvider: wrongHost })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    const tampered = {
      ...createIamTokenProvider({
        hostname: front.proxyHost,
        port: 3306,
        username: 'app_user',
        region: lab.region,
        credentials: lab.aws.credentials,
      }),
    }
    const signed = tampered.getToken
    tampered.getToken = async () =>
      (await signed()).replace(
        /X-Amz-Signature=([0-9a-f])/,
        (_, c) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
      )
    const before = front.stats().refused['bad-signature'] ?? 0
    const error = await refusal({ ...base(), tokenProvider: tampered })
    expect(error.code).toBe('ERR_MYSQL_IAM_NOT_AUTHORIZED')
    expect(error.details['errno']).toBe(1045)
    expect(String(error.details['serverMessage'])).toMatch(/^Access denied for user 'app_user'/)
    expect(front.stats().refused['bad-signature']).toBeGreaterThan(before)
    expect(JSON.stringify(error) + inspect(error)).not.toMatch(/X-Amz-Signature/)
  })

  it('refuses a token the proxy finds expired, after one forced refresh and retry', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    // The lab's clock runs 20 minutes ahead: every token the signer makes is already expired there,
    // and the pool's own clock says so too.
    offsetMs = 20 * 60_000
    try {
      const error = await refusal({ ...base(), credentials: lab.aws.credentials, clock: Date.now })
      expect(front.stats().refused['expired-token']).toBeGreaterThanOrEqual(2)
      expect(error.code).toBe('ERR_MYSQL_IAM_NOT_AUTHORIZED')
    } finally {
      offsetMs = 0
    }
  })

  it('refuses a user the proxy has no IAM setting for', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const error = await refusal({ ...base(), proxyHost: restricted.proxyHost, port: 3307 })
    expect(error.code).toBe('ERR_MYSQL_IAM_NOT_AUTHORIZED')
    expect(restricted.stats().refused['user-not-allowed']).toBeGreaterThanOrEqual(1)
  })

  it('refuses a token signed for the vpce name (ERR_MYSQL_TOKEN_WRONG_HOST)', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const vpce = createIamTokenProvider({
      hostname: lab.endpoint.dnsName,
      port: 3306,
      username: 'app_user',
      region: lab.region,
      credentials: lab.aws.credentials,
    })
    const error = await refusal({
      ...base(),
      tokenProvider: { ...vpce, hostname: front.proxyHost },
    })
    expect(error.code).toBe('ERR_MYSQL_TOKEN_WRONG_HOST')
    expect(front.events().some((e) => e.type === 'refused' && e.reason === 'wrong-host')).toBe(true)
  })

  it('refuses a token for another DBUser (ERR_MYSQL_TOKEN_USER_MISMATCH)', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const other = createIamTokenProvider({
      hostname: front.proxyHost,
      port: 3306,
      username: 'someone_else',
      region: lab.region,
      credentials: lab.aws.credentials,
    })
    const provider = { ...other, username: 'app_user' }
    const error = await refusal({ ...base(), tokenProvider: provider })
    expect(error.code).toBe('ERR_MYSQL_TOKEN_USER_MISMATCH')
    expect(front.events().some((e) => e.type === 'refused' && e.reason === 'user-mismatch')).toBe(
      true,
    )
  })

  it('refuses a connection without TLS at the proxy (ERR_MYSQL_TLS_REQUIRED), with the loud opt-out', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const error = await refusal({ ...base(), ssl: { insecure: 'plaintext' } })
    expect(error.code).toBe('ERR_MYSQL_TLS_REQUIRED')
    expect(front.events().some((e) => e.type === 'refused' && e.reason === 'no-tls')).toBe(true)
  })

  it('verifies the certificate against proxyHost and the CA given', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const otherCa = await createTestCa()
    const untrusted = await refusal({ ...base(), ssl: { ca: otherCa.certificatePem } })
    expect(untrusted.code).toBe('ERR_TLS_UNTRUSTED')
    expect(untrusted.details['caSource']).toBe('custom')
    // Node's roots (the default) do not hold the lab's CA either.
    const { ssl: _ssl, ...roots } = base()
    expect((await refusal(roots)).code).toBe('ERR_TLS_UNTRUSTED')
  })

  it('refuses a certificate for another name (the vpce name dialled is never what is checked)', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    // Same proxy, but the client believes it reaches another proxy name: the certificate does not name it.
    const error = await refusal({
      ...base(),
      proxyHost: 'other.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com',
    })
    expect(error.code).toBe('ERR_TLS_NAME_MISMATCH')
    expect(error.details['expected']).toBe('other.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com')
  })
})
