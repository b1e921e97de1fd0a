import { PrivateLinkError } from '@privatelink/dns'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatEndpointDnsName, parseEndpointDnsName, zonalDnsName } from './endpoint-dns-name.js'
import { assertEndpointId, isEndpointId } from './endpoint-id.js'
import { formatServiceName, parseServiceName } from './service-name.js'

const codeOf = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    return PrivateLinkError.isInstance(error) ? error.code : 'NOT_PRIVATELINK_ERROR'
  }
  return 'NO_ERROR'
}

describe('parseServiceName', () => {
  it.each([
    [
      'com.amazonaws.us-east-1.s3',
      { kind: 'aws', prefix: 'com.amazonaws', region: 'us-east-1', service: 's3' },
    ],
    ['com.amazonaws.eu-west-1.ecr.dkr', { kind: 'aws', region: 'eu-west-1', service: 'ecr.dkr' }],
    [
      'com.amazonaws.us-gov-west-1.execute-api',
      { kind: 'aws', region: 'us-gov-west-1', service: 'execute-api' },
    ],
    [
      'aws.sagemaker.us-west-2.notebook',
      { kind: 'aws', prefix: 'aws.sagemaker', region: 'us-west-2', service: 'notebook' },
    ],
    [
      'aws.api.us-east-1.kendra-ranking',
      { kind: 'aws', prefix: 'aws.api', service: 'kendra-ranking' },
    ],
    [
      'com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef0',
      { kind: 'endpoint-service', region: 'us-west-2', serviceId: 'vpce-svc-0123456789abcdef0' },
    ],
    [
      'COM.AMAZONAWS.VPCE.AP-SOUTHEAST-2.VPCE-SVC-0123456789ABCDEF0',
      { kind: 'endpoint-service', region: 'ap-southeast-2' },
    ],
    // Cross-region enabled services AWS lists: global ones carry no region, China ones a cn. prefix.
    [
      'com.amazonaws.iam',
      { kind: 'aws', prefix: 'com.amazonaws', region: undefined, service: 'iam' },
    ],
    ['com.amazonaws.route53', { kind: 'aws', region: undefined, service: 'route53' }],
    [
      'cn.com.amazonaws.cn-north-1.ecr.api',
      { kind: 'aws', prefix: 'cn.com.amazonaws', region: 'cn-north-1', service: 'ecr.api' },
    ],
    [
      'cn.com.amazonaws.cn-northwest-1.kms-fips',
      { kind: 'aws', prefix: 'cn.com.amazonaws', region: 'cn-northwest-1', service: 'kms-fips' },
    ],
    [
      'cn.com.amazonaws.vpce.cn-north-1.vpce-svc-0123456789abcdef0',
      { kind: 'endpoint-service', prefix: 'cn.com.amazonaws.vpce', region: 'cn-north-1' },
    ],
  ])('%s', (input, expected) => {
    expect(parseServiceName(input)).toMatchObject(expected)
  })

  it.each([
    '',
    's3',
    'com.amazonaws.s3',
    'com.amazonaws.vpce.us-west-2.vpce-svc-123',
    'com.amazonaws.nowhere.s3',
    'org.example.us-east-1.x',
    // Only the services AWS names without a region are global; a dropped region is a typo.
    'com.amazonaws.ec2',
    'com.amazonaws.iam.extra',
    'cn.com.amazonaws.iam',
    'cn.com.amazonaws.us-east-1.s3',
    'cn.com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0',
    'cn.cn.com.amazonaws.cn-north-1.s3',
  ])('rejects %j with ERR_INVALID_SERVICE_NAME and an example', (input) => {
    expect(codeOf(() => parseServiceName(input))).toBe('ERR_INVALID_SERVICE_NAME')
    try {
      parseServiceName(input)
    } catch (error) {
      expect((error as PrivateLinkError).details).toMatchObject({
        input,
        example: expect.stringMatching(/^com\.amazonaws/),
      })
    }
  })
})

