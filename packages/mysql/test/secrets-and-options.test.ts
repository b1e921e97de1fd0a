import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { inspect } from 'node:util'
import { type Lab, type SecretsManagerFront, secretsManagerFront, startLab } from '@privatelink/lab'
import { createPool, createPromisePool, parseGreeting } from '@privatelink/mysql'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MariadbHandle } from '../../../test/support/mariadb.js'
import { mariadb, zoneA } from './support.js'

let db: MariadbHandle | undefined
let unavailable = ''
let lab: Lab
let secrets: SecretsManagerFront
const APP_USER = 'privatelink_app'
const APP_PASSWORD = `right-${Math.random().toString(36).slice(2)}`

beforeAll(async () => {
  const found = await mariadb()
  if ('unavailable' in found) {
    unavailable = found.unavailable
    return
  }
  db = found
  const admin = await mysql.createConnection({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
  })
  await admin.query(`CREATE USER IF NOT EXISTS '${APP_USER}'@'%' IDENTIFIED BY 'placeholder'`)
  await admin.query(`ALTER USER '${APP_USER}'@'%' IDENTIFIED BY '${APP_PASSWORD}'`)
  await admin.query(`GRANT SELECT ON \`${db.database}\`.* TO '${APP_USER}'@'%'`)
  await admin.end()
  secrets = secretsManagerFront()
  lab = await startLab({
    fronts: [secrets],
    services: [{ name: 'mysql', port: 3306, target: { host: db.host, port: db.port } }],
  })
})
afterAll(async () => {
  await lab?.close()
  await db?.stop()
})

const proxyHost = 'orders.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com'

describe('Secrets Manager auth', () => {
  it('reads the password from the secret, and after a refusal reads the rotated one and retries once', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    secrets.put('prod/app', { username: APP_USER, password: 'stale-password' })
    const retries: unknown[] = []
    // Rotation lands between the refused login and the pool's second read.
    const onRetry = (message: unknown) => {
      retries.push(message)
      secrets.put('prod/app', { username: APP_USER, password: APP_PASSWORD })
    }
    subscribe('privatelink:mysql:auth-retry', onRetry)
    const pool = createPromisePool({
      endpoint: lab.endpoint,
      connectorOptions: { locality: zoneA },
      proxyHost,
      user: APP_USER,
      database: db.database,
      ssl: { insecure: 'plaintext' },
      auth: {
        secretId: 'prod/app',
        clientConfig: {
          endpoint: secrets.endpoint,
          region: lab.region,
          credentials: lab.aws.credentials,
        },
      },
    })
    try {
      const [rows] = await pool.query('SELECT CURRENT_USER() AS who')
      expect((rows as { who: string }[])[0]!.who).toMatch(new RegExp(`^${APP_USER}@`))
      expect(retries).toEqual([expect.objectContaining({ errno: 1045, user: APP_USER })])
      expect(secrets.requests.filter((r) => r.operation === 'GetSecretValue')).toHaveLength(2)
      // The password sits on mysql2's per-connection config only, never where inspect looks.
      expect(inspect(pool.pool, { depth: 6 })).not.toContain(APP_PASSWORD)
    } finally {
      unsubscribe('privatelink:mysql:auth-retry', onRetry)
      await pool.end()
    }
  })

  it('a secret for another user is refused before any login (ERR_MYSQL_SECRET_INVALID)', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    secrets.put('prod/other', { username: 'someone', password: 'x' })
    const pool = createPromisePool({
      endpoint: lab.endpoint,
      proxyHost,
      user: APP_USER,
      ssl: { insecure: 'plaintext' },
      auth: {
        secretId: 'prod/other',
        clientConfig: {
          endpoint: secrets.endpoint,
          region: lab.region,
          credentials: lab.aws.credentials,
        },
      },
    })
    await expect(pool.query('SELECT 1')).rejects.toMatchObject({ code: 'ERR_MYSQL_SECRET_INVALID' })
    await pool.end()
  })

  it('a wrong fixed password is ERR_MYSQL_AUTH_FAILED naming the user, never the password', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const pool = createPromisePool({
      endpoint: lab.endpoint,
      proxyHost,
      user: APP_USER,
      ssl: { insecure: 'plaintext' },
      auth: { password: 'not-the-password' },
    })
    const error = (await pool.query('SELECT 1').catch((e: unknown) => e)) as Error & {
      code: string
    }
    expect(error).toMatchObject({
      code: 'ERR_MYSQL_AUTH_FAILED',
      details: { errno: 1045, user: APP_USER },
    })
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain('not-the-password')
    await pool.end()
  })
})

