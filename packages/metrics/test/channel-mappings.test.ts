import { channel } from 'node:diagnostics_channel'
import { metrics } from '@opentelemetry/api'
import { CHANNEL_GROUPS, enableMetrics, INSTRUMENTS } from '@privatelink/metrics'
import { afterEach, describe, expect, it } from 'vitest'
import { CHANNEL_MAPPINGS } from '../src/channel-mappings.js'
import { named, onDemandMetrics, type Point } from './otel-reader.js'

// Each channel's documented payload (the package READMEs' tables), published on the real
// node:diagnostics_channel, recorded through the real OpenTelemetry SDK and collected on demand.
const publish = (name: string, message: Record<string, unknown>) => channel(name).publish(message)

let sdk = onDemandMetrics()
let stop: () => void = () => {}
afterEach(async () => {
  stop()
  await sdk.shutdown()
  sdk = onDemandMetrics()
})

async function recorded(name: string, message: Record<string, unknown>): Promise<Point[]> {
  stop = enableMetrics({ meterProvider: sdk.meterProvider })
  publish(name, message)
  return await sdk.collect()
}

const zone = { endpointId: 'vpce-0abc', zone: 'usw2-az2', azName: 'us-west-2b', azId: 'usw2-az2' }

describe('one mapping per channel', () => {
  it('connector:connect: a connection per zone and its connect time in seconds', async () => {
    const points = await recorded('privatelink:connector:connect', {
      endpointId: 'vpce-0abc',
      azName: 'us-west-2b',
      azId: 'usw2-az2',
      address: '10.0.2.10',
      port: 5432,
      durationMs: 12.5,
      attempts: 1,
    })
    const attributes = {
      'privatelink.endpoint.id': 'vpce-0abc',
      'cloud.availability_zone': 'us-west-2b',
      'privatelink.availability_zone.id': 'usw2-az2',
      'server.port': 5432,
    }
    expect(named(points, 'privatelink.connector.connections')).toEqual([
      { name: 'privatelink.connector.connections', unit: '{connection}', attributes, value: 1 },
    ])
    const [duration] = named(points, 'privatelink.connector.connect.duration')
    expect(duration).toMatchObject({ unit: 's', attributes, count: 1, sum: 0.0125 })
    expect(duration!.buckets).toEqual([
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ])
  })

  it('connector:failover: a failover, and a connection error unless the attempt was only overtaken or abandoned', async () => {
    const points = await recorded('privatelink:connector:failover', {
      endpointId: 'vpce-0abc',
      from: 'us-west-2b',
      to: 'us-west-2a',
      cause: 'ECONNREFUSED',
    })
    expect(named(points, 'privatelink.connector.failovers')[0]!.attributes).toEqual({
      'privatelink.endpoint.id': 'vpce-0abc',
      'cloud.availability_zone': 'us-west-2a',
      'privatelink.failover.from': 'us-west-2b',
      'error.type': 'ECONNREFUSED',
    })
    expect(named(points, 'privatelink.connection.errors')[0]!.attributes).toEqual({
      'privatelink.endpoint.id': 'vpce-0abc',
      'cloud.availability_zone': 'us-west-2b',
      'error.type': 'ECONNREFUSED',
      'privatelink.client': 'connector',
    })
    // Overtaken or abandoned attempts are failovers, not errors (core's neutral causes).
    for (const cause of ['slow', 'cancelled', 'ABORT_ERR'])
      publish('privatelink:connector:failover', { endpointId: 'v', from: 'a', to: 'b', cause })
    const after = await sdk.collect()
    expect(named(after, 'privatelink.connector.failovers')).toHaveLength(4)
    expect(named(after, 'privatelink.connection.errors')).toHaveLength(1)
  })

  it('connector:eject and :readmit: per zone, with the signal and the cause', async () => {
    const points = await recorded('privatelink:connector:eject', {
      ...zone,
      signal: 'connect-failed',
      cause: 'ECONNREFUSED',
      level: 1,
      untilMs: 123,
    })
    publish('privatelink:connector:readmit', zone)
    const all = [...points, ...(await sdk.collect())]
    expect(named(all, 'privatelink.zone.ejections')[0]).toMatchObject({
      unit: '{ejection}',
      value: 1,
      attributes: {
        'privatelink.endpoint.id': 'vpce-0abc',
        'privatelink.zone': 'usw2-az2',
        'cloud.availability_zone': 'us-west-2b',
        'privatelink.availability_zone.id': 'usw2-az2',
        'privatelink.health.signal': 'connect-failed',
        'error.type': 'ECONNREFUSED',
      },
    })
    expect(named(all, 'privatelink.zone.readmissions').at(-1)!.attributes).toEqual({
      'privatelink.endpoint.id': 'vpce-0abc',
      'privatelink.zone': 'usw2-az2',
      'cloud.availability_zone': 'us-west-2b',
      'privatelink.availability_zone.id': 'usw2-az2',
    })
  })

  it('connector:region-failover and :region-return: target moves', async () => {
    const move = { endpointId: 'vpce-0abc', from: 'us-east-1', to: 'us-west-2' }
    await recorded('privatelink:connector:region-failover', { ...move, type: 'failover' })
    publish('privatelink:connector:region-return', { ...move, type: 'return' })
    const points = await sdk.collect()
    const attributes = {
      'privatelink.endpoint.id': 'vpce-0abc',
      'privatelink.target.from': 'us-east-1',
      'privatelink.target.to': 'us-west-2',
    }
    expect(named(points, 'privatelink.target.failovers')[0]).toMatchObject({ attributes, value: 1 })
    expect(named(points, 'privatelink.target.returns')[0]).toMatchObject({ attributes, value: 1 })
  })

  it('dns:resolve, :stale, :blocked, :refresh', async () => {
    const hostname = 'api.saas.example.com'
    await recorded('privatelink:dns:resolve', {
      hostname,
      family: 4,
      source: 'network',
      addressCount: 3,
      durationMs: 2,
    })
    publish('privatelink:dns:stale', { hostname, family: 4, ageMs: 5000, cause: 'ETIMEOUT' })
    publish('privatelink:dns:blocked', { hostname, address: '52.1.2.3' })
    publish('privatelink:dns:refresh', { hostname, family: 4, ok: false })
    const points = await sdk.collect()
    expect(named(points, 'dns.lookup.duration')[0]).toMatchObject({
      unit: 's',
      count: 1,
      sum: 0.002,
      attributes: {
        'dns.question.name': hostname,
        'privatelink.dns.family': 4,
        'privatelink.dns.source': 'network',
      },
    })
    expect(named(points, 'privatelink.dns.stale_answers')[0]!.attributes).toEqual({
      'dns.question.name': hostname,
      'privatelink.dns.family': 4,
      'error.type': 'ETIMEOUT',
    })
    // The refused address is not an attribute (unbounded values; the channel has it).
    expect(named(points, 'privatelink.dns.refused_answers')[0]).toMatchObject({
      value: 1,
      attributes: { 'dns.question.name': hostname },
    })
    expect(named(points, 'privatelink.dns.refreshes')[0]!.attributes).toEqual({
      'dns.question.name': hostname,
      'privatelink.dns.family': 4,
      'privatelink.outcome': 'failure',
    })
  })

  it('pg: tokens, refused authentications, retired connections and pinning, never the user name', async () => {
    const token = {
      hostname: 'proxy.example',
      port: 5432,
      username: 'app_user',
      region: 'us-west-2',
    }
    await recorded('privatelink:pg:token-refreshed', { ...token, validForMs: 840_000, signMs: 2 })
    publish('privatelink:pg:token-refresh-failed', {
      ...token,
      code: 'CredentialsProviderError',
      message: 'Could not load credentials',
      tokenValidForMs: 60_000,
    })
    publish('privatelink:pg:auth-retry', {
      code: 'ERR_PG_AUTH_FAILED',
      sqlState: '28P01',
      user: 'app_user',
    })
    publish('privatelink:pg:zone-retired', {
      zone: 'usw2-az2',
      zones: ['usw2-az2'],
      clients: 3,
      reason: 'eject',
    })
    publish('privatelink:pg:pinning', {
      cause: 'set',
      hint: 'Move session settings into InitQuery',
      proxyHost: 'proxy.example',
      user: 'app_user',
      zone: 'usw2-az1',
    })
    const points = await sdk.collect()
    const tokenAttributes = {
      'server.address': 'proxy.example',
      'server.port': 5432,
      'cloud.region': 'us-west-2',
      'privatelink.client': 'pg',
    }
    expect(named(points, 'privatelink.token.refreshes')[0]).toMatchObject({
      value: 1,
      attributes: tokenAttributes,
    })
    expect(named(points, 'privatelink.token.refresh_failures')[0]!.attributes).toEqual({
      ...tokenAttributes,
      'error.type': 'CredentialsProviderError',
    })
    expect(named(points, 'privatelink.connection.errors')[0]!.attributes).toEqual({
      'error.type': 'ERR_PG_AUTH_FAILED',
      'db.response.status_code': '28P01',
      'privatelink.client': 'pg',
    })
    expect(named(points, 'privatelink.pool.retired_connections')[0]).toMatchObject({
      value: 3,
      attributes: {
        'privatelink.retire.reason': 'eject',
        'privatelink.zone': 'usw2-az2',
        'privatelink.client': 'pg',
      },
    })
    expect(named(points, 'privatelink.rds_proxy.pinned_statements')[0]).toMatchObject({
      value: 1,
      attributes: {
        'privatelink.pinning.cause': 'set',
        'server.address': 'proxy.example',
        'privatelink.zone': 'usw2-az1',
        'privatelink.client': 'pg',
      },
    })
    const text = JSON.stringify(points)
    expect(text).not.toContain('app_user')
    expect(text).not.toContain('Could not load')
  })

  it('mysql: tokens, refused authentications (errno as the status code), one retired connection per message', async () => {
    const token = {
      hostname: 'proxy.example',
      port: 3306,
      username: 'app_user',
      region: 'us-west-2',
    }
    await recorded('privatelink:mysql:token-refreshed', {
      ...token,
      validForMs: 840_000,
      signMs: 2,
    })
    publish('privatelink:mysql:auth-retry', {
      code: 'ER_ACCESS_DENIED_ERROR',
      errno: 1045,
      user: 'app_user',
    })
    publish('privatelink:mysql:zone-retired', {
      zone: 'usw2-az2',
      zones: ['usw2-az2'],
      reason: 'eject',
      out: true,
      idle: true,
    })
    publish('privatelink:mysql:zone-retired', {
      zone: 'usw2-az2',
      zones: ['usw2-az2'],
      reason: 'eject',
      out: true,
      idle: false,
    })
    const points = await sdk.collect()
    expect(named(points, 'privatelink.token.refreshes')[0]!.attributes).toEqual({
      'server.address': 'proxy.example',
      'server.port': 3306,
      'cloud.region': 'us-west-2',
      'privatelink.client': 'mysql',
    })
    expect(named(points, 'privatelink.connection.errors')[0]!.attributes).toEqual({
      'error.type': 'ER_ACCESS_DENIED_ERROR',
      'db.response.status_code': '1045',
      'privatelink.client': 'mysql',
    })
    expect(named(points, 'privatelink.pool.retired_connections')[0]).toMatchObject({
      value: 2,
      attributes: { 'privatelink.retire.reason': 'eject', 'privatelink.client': 'mysql' },
    })
    expect(JSON.stringify(points)).not.toContain('app_user')
  })

  it('redis: tokens, AUTH by outcome (a refused one is a connection error too)', async () => {
    await recorded('privatelink:redis:token-refreshed', {
      userId: 'app-user',
      cacheName: 'lab-cache',
      region: 'us-west-2',
      service: 'elasticache',
      serverless: false,
      validForMs: 840_000,
      signMs: 1,
    })
    publish('privatelink:redis:token-refresh-failed', {
      userId: 'app-user',
      cacheName: 'lab-cache',
      code: 'ExpiredToken',
      message: 'expired',
      tokenValidForMs: 1,
    })
    publish('privatelink:redis:auth', {
      user: 'app-user',
      zone: 'usw2-az1',
      target: 'us-west-2',
      reauth: false,
      ok: true,
    })
    publish('privatelink:redis:auth', {
      user: 'app-user',
      zone: 'usw2-az1',
      target: 'us-west-2',
      reauth: true,
      ok: false,
      code: 'WRONGPASS',
    })
    const points = await sdk.collect()
    expect(named(points, 'privatelink.token.refreshes')[0]!.attributes).toEqual({
      'privatelink.cache.name': 'lab-cache',
      'cloud.region': 'us-west-2',
      'privatelink.client': 'redis',
    })
    expect(named(points, 'privatelink.token.refresh_failures')[0]!.attributes).toEqual({
      'privatelink.cache.name': 'lab-cache',
      'privatelink.client': 'redis',
      'error.type': 'ExpiredToken',
    })
    const auths = named(points, 'privatelink.redis.auths').map((p) => p.attributes)
    expect(auths).toContainEqual({
      'privatelink.zone': 'usw2-az1',
      'privatelink.target': 'us-west-2',
      'privatelink.redis.reauth': false,
      'privatelink.outcome': 'success',
    })
    expect(auths).toContainEqual({
      'privatelink.zone': 'usw2-az1',
      'privatelink.target': 'us-west-2',
      'error.type': 'WRONGPASS',
      'privatelink.redis.reauth': true,
      'privatelink.outcome': 'failure',
    })
    expect(named(points, 'privatelink.connection.errors')[0]!.attributes).toEqual({
      'privatelink.zone': 'usw2-az1',
      'error.type': 'WRONGPASS',
      'privatelink.client': 'redis',
    })
    expect(JSON.stringify(points)).not.toContain('app-user')
  })
})