describe('parseEndpointDnsName', () => {
  const regional =
    'vpce-0123456789abcdef0-abcd1234.vpce-svc-0fedcba9876543210.us-west-2.vpce.amazonaws.com'

  it('parses regional, zonal, execute-api and alias names', () => {
    expect(parseEndpointDnsName(regional)).toEqual({
      kind: 'regional',
      endpointId: 'vpce-0123456789abcdef0',
      suffix: 'abcd1234',
      servicePart: 'vpce-svc-0fedcba9876543210',
      region: 'us-west-2',
      domain: 'amazonaws.com',
    })
    expect(
      parseEndpointDnsName(
        'vpce-0123456789abcdef0-abcd1234-us-west-2b.vpce-svc-0fedcba9876543210.us-west-2.vpce.amazonaws.com',
      ),
    ).toMatchObject({
      kind: 'zonal',
      azName: 'us-west-2b',
    })
    expect(
      parseEndpointDnsName(
        'vpce-0123456789abcdef0-abcd1234.execute-api.us-east-1.vpce.amazonaws.com',
      ),
    ).toMatchObject({
      kind: 'regional',
      servicePart: 'execute-api',
    })
    expect(
      parseEndpointDnsName(
        'vpce-01234567-abcd1234-us-west-2-lax-1a.s3.us-west-2.vpce.amazonaws.com',
      ),
    ).toMatchObject({ kind: 'zonal', azName: 'us-west-2-lax-1a', endpointId: 'vpce-01234567' })
    expect(
      parseEndpointDnsName(
        'vpce-0123456789abcdef0-abcd1234.ecr.dkr.cn-north-1.vpce.amazonaws.com.cn',
      ),
    ).toMatchObject({ servicePart: 'ecr.dkr', domain: 'amazonaws.com.cn' })
    expect(
      parseEndpointDnsName('a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com'),
    ).toEqual({
      kind: 'execute-api-alias',
      apiId: 'a1b2c3d4e5',
      endpointId: 'vpce-0123456789abcdef0',
      region: 'us-east-1',
      domain: 'amazonaws.com',
    })
  })

  it('derives zonal names and refuses zones of another region', () => {
    expect(zonalDnsName(regional, 'us-west-2c')).toBe(
      'vpce-0123456789abcdef0-abcd1234-us-west-2c.vpce-svc-0fedcba9876543210.us-west-2.vpce.amazonaws.com',
    )
    expect(codeOf(() => zonalDnsName(regional, 'us-east-1a'))).toBe('ERR_INVALID_DNS_NAME')
    expect(
      codeOf(() =>
        parseEndpointDnsName(
          'vpce-0123456789abcdef0-abcd1234-us-east-1a.s3.us-west-2.vpce.amazonaws.com',
        ),
      ),
    ).toBe('ERR_INVALID_DNS_NAME')
  })

  it.each([
    'api.example.com',
    'vpce-xyz.s3.us-east-1.vpce.amazonaws.com',
    's3.us-east-1.amazonaws.com',
    '',
  ])('rejects %j', (input) => {
    expect(codeOf(() => parseEndpointDnsName(input))).toBe('ERR_INVALID_DNS_NAME')
  })
})

describe('isEndpointId', () => {
  it('accepts 17 and legacy 8 hex digits only', () => {
    expect(isEndpointId('vpce-0123456789abcdef0')).toBe(true)
    expect(isEndpointId('vpce-01234567')).toBe(true)
    expect(isEndpointId('vpce-0123456789ABCDEF0')).toBe(false)
    expect(isEndpointId('vpce-123')).toBe(false)
    expect(isEndpointId(42)).toBe(false)
  })
})