describe('options', () => {
  const base = {
    endpoint:
      'vpce-0123456789abcdef0-abcd1234.vpce-svc-0123456789abcdef0.us-west-2.vpce.amazonaws.com',
    proxyHost,
    user: 'app',
  }
  it.each([
    ['host', { host: 'db.example.com' }],
    ['password', { password: 'hunter2' }],
    ['stream', { stream: () => null }],
    ['authPlugins', { authPlugins: {} }],
    ['port', { port: 70_000 }],
    ['region', { region: 'mars-1' }],
    ['ssl.insecure', { ssl: { insecure: 'yes' } }],
    ['debug', { debug: true, auth: { password: 'hunter2' } }],
    ['ssl.ca', { ssl: { ca: 'not a pem' } }],
    ['ssl.ca', { ssl: { ca: '' } }],
    ['ssl.ca', { ssl: { ca: [] } }],
    ['ssl.rejectUnauthorized', { ssl: { rejectUnauthorized: false } }],
    ['ssl.servername', { ssl: { servername: 'evil.example.com' } }],
    ['auth', { auth: 'hunter2' }],
    ['proxyHost', { proxyHost: 'not a host' }],
    ['endpoint', { endpoint: 'mysql://root:hunter2@db.example.com/x' }],
  ])('refuses %s at the call (ERR_INVALID_OPTION), never echoing a secret', (option, extra) => {
    let thrown: unknown
    try {
      createPool({ ...base, ...extra } as never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_OPTION', details: { option } })
    expect(JSON.stringify(thrown) + String(thrown)).not.toContain('hunter2')
  })

  it('points rejectUnauthorized: false to the loud opt-out, ssl.insecure', () => {
    expect(() => createPool({ ...base, ssl: { rejectUnauthorized: false } } as never)).toThrow(
      expect.objectContaining({ hint: expect.stringContaining('insecure: true') }),
    )
  })

  it('a Lambda profile pool keeps one connection and closes it when idle', () => {
    const pool = createPool({ ...base, profile: 'lambda', auth: { password: 'x' } })
    const config = (
      pool as unknown as {
        config: { connectionLimit: number; maxIdle: number; idleTimeout: number }
      }
    ).config
    expect(config).toMatchObject({ connectionLimit: 1, maxIdle: 0, idleTimeout: 30_000 })
    pool.end()
  })
})

describe('parseGreeting', () => {
  const greeting = (capabilities: number) => {
    const payload = Buffer.concat([
      Buffer.from([10]),
      Buffer.from('8.0.36\0'),
      Buffer.from([0x39, 0x30, 0, 0]),
      Buffer.alloc(8, 0x41),
      Buffer.from([0]),
      Buffer.from([capabilities & 0xff, (capabilities >> 8) & 0xff]),
      Buffer.alloc(20),
    ])
    const header = Buffer.from([payload.length, 0, 0, 0])
    return Buffer.concat([header, payload])
  }
  it('reads the version, the connection ID and whether TLS is offered; waits for a whole packet', () => {
    expect(parseGreeting(greeting(0x800), 'p')).toEqual({
      connectionId: 12345,
      serverVersion: '8.0.36',
      tls: true,
      error: false,
    })
    expect(parseGreeting(greeting(0x200), 'p')?.tls).toBe(false)
    expect(parseGreeting(greeting(0x800).subarray(0, 10), 'p')).toBeUndefined()
  })
  it('refuses what is not MySQL (ERR_MYSQL_PROTOCOL)', () => {
    const http = Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')
    expect(() =>
      parseGreeting(Buffer.concat([Buffer.from([http.length, 0, 0, 0]), http]), 'p'),
    ).toThrow(expect.objectContaining({ code: 'ERR_MYSQL_PROTOCOL' }))
  })
})
