import { discoverEndpoint } from '@privatelink/core'
import { type Lab, type RdsProxyMysqlFront, rdsProxyMysqlFront, startLab } from '@privatelink/lab'
import { createIamTokenProvider, createPromisePool } from '@privatelink/mysql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MariadbHandle } from '../../../test/support/mariadb.js'
import { mariadb, zoneA } from './support.js'

// A consumer in us-west-2 reaching an RDS Proxy for MySQL in us-east-1 through a cross-region
// endpoint; the proxy's name carries no region, so only the endpoint tells which region signs.
let db: MariadbHandle | undefined
let unavailable = ''
let lab: Lab
let front: RdsProxyMysqlFront

beforeAll(async () => {
  const found = await mariadb()
  if ('unavailable' in found) {
    unavailable = found.unavailable
    return
  }
  db = found
  front = rdsProxyMysqlFront({
    proxyHost: 'orders-db.proxy.lab.internal',
    upstream: { host: db.host, port: db.port, user: db.user, password: db.password },
  })
  lab = await startLab({
    region: 'us-west-2',
    serviceRegion: 'us-east-1',
    fronts: [front],
    services: [{ name: 'mysql', port: 3306, target: { front: 'rds-proxy-mysql' } }],
  })
})
afterAll(async () => {
  await lab?.close()
  await db?.stop()
})

describe('a cross-region endpoint (consumer us-west-2, RDS Proxy for MySQL us-east-1)', () => {
  it("signs tokens for the service's region from the discovered endpoint; the consumer's region is refused", async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const endpoint = await discoverEndpoint({
      endpointId: lab.endpoint.id,
      region: lab.region,
      credentials: lab.aws.credentials,
      ec2ClientConfig: { endpoint: lab.aws.endpoint, maxAttempts: 1 },
    })
    expect(endpoint).toMatchObject({ region: 'us-west-2', serviceRegion: 'us-east-1' })
    const options = {
      endpoint,
      proxyHost: front.proxyHost,
      user: 'app_user',
      credentials: lab.aws.issueSession(3600),
      ssl: { ca: lab.ca.certificatePem },
      connectorOptions: { locality: zoneA },
    }
    const pool = createPromisePool(options)
    const [rows] = await pool.query('SELECT 1 AS one')
    expect(rows).toEqual([{ one: 1 }])
    await pool.end()
    expect(front.events().at(-1)).toMatchObject({ type: 'connected' })

    // The consumer's own region would sign tokens the proxy refuses: refused at the call.
    expect(() => createPromisePool({ ...options, region: 'us-west-2' })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        details: expect.objectContaining({ option: 'region', expected: 'us-east-1' }),
      }),
    )
    // A token signed there anyway (a shared provider) is refused by the proxy: wrong region.
    const provider = createIamTokenProvider({
      hostname: front.proxyHost,
      port: 3306,
      username: 'app_user',
      region: 'us-west-2',
      credentials: lab.aws.credentials,
    })
    const wrong = createPromisePool({ ...options, tokenProvider: provider })
    const error = await wrong.query('SELECT 1').catch((e: unknown) => e as { code?: string })
    await wrong.end()
    expect(error).toMatchObject({ code: 'ERR_MYSQL_TOKEN_SIGNATURE' })
    expect(front.events().at(-1)).toMatchObject({ type: 'refused', reason: 'wrong-region' })
  })
})
