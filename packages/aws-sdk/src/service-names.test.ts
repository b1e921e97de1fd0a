import type { Endpoint } from '@privatelink/core'
import { describe, expect, it } from 'vitest'
import { findRoute, routeTable } from './route-table.js'

const endpoint = (service: string, extra: Partial<Endpoint> = {}): Endpoint => ({
  id: 'vpce-0123456789abcdef0',
  region: 'us-west-2',
  serviceName: `com.amazonaws.us-west-2.${service}`,
  dnsName: `*.vpce-0123456789abcdef0-abcdefgh.${service}.us-west-2.vpce.amazonaws.com`,
  zones: [{ azName: 'us-west-2a', azId: 'usw2-az1', addresses: ['10.0.1.5'] }],
  ...extra,
})

const vpce = 'vpce-0123456789abcdef0-abcdefgh.s3.us-west-2.vpce.amazonaws.com'

describe('the names current SDKs compute, routed by family', () => {
  const table = routeTable({
    endpoints: { s3: endpoint('s3'), dynamodb: endpoint('dynamodb') },
  })
  const originOf = (hostname: string) => findRoute(table, hostname)?.origin

  it.each([
    // DynamoDB: accountIdEndpointMode 'preferred' / 'required' with an account ID, and 'disabled'.
    ['111111111111.ddb.us-west-2.amazonaws.com', 'dynamodb.us-west-2.amazonaws.com'],
    ['dynamodb.us-west-2.amazonaws.com', 'dynamodb.us-west-2.amazonaws.com'],
    // S3: virtual-hosted, path-style, access point, control; and under the vpce names.
    ['orders-archive.s3.us-west-2.amazonaws.com', 's3.us-west-2.amazonaws.com'],
    ['s3.us-west-2.amazonaws.com', 's3.us-west-2.amazonaws.com'],
    ['reports-111111111111.s3-accesspoint.us-west-2.amazonaws.com', 's3.us-west-2.amazonaws.com'],
    ['111111111111.s3-control.us-west-2.amazonaws.com', 's3.us-west-2.amazonaws.com'],
    [`orders-archive.bucket.${vpce}`, 's3.us-west-2.amazonaws.com'],
    [`reports-111111111111.accesspoint.${vpce}`, 's3.us-west-2.amazonaws.com'],
    [`bucket.${vpce}`, `bucket.${vpce}`],
  ])('%s goes through %s', (hostname, origin) => {
    expect(originOf(hostname)).toBe(origin)
  })

  it.each([
    // A dotted bucket (no wildcard certificate covers it), another region, a non-account label.
    'my.dotted.bucket.s3.us-west-2.amazonaws.com',
    'orders-archive.s3.us-east-1.amazonaws.com',
    'not-an-account.ddb.us-west-2.amazonaws.com',
    '11111111111.ddb.us-west-2.amazonaws.com',
    'x.evil.example.com',
  ])('%s is not served', (hostname) => {
    expect(findRoute(table, hostname)).toBeUndefined()
  })

  it("DynamoDB's connections present its vpce name (no private DNS); S3's the name called", () => {
    const [dynamodb] = [...table.routes.values()].filter((r) => r.service === 'dynamodb')
    const [s3] = [...table.routes.values()].filter((r) => r.service === 's3')
    expect(table.servernames.get(dynamodb!.route)).toBe(
      'vpce-0123456789abcdef0-abcdefgh.dynamodb.us-west-2.vpce.amazonaws.com',
    )
    expect(table.servernames.get(s3!.route)).toBeUndefined()
    const withPrivateDns = routeTable({
      endpoints: {
        dynamodb: endpoint('dynamodb', { privateDnsName: 'dynamodb.us-west-2.amazonaws.com' }),
      },
    })
    expect(withPrivateDns.servernames.size).toBe(0)
  })

  it('refuses two endpoints for one family', () => {
    expect(() =>
      routeTable({ endpoint: endpoint('s3'), endpoints: { s3: endpoint('s3') } }),
    ).toThrow(/served by two/)
  })
})

describe("'gateway' routes", () => {
  it("serve the service's names and families (no vpce names), in the consumer's region", () => {
    const table = routeTable({
      endpoints: { s3: 'gateway', dynamodb: 'gateway' },
      region: 'us-west-2',
    })
    expect([...table.routes.keys()].sort()).toEqual([
      'dynamodb.us-west-2.amazonaws.com',
      's3-control.us-west-2.amazonaws.com',
      's3.us-west-2.amazonaws.com',
    ])
    expect(findRoute(table, 'orders-archive.s3.us-west-2.amazonaws.com')?.route).toMatchObject({
      kind: 'gateway',
      service: 's3',
      hostname: 's3.us-west-2.amazonaws.com',
    })
    expect(findRoute(table, '111111111111.ddb.us-west-2.amazonaws.com')?.route).toMatchObject({
      kind: 'gateway',
      service: 'dynamodb',
    })
    expect(table.families.every((f) => !f.family.suffix.includes('vpce'))).toBe(true)
    expect(table.servernames.size).toBe(0)
  })

  it('need a region, and checked gateway options', () => {
    const refused = (options: object) => {
      try {
        routeTable(options)
        return 'accepted'
      } catch (error) {
        return (error as { details: { option: string } }).details.option
      }
    }
    const saved = process.env['AWS_REGION']
    delete process.env['AWS_REGION']
    try {
      expect(refused({ endpoints: { s3: 'gateway' } })).toBe('region')
    } finally {
      if (saved !== undefined) process.env['AWS_REGION'] = saved
    }
    expect(refused({ endpoints: { s3: 'gateway' }, region: 'us-west-2', gateway: [] })).toBe(
      'gateway',
    )
    expect(
      refused({ endpoints: { s3: 'gateway' }, region: 'us-west-2', gateway: { servers: 'x' } }),
    ).toBe('gateway.servers')
    expect(refused({ endpoints: { kms: 'gateway' }, region: 'us-west-2' })).toBe('endpoints.kms')
  })
})
