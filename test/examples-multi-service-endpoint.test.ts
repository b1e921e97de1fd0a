import { discoverEndpoint } from '@privatelink/core'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { API_HOST, type Stack, startStack } from '../examples/demo/stack.js'
import { openServices } from '../examples/multi-service-endpoint/services.js'

let stack: Stack

beforeAll(async () => {
  stack = await startStack({
    env: { PG_URL: inject('pgUrl'), REDIS_URL: inject('redisUrl') || undefined },
  })
})
afterAll(() => stack?.close())

const bytesOut = (service: string) =>
  Object.fromEntries(
    Object.entries(stack.lab.stats()).map(([zone, services]) => [
      zone,
      services[service]?.bytesOut ?? 0,
    ]),
  )

// Warnings the example's clients emitted (a deprecated option spelling would show up here).
const warnings: string[] = []
const onWarning = (warning: Error & { code?: string }) =>
  warnings.push(warning.code ?? warning.name)
beforeAll(() => {
  process.on('warning', onWarning)
})
afterAll(() => {
  process.off('warning', onWarning)
})

function open(azName: string, azId: string) {
  const { lab, proxy, cache, mysqlProxy, mariadb } = stack
  return openServices({
    endpoint: lab.endpoint,
    locality: { source: 'options', azName, azId },
    region: lab.region,
    credentials: lab.aws.issueSession(3600),
    postgres: { proxyHost: proxy.proxyHost, user: 'app_user', database: stack.postgres.database },
    ...(mysqlProxy === undefined
      ? {}
      : {
          mysql: { proxyHost: mysqlProxy.proxyHost, user: 'app_user', database: mariadb!.database },
        }),
    ...(cache === undefined
      ? {}
      : { redis: { servername: cache.hostname, cacheName: cache.cacheName, userId: 'app-user' } }),
    ca: lab.ca.certificatePem,
  })
}

async function useAll(services: ReturnType<typeof openServices>): Promise<string[]> {
  const seen: string[] = []
  const { rows } = await services.db.query<{ n: number }>('SELECT $1::int AS n', [7])
  seen.push(`pg ${rows[0]!.n}`)
  const response = await request(`https://${API_HOST}/v1/orders/7`, { dispatcher: services.api })
  seen.push(`api ${response.statusCode} ${((await response.body.json()) as { path: string }).path}`)
  if (services.mysql !== undefined) {
    const [rows] = await services.mysql.query('SELECT ? + 1 AS n', [7])
    seen.push(`mysql ${(rows as { n: number }[])[0]!.n}`)
  }
  if (services.cache !== undefined) {
    await services.cache.set('privatelink:example:multi', 'seven')
    seen.push(`redis ${await services.cache.get('privatelink:example:multi')}`)
  }
  return seen
}

describe('examples/multi-service-endpoint', () => {
  it('one endpoint, four listeners: PostgreSQL (IAM, verify-full), MySQL (IAM, TLS), HTTPS and Redis (IAM), all in the own zone', async () => {
    const kinds = [
      'postgres',
      'api',
      ...(stack.mysqlProxy === undefined ? [] : ['mysql']),
      ...(stack.cache === undefined ? [] : ['redis']),
    ]
    const before = Object.fromEntries(kinds.map((kind) => [kind, bytesOut(kind)]))
    const services = open('us-west-2c', 'usw2-az3')
    try {
      const seen = await useAll(services)
      expect(seen).toEqual(
        kinds.map(
          (kind) =>
            ({
              postgres: 'pg 7',
              api: 'api 200 /v1/orders/7',
              mysql: 'mysql 8',
              redis: 'redis seven',
            })[kind],
        ),
      )
    } finally {
      await services.close()
    }
    // Locality reaches pg through connectorOptions: no deprecation warning for `connector: {...}`.
    await new Promise((resolve) => setImmediate(resolve))
    expect(warnings).not.toContain('PRIVATELINK_DEP_PG_CONNECTOR_SETTINGS')
    for (const service of kinds) {
      const after = bytesOut(service)
      const grew = Object.keys(after).filter((zone) => after[zone]! > before[service]![zone]!)
      expect(grew, service).toEqual(['us-west-2c'])
    }
    expect(stack.proxy.stats().authenticated).toBeGreaterThan(0)
    if (stack.cache !== undefined) expect(stack.cache.stats().authenticated).toBeGreaterThan(0)
    if (stack.mysqlProxy !== undefined)
      expect(stack.mysqlProxy.stats().authenticated).toBeGreaterThan(0)
  })

  it('works on the endpoint as the EC2 API describes it (port map included when a port moved)', async () => {
    const { lab } = stack
    const endpoint = await discoverEndpoint({
      endpointId: lab.endpoint.id,
      region: lab.region,
      credentials: lab.aws.credentials,
      ec2ClientConfig: { endpoint: lab.aws.endpoint },
    })
    expect(endpoint.zones.map((zone) => zone.portMap)).toEqual(
      lab.endpoint.zones.map((zone) => zone.portMap),
    )
    const services = openServices({
      endpoint,
      locality: { source: 'options', azName: 'us-west-2a', azId: 'usw2-az1' },
      region: lab.region,
      credentials: lab.aws.issueSession(3600),
      postgres: {
        proxyHost: stack.proxy.proxyHost,
        user: 'app_user',
        database: stack.postgres.database,
      },
      ca: lab.ca.certificatePem,
    })
    try {
      expect(await useAll(services)).toEqual(['pg 7', 'api 200 /v1/orders/7'])
    } finally {
      await services.close()
    }
  })
})
