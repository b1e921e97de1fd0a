import { type Lab, type RdsProxyMysqlFront, rdsProxyMysqlFront, startLab } from '@privatelink/lab'
import { createPromiseConnection } from '@privatelink/mysql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findMariadb, type MariadbHandle } from '../../../test/support/mariadb.js'
import { cli, labEnv } from './support.js'

let db: MariadbHandle | undefined
let unavailable = ''
let lab: Lab
let front: RdsProxyMysqlFront

beforeAll(async () => {
  const found = await findMariadb()
  if ('unavailable' in found) {
    unavailable = found.unavailable
    return
  }
  db = found
  front = rdsProxyMysqlFront({
    upstream: {
      host: db.host,
      port: db.port,
      user: db.user,
      password: db.password,
      database: db.database,
    },
  })
  lab = await startLab({
    fronts: [front],
    services: [{ name: 'mysql', port: 3306, target: { front: 'rds-proxy-mysql' } }],
  })
})
afterAll(async () => {
  await lab?.close()
  await db?.stop()
})

describe('privatelink token --engine mysql', { timeout: 60_000 }, () => {
  it('signs for port 3306, and RDS Proxy for MySQL takes the token with the cleartext plugin over TLS', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const run = await cli(
      ['token', '--engine', 'mysql', '--host', front.proxyHost, '--user', 'app_user'],
      { env: labEnv(lab) },
    )
    expect(run.code, run.stderr).toBe(0)
    const token = run.stdout.trim()
    expect(token).toMatch(
      new RegExp(
        `^${front.proxyHost.replaceAll('.', '\\.')}:3306/\\?Action=connect&DBUser=app_user&`,
      ),
    )
    const connection = await createPromiseConnection({
      endpoint: lab.endpoint,
      proxyHost: front.proxyHost,
      user: 'app_user',
      auth: { password: token },
      ssl: { ca: lab.ca.certificatePem },
    })
    const [rows] = await connection.query('SELECT 7 * 6 AS answer')
    expect(rows).toEqual([{ answer: 42 }])
    await connection.end()
    expect(front.events().find((e) => e.type === 'connected')).toMatchObject({
      user: 'app_user',
      tls: true,
    })
  })

  it('--json reports port 3306; an explicit --port still wins', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const json = await cli(
      ['token', '--engine', 'mysql', '--host', front.proxyHost, '--user', 'app_user', '--json'],
      { env: labEnv(lab) },
    )
    expect(JSON.parse(json.stdout)).toMatchObject({
      port: 3306,
      host: front.proxyHost,
      user: 'app_user',
    })
    const explicit = await cli(
      [
        'token',
        '--engine',
        'mysql',
        '--port',
        '3307',
        '--host',
        front.proxyHost,
        '--user',
        'app_user',
      ],
      { env: labEnv(lab) },
    )
    expect(explicit.stdout).toContain(':3307/?Action=connect')
    const bad = await cli(
      ['token', '--engine', 'oracle', '--host', front.proxyHost, '--user', 'app_user'],
      {
        env: labEnv(lab),
      },
    )
    expect(bad.code).not.toBe(0)
  })
})