describe('the table', () => {
  it('covers every channel the packages declare, and every instrument is fed by one', async () => {
    const { readdir, readFile } = await import('node:fs/promises')
    const root = new URL('../../', import.meta.url)
    const declared: string[] = []
    for (const pkg of await readdir(root)) {
      const source = await readFile(new URL(`${pkg}/src/diagnostics.ts`, root), 'utf8').catch(
        () => '',
      )
      for (const match of source.matchAll(/channel\('(privatelink:[^']+)'\)/g))
        declared.push(match[1]!)
    }
    expect(declared.length).toBeGreaterThan(10)
    expect(CHANNEL_MAPPINGS.map((m) => m.channel).sort()).toEqual(declared.sort())
    expect(new Set(CHANNEL_MAPPINGS.map((m) => m.group))).toEqual(new Set(CHANNEL_GROUPS))
    // Every instrument: semantic-convention names where one exists, the privatelink.* namespace else.
    for (const name of Object.keys(INSTRUMENTS))
      expect(name).toMatch(/^(privatelink\.[a-z_.]+|dns\.lookup\.duration)$/)
  })
})

describe('enableMetrics', () => {
  it('include: only the groups asked for; stop() ends recording', async () => {
    stop = enableMetrics({ meterProvider: sdk.meterProvider, include: ['dns'] })
    publish('privatelink:connector:readmit', zone)
    publish('privatelink:dns:blocked', { hostname: 'h', address: '52.1.2.3' })
    stop()
    publish('privatelink:dns:blocked', { hostname: 'h', address: '52.1.2.3' })
    const points = await sdk.collect()
    expect(points.map((p) => [p.name, p.value])).toEqual([['privatelink.dns.refused_answers', 1]])
  })

  it('without a meterProvider, the global one of @opentelemetry/api', async () => {
    metrics.setGlobalMeterProvider(sdk.meterProvider)
    try {
      stop = enableMetrics()
      publish('privatelink:dns:blocked', { hostname: 'global', address: '52.1.2.3' })
      expect(named(await sdk.collect(), 'privatelink.dns.refused_answers')).toHaveLength(1)
    } finally {
      metrics.disable()
    }
  })

  it('a message of the wrong shape records what it has and throws nothing into the publisher', async () => {
    stop = enableMetrics({ meterProvider: sdk.meterProvider })
    expect(() => channel('privatelink:connector:connect').publish('not an object')).not.toThrow()
    publish('privatelink:connector:connect', { azName: { a: 1 }, durationMs: 'soon' })
    const points = await sdk.collect()
    expect(named(points, 'privatelink.connector.connections')).toEqual([
      { name: 'privatelink.connector.connections', unit: '{connection}', attributes: {}, value: 1 },
    ])
    expect(named(points, 'privatelink.connector.connect.duration')).toEqual([])
  })

  it.each([
    ['options', 'yes'],
    ['meterProvider', { meterProvider: {} }],
    ['include', { include: ['connector', 'kafka'] }],
    ['include', { include: 'dns' }],
  ])('a bad %s is ERR_INVALID_OPTION naming it', (option, value) => {
    expect(() => enableMetrics(value as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        details: expect.objectContaining({ option }),
      }),
    )
  })
})
