import {
  type Lab,
  type RdsProxyFront,
  type RdsProxyMysqlFront,
  rdsProxyFront,
  rdsProxyMysqlFront,
  startLab,
} from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openServices } from '../examples/multi-service-endpoint/services.js'
import { findMariadb, type MariadbHandle } from './support/mariadb.js'

// The seed's port-based routing: one endpoint, 5432 to RDS Proxy for PostgreSQL and 3306 to RDS
// Proxy for MySQL (plus the example's HTTPS dispatcher on 443, unused here).
let db: MariadbHandle | undefined
let unavailable = ''
let lab: Lab
let pgProxy: RdsProxyFront
let mysqlProxy: RdsProxyMysqlFront
const pgUrl = new URL(inject('pgUrl'))

beforeAll(async () => {
  const found = await findMariadb()
  if ('unavailable' in found) {
    unavailable = found.unavailable
    return
  }
  db = found
  pgProxy = rdsProxyFront({
    upstream: {
      host: pgUrl.hostname,
      port: Number(pgUrl.port || 5432),
      user: decodeURIComponent(pgUrl.username || 'postgres'),
      ...(pgUrl.password === '' ? {} : { password: decodeURIComponent(pgUrl.password) }),
    },
  })
  mysqlProxy = rdsProxyMysqlFront({
    upstream: { host: db.host, port: db.port, user: db.user, password: db.password },
  })
  lab = await startLab({
    fronts: [pgProxy, mysqlProxy],
    services: [
      { name: 'postgres', port: 5432, target: { front: 'rds-proxy' } },
      { name: 'mysql', port: 3306, target: { front: 'rds-proxy-mysql' } },
    ],
  })
})
afterAll(async () => {
  await lab?.close()
  await db?.stop()
})

const bytesOut = (service: string) =>
  Object.fromEntries(
    Object.entries(lab.stats()).map(([zone, services]) => [zone, services[service]?.bytesOut ?? 0]),
  )

describe('examples/multi-service-endpoint with MySQL', () => {
  it('PostgreSQL on 5432 and MySQL on 3306 through one endpoint, IAM over verified TLS, own zone only', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const before = { postgres: bytesOut('postgres'), mysql: bytesOut('mysql') }
    const services = openServices({
      endpoint: lab.endpoint,
      locality: { source: 'options', azName: 'us-west-2b', azId: 'usw2-az2' },
      region: lab.region,
      credentials: lab.aws.issueSession(3600),
      postgres: {
        proxyHost: pgProxy.proxyHost,
        user: 'app_user',
        database: pgUrl.pathname.slice(1) || 'postgres',
      },
      mysql: { proxyHost: mysqlProxy.proxyHost, user: 'app_user', database: db.database },
      ca: lab.ca.certificatePem,
    })
    try {
      const { rows } = await services.db.query<{ n: number }>('SELECT $1::int AS n', [7])
      expect(rows).toEqual([{ n: 7 }])
      const [mysqlRows] = await services.mysql!.query('SELECT ? + 1 AS n', [7])
      expect(mysqlRows).toEqual([{ n: 8 }])
    } finally {
      await services.close()
    }
    for (const service of ['postgres', 'mysql'] as const) {
      const after = bytesOut(service)
      const grew = Object.keys(after).filter((zone) => after[zone]! > before[service][zone]!)
      expect(grew, service).toEqual(['us-west-2b'])
    }
    expect(mysqlProxy.stats().authenticated).toBeGreaterThan(0)
    expect(mysqlProxy.events().find((e) => e.type === 'connected')).toMatchObject({ tls: true })
  })
})
