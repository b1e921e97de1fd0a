import type { Connector, Endpoint } from '@privatelink/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type RouteOptions, routeTable } from './route-table.js'

const endpoint = (service: string, extra: Partial<Endpoint> = {}): Endpoint => ({
  id: 'vpce-0123456789abcdef0',
  region: 'us-west-2',
  serviceName: `com.amazonaws.us-west-2.${service}`,
  dnsName: `vpce-0123456789abcdef0-abcdefgh.${service}.us-west-2.vpce.amazonaws.com`,
  zones: [{ azName: 'us-west-2a', azId: 'usw2-az1', addresses: ['10.0.1.5'] }],
  ...extra,
})

// What routeTable reads of a connector: its endpoint (and that it is one).
const connectorFor = (of: Endpoint): Connector =>
  ({
    endpoint: of,
    connect: () => Promise.reject(new Error('not here')),
    undici: () => {},
  }) as never

const refusal = (options: unknown) => {
  try {
    routeTable(options as RouteOptions)
  } catch (error) {
    const typed = error as { code: string; details: { option: string } }
    return `${typed.code} ${typed.details.option}`
  }
  return 'accepted'
}

afterEach(() => vi.unstubAllEnvs())

describe('routeTable: the options', () => {
  it.each([
    ['not an object', null, 'options'],
    ['a region that is not one', { endpoints: { sts: endpoint('sts') }, region: 'west' }, 'region'],
    ['endpoints as an array', { endpoints: [] }, 'endpoints'],
    ['hostnames as a string', { endpoints: { sts: endpoint('sts') }, hostnames: 'x' }, 'hostnames'],
    ['origins (the handler pins)', { endpoints: { sts: endpoint('sts') }, origins: [] }, 'origins'],
    ['servername', { endpoints: { sts: endpoint('sts') }, servername: 'x' }, 'servername'],
    ['passthrough', { endpoints: { sts: endpoint('sts') }, passthrough: true }, 'passthrough'],
    ['endpoint as an ID', { endpoint: 'vpce-0123' }, 'endpoint'],
    ['no route at all', {}, 'endpoints'],
  ])('refuses %s', (_name, options, option) => {
    expect(refusal(options)).toBe(`ERR_INVALID_OPTION ${option}`)
  })
})

describe('routeTable: services', () => {
  it('refuses a service key that is not one, and a route that is neither endpoint nor private-dns', () => {
    expect(refusal({ endpoints: { 'Secrets Manager': endpoint('secretsmanager') } })).toBe(
      'ERR_INVALID_OPTION endpoints.Secrets Manager',
    )
    expect(refusal({ endpoints: { sts: 'public' } })).toBe('ERR_INVALID_OPTION endpoints.sts')
  })

  it("serves the service name, the endpoint's own names and extra hostnames; S3 its vpce forms", () => {
    const s3 = endpoint('s3')
    const table = routeTable({
      endpoints: { s3 },
      hostnames: { s3: ['My-Bucket.s3.us-west-2.amazonaws.com'] },
    })
    expect([...table.routes.keys()].sort()).toEqual(
      [
        's3.us-west-2.amazonaws.com',
        's3-control.us-west-2.amazonaws.com',
        'vpce-0123456789abcdef0-abcdefgh.s3.us-west-2.vpce.amazonaws.com',
        'bucket.vpce-0123456789abcdef0-abcdefgh.s3.us-west-2.vpce.amazonaws.com',
        'accesspoint.vpce-0123456789abcdef0-abcdefgh.s3.us-west-2.vpce.amazonaws.com',
        'control.vpce-0123456789abcdef0-abcdefgh.s3.us-west-2.vpce.amazonaws.com',
        'my-bucket.s3.us-west-2.amazonaws.com',
      ].sort(),
    )
    for (const route of table.routes.values())
      expect(route).toMatchObject({ service: 's3', region: 'us-west-2' })
  })

  it('`endpoint`: the service comes from its service name; without one, only its own names', () => {
    const known = routeTable({ endpoint: endpoint('kms') })
    expect(known.routes.get('kms.us-west-2.amazonaws.com')).toMatchObject({ service: 'kms' })
    const unknown = routeTable({ endpoint: endpoint('kms', { serviceName: undefined }) })
    expect([...unknown.routes.keys()]).toEqual([
      'vpce-0123456789abcdef0-abcdefgh.kms.us-west-2.vpce.amazonaws.com',
    ])
    expect([...unknown.routes.values()][0]).toMatchObject({ service: undefined })
  })

  it('services on one endpoint (or one connector) share one route target; other endpoints get their own', () => {
    const shared = endpoint('sts', { privateDnsName: 'sts.us-west-2.amazonaws.com' })
    const connector = connectorFor(endpoint('kms'))
    const table = routeTable({ endpoint: shared, endpoints: { sts: shared, kms: connector } })
    const targets = new Set([...table.routes.values()].map((entry) => entry.route))
    expect(targets.size).toBe(2)
    expect(table.routes.get('kms.us-west-2.amazonaws.com')?.route).toEqual({
      kind: 'endpoint',
      endpoint: connector,
    })
  })
})