describe('properties', () => {
  const hex = (length: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`))
  const region = fc.constantFrom(
    'us-east-1',
    'us-west-2',
    'eu-central-2',
    'ap-southeast-4',
    'us-gov-east-1',
    'cn-northwest-1',
  )
  const label = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}$/)

  it('service names round-trip', () => {
    const serviceName = fc.oneof(
      fc.record({
        kind: fc.constant('endpoint-service' as const),
        prefix: fc.constant('com.amazonaws.vpce' as const),
        region,
        serviceId: hex(17).map((h) => `vpce-svc-${h}`),
      }),
      fc.record({
        kind: fc.constant('aws' as const),
        prefix: fc.constant('com.amazonaws' as const),
        region,
        service: fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.')),
      }),
      fc.record({
        kind: fc.constant('aws' as const),
        prefix: fc.constant('cn.com.amazonaws' as const),
        region: fc.constantFrom('cn-north-1', 'cn-northwest-1'),
        service: fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.')),
      }),
      fc.record({
        kind: fc.constant('endpoint-service' as const),
        prefix: fc.constant('cn.com.amazonaws.vpce' as const),
        region: fc.constantFrom('cn-north-1', 'cn-northwest-1'),
        serviceId: hex(17).map((h) => `vpce-svc-${h}`),
      }),
      fc.record({
        kind: fc.constant('aws' as const),
        prefix: fc.constant('com.amazonaws' as const),
        region: fc.constant(undefined),
        service: fc.constantFrom('iam' as const, 'route53' as const),
      }),
    )
    fc.assert(
      fc.property(serviceName, (name) => {
        if (name.kind === 'aws' && name.service.startsWith('vpce')) return
        expect(parseServiceName(formatServiceName(name))).toEqual(name)
      }),
    )
  })

  it('near-miss service names: whatever is accepted formats back to itself; region-less only for global services', () => {
    const part = fc.oneof(
      label,
      fc.constantFrom(
        'iam',
        'route53',
        'vpce',
        'cn-north-1',
        'us-east-1',
        'vpce-svc-0123456789abcdef0',
      ),
    )
    const nearMiss = fc
      .tuple(
        fc.constantFrom('com.amazonaws', 'cn.com.amazonaws', 'com.amazonaws.vpce', 'aws.api'),
        fc.array(part, { minLength: 0, maxLength: 3 }),
      )
      .map(([prefix, parts]) => [prefix, ...parts].join('.'))
    fc.assert(
      fc.property(nearMiss, (input) => {
        let parsed: ReturnType<typeof parseServiceName>
        try {
          parsed = parseServiceName(input)
        } catch (error) {
          expect((error as PrivateLinkError).code).toBe('ERR_INVALID_SERVICE_NAME')
          return
        }
        expect(formatServiceName(parsed)).toBe(input)
        if (parsed.region === undefined)
          expect(['com.amazonaws.iam', 'com.amazonaws.route53']).toContain(input)
        else if (input.startsWith('cn.')) expect(parsed.region).toMatch(/^cn-/)
      }),
      { numRuns: 2000 },
    )
  })

  it('endpoint DNS names round-trip', () => {
    const name = fc
      .record({
        endpointId: fc.oneof(hex(17), hex(8)).map((h) => `vpce-${h}`),
        suffix: fc.stringMatching(/^[a-z0-9]{8}$/),
        servicePart: fc.oneof(
          hex(17).map((h) => `vpce-svc-${h}`),
          fc.constantFrom('s3', 'execute-api', 'ecr.dkr', 'rds'),
        ),
        region,
        zone: fc.option(fc.constantFrom('a', 'b', 'c', 'd', '-lax-1a')),
      })
      .map(({ zone, ...rest }) => {
        const domain = rest.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
        return zone === null
          ? { kind: 'regional' as const, ...rest, domain }
          : { kind: 'zonal' as const, ...rest, azName: `${rest.region}${zone}`, domain }
      })
    fc.assert(
      fc.property(name, (value) => {
        expect(parseEndpointDnsName(formatEndpointDnsName(value))).toEqual(value)
      }),
    )
  })

  it('arbitrary strings never throw anything but PrivateLinkError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[a-z0-9.-]{0,80}$/)), (input) => {
        for (const parse of [parseServiceName, parseEndpointDnsName]) {
          try {
            parse(input)
          } catch (error) {
            expect(PrivateLinkError.isInstance(error)).toBe(true)
          }
        }
      }),
      { numRuns: 2000 },
    )
  })
})

describe('hostile input (issue 18, item 11)', () => {
  const circular: Record<string, unknown> = {}
  circular['self'] = circular
  const throwing = {
    toString() {
      throw new Error('toString refused')
    },
  }
  const hostile = [10n, circular, throwing, Symbol('s'), null, undefined, 42, [], () => 'x']
  const regional =
    'vpce-0123456789abcdef0-abcd1234.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com'

  it.each([
    ['parseServiceName', (v: unknown) => parseServiceName(v as string), 'ERR_INVALID_SERVICE_NAME'],
    [
      'parseEndpointDnsName',
      (v: unknown) => parseEndpointDnsName(v as string),
      'ERR_INVALID_DNS_NAME',
    ],
    [
      'zonalDnsName (name)',
      (v: unknown) => zonalDnsName(v as string, 'us-east-1a'),
      'ERR_INVALID_DNS_NAME',
    ],
    [
      'zonalDnsName (zone)',
      (v: unknown) => zonalDnsName(regional, v as string),
      'ERR_INVALID_DNS_NAME',
    ],
    ['assertEndpointId', (v: unknown) => assertEndpointId(v), 'ERR_INVALID_ENDPOINT_ID'],
  ] as const)(
    '%s gives a typed error for BigInt, cycles and a throwing toString',
    (_, parse, code) => {
      for (const value of hostile) {
        expect(codeOf(() => parse(value))).toBe(code)
      }
    },
  )

  it('refuses empty and malformed labels, so no invalid zonal name is ever built', () => {
    for (const name of [
      'vpce-0123456789abcdef0-abcd1234.s3..us-east-1.vpce.amazonaws.com',
      'vpce-0123456789abcdef0-abcd1234.-s3.us-east-1.vpce.amazonaws.com',
      'vpce-0123456789abcdef0-abcd1234.s3-.us-east-1.vpce.amazonaws.com',
      `vpce-0123456789abcdef0-abcd1234.${'a'.repeat(64)}.us-east-1.vpce.amazonaws.com`,
    ]) {
      expect(codeOf(() => parseEndpointDnsName(name))).toBe('ERR_INVALID_DNS_NAME')
      expect(codeOf(() => zonalDnsName(name, 'us-east-1a'))).toBe('ERR_INVALID_DNS_NAME')
    }
    expect(codeOf(() => zonalDnsName(regional, ''))).toBe('ERR_INVALID_DNS_NAME')
    expect(zonalDnsName(regional, 'us-east-1a')).toBe(
      'vpce-0123456789abcdef0-abcd1234-us-east-1a.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com',
    )
  })

  it('anything at all gives a PrivateLinkError or a value, never a TypeError', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true }), (input) => {
        for (const parse of [
          () => parseServiceName(input as string),
          () => parseEndpointDnsName(input as string),
          () => zonalDnsName(regional, input as string),
          () => assertEndpointId(input),
        ]) {
          expect(['NOT_PRIVATELINK_ERROR']).not.toContain(codeOf(parse))
        }
      }),
      { numRuns: 1000 },
    )
  })
})