describe('routeTable: regions', () => {
  it("an endpoint's serviceRegion wins, then its service name's region, then `region`, then its own", () => {
    const cross = endpoint('kms', { serviceRegion: 'us-east-1', serviceName: undefined })
    expect(routeTable({ endpoints: { kms: cross }, region: 'eu-west-1' }).routes.keys()).toContain(
      'kms.us-east-1.amazonaws.com',
    )
    const named = endpoint('kms', { serviceName: 'com.amazonaws.eu-central-1.kms' })
    expect(routeTable({ endpoints: { kms: named }, region: 'eu-west-1' }).routes.keys()).toContain(
      'kms.eu-central-1.amazonaws.com',
    )
    const bare = endpoint('kms', { serviceName: undefined })
    expect(routeTable({ endpoints: { kms: bare }, region: 'eu-west-1' }).routes.keys()).toContain(
      'kms.eu-west-1.amazonaws.com',
    )
    expect(routeTable({ endpoints: { kms: bare } }).routes.keys()).toContain(
      'kms.us-west-2.amazonaws.com',
    )
  })

  it('refuses an endpoint whose region is unknown', () => {
    const lost = endpoint('kms', { serviceName: undefined, region: '' })
    expect(refusal({ endpoints: { kms: lost } })).toBe('ERR_INVALID_OPTION endpoints.kms.region')
  })

  it("'private-dns' is its own route kind, in the consumer's region (the first endpoint's), not a service's", () => {
    const cross = endpoint('secretsmanager', { serviceRegion: 'us-east-1' })
    const table = routeTable({ endpoints: { secretsmanager: cross, sts: 'private-dns' } })
    expect(table.region).toBe('us-west-2')
    expect(table.routes.get('sts.us-west-2.amazonaws.com')).toEqual({
      route: { kind: 'private-dns', hostname: 'sts.us-west-2.amazonaws.com', region: 'us-west-2' },
      service: 'sts',
      region: 'us-west-2',
    })
  })

  it("'private-dns' alone takes `region`, else AWS_REGION, else refuses", () => {
    expect(routeTable({ endpoints: { sts: 'private-dns' }, region: 'eu-west-1' }).region).toBe(
      'eu-west-1',
    )
    vi.stubEnv('AWS_REGION', 'ap-southeast-2')
    expect(routeTable({ endpoints: { sts: 'private-dns' } }).routes.keys()).toContain(
      'sts.ap-southeast-2.amazonaws.com',
    )
    vi.stubEnv('AWS_REGION', undefined)
    expect(refusal({ endpoints: { sts: 'private-dns' } })).toBe('ERR_INVALID_OPTION region')
  })
})

describe('routeTable: hostnames and conflicts', () => {
  it('refuses extra hostnames that are not an array of names, or for a service without a route', () => {
    expect(refusal({ endpoints: { sts: endpoint('sts') }, hostnames: { sts: 'k' } })).toBe(
      'ERR_INVALID_OPTION hostnames.sts',
    )
    expect(refusal({ endpoints: { sts: endpoint('sts') }, hostnames: { sts: [''] } })).toBe(
      'ERR_INVALID_OPTION hostnames.sts',
    )
    expect(refusal({ endpoints: { sts: endpoint('sts') }, hostnames: { kms: ['k'] } })).toBe(
      'ERR_INVALID_OPTION hostnames.kms',
    )
  })

  it('refuses a hostname two routes would serve (the choice would be silent)', () => {
    const claims = endpoint('sts', { privateDnsName: 'kms.us-west-2.amazonaws.com' })
    expect(refusal({ endpoints: { sts: claims, kms: 'private-dns' } })).toBe(
      'ERR_INVALID_OPTION endpoints',
    )
    expect(refusal({ endpoints: { sts: claims, kms: endpoint('kms') } })).toBe(
      'ERR_INVALID_OPTION endpoints',
    )
  })

  it('passes the dispatcher settings on as they are', () => {
    const table = routeTable({
      endpoints: { sts: endpoint('sts') },
      keepAliveTimeoutMs: 1_000,
      retry: { maxRetries: 1 },
    } as RouteOptions)
    expect(table.shared).toEqual({ keepAliveTimeoutMs: 1_000, retry: { maxRetries: 1 } })
  })
})
