import { describe, expect, it } from 'vitest'
import { endpointFromConfig, endpointFromEnv, endpointsFromEnv } from './static-endpoint.js'

const dnsName =
  'vpce-0123456789abcdef0-abcd1234.vpce-svc-0fedcba9876543210.us-west-2.vpce.amazonaws.com'

describe('endpointFromConfig', () => {
  it('derives id, region and zonal names', () => {
    const endpoint = endpointFromConfig({
      dnsName,
      zones: [
        { azName: 'us-west-2a', azId: 'usw2-az1' },
        { azName: 'us-west-2b', addresses: ['10.0.1.5'] },
      ],
    })
    expect(endpoint).toEqual({
      id: 'vpce-0123456789abcdef0',
      region: 'us-west-2',
      dnsName,
      zones: [
        {
          azName: 'us-west-2a',
          azId: 'usw2-az1',
          dnsName: dnsName.replace('abcd1234.', 'abcd1234-us-west-2a.'),
          addresses: [],
        },
        {
          azName: 'us-west-2b',
          dnsName: dnsName.replace('abcd1234.', 'abcd1234-us-west-2b.'),
          addresses: ['10.0.1.5'],
        },
      ],
    })
  })

  it('reads the JSON describe prints, from a string or PRIVATELINK_ENDPOINTS', () => {
    const endpoint = endpointFromConfig({
      dnsName,
      zones: [{ azName: 'us-west-2a', azId: 'usw2-az1', addresses: ['10.0.0.5'] }],
      serviceName: 'com.amazonaws.vpce.us-west-2.vpce-svc-0fedcba9876543210',
    })
    expect(endpointFromConfig(JSON.stringify(endpoint))).toEqual(endpoint)
    const env = { PRIVATELINK_ENDPOINTS: JSON.stringify([endpoint]) }
    expect(endpointFromEnv(undefined, env)).toEqual(endpoint)
    expect(endpointFromEnv('com.amazonaws.vpce.us-west-2.vpce-svc-0fedcba9876543210', env)).toEqual(
      endpoint,
    )
    expect(() => endpointFromEnv('vpce-00000000000000000', env)).toThrow(
      expect.objectContaining({ code: 'ERR_ENDPOINT_NOT_FOUND' }),
    )
    expect(() => endpointFromEnv(undefined, { PRIVATELINK_ENDPOINTS: '[nope' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ENDPOINT_CONFIG' }),
    )
  })

  it.each([
    ['dnsName', { zones: [{ azName: 'us-west-2a' }] }],
    [
      'dnsName',
      {
        dnsName: dnsName.replace('abcd1234.', 'abcd1234-us-west-2a.'),
        zones: [{ azName: 'us-west-2a' }],
      },
    ],
    ['zones', { dnsName, zones: [] }],
    ['zones[0].azName', { dnsName, zones: [{ azName: 'eu-west-1a' }] }],
    ['zones[0].azId', { dnsName, zones: [{ azName: 'us-west-2a', azId: 'west' }] }],
    ['zones[0].addresses', { dnsName, zones: [{ azName: 'us-west-2a', addresses: '10.0.0.1' }] }],
  ])('rejects a bad %s', (option, config) => {
    expect(() => endpointFromConfig(config as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        details: expect.objectContaining({ option }),
      }),
    )
  })

  it('refuses an id that does not match the name', () => {
    expect(() =>
      endpointFromConfig({
        dnsName,
        id: 'vpce-11111111111111111',
        zones: [{ azName: 'us-west-2a' }],
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ENDPOINT_CONFIG' }))
  })

  describe('every field is validated (issue 18, item 3)', () => {
    const zone = (extra: Record<string, unknown>) => ({
      dnsName,
      zones: [{ azName: 'us-west-2a', ...extra }],
    })
    it.each([
      ['zones[0].addresses[0]', zone({ addresses: ['52.1.2.3'] }), /outside the allowed ranges/],
      ['zones[0].addresses[0]', zone({ addresses: ['localhost'] }), /not an IP address literal/],
      ['zones[0].addresses[0]', zone({ addresses: ['0.0.0.0'] }), /unspecified/],
      ['zones[0].addresses[1]', zone({ addresses: ['10.0.1.5', '::'] }), /unspecified/],
      [
        'zones[0].addresses[0]',
        zone({ addresses: ['2600:1f18::1'] }),
        /outside the allowed ranges/,
      ],
      ['zones[0].addresses[0]', zone({ addresses: [' 10.0.1.5'] }), /not an IP address literal/],
      ['zones[0].addresses[0]', zone({ addresses: ['010.0.1.5'] }), /not an IP address literal/],
      ['zones[0].addresses[0]', zone({ addresses: [10n] }), /not an IP address literal/],
      ['zones[0].portMap.443', zone({ portMap: { 443: 'abc' } }), /port number/],
      ['zones[0].portMap.443', zone({ portMap: { 443: -1 } }), /port number/],
      ['zones[0].portMap.443', zone({ portMap: { 443: 70000 } }), /port number/],
      ['zones[0].portMap.443', zone({ portMap: { 443: 8443.5 } }), /port number/],
      ['zones[0].portMap.http', zone({ portMap: { http: 8080 } }), /port number/],
      ['zones[0].portMap', zone({ portMap: [8080] }), /is not an object/],
      ['zones[0].dnsName', zone({ dnsName: 'evil.example.com' }), /is not the zonal name/],
      ['zones[0].subnetId', zone({ subnetId: 'subnet-xyz' }), /is not a subnet ID/],
      ['zones[0].networkInterfaceId', zone({ networkInterfaceId: 42 }), /is not a network/],
      [
        'zones[1].azName',
        { dnsName, zones: [{ azName: 'us-west-2a' }, { azName: 'us-west-2a' }] },
        /twice/,
      ],
      ['vpcId', { ...zone({}), vpcId: 'vpc 1' }, /is not a VPC ID/],
      ['privateDnsName', { ...zone({}), privateDnsName: 'a..b' }, /is not a DNS name/],
      ['region', { ...zone({}), region: 'eu-west-1' }, /is not us-west-2/],
      ['state', { ...zone({}), state: { toString: 1 } }, /is not an endpoint state/],
      ['serviceRegion', { ...zone({}), serviceRegion: 'east' }, /is not the service's region/],
      ['serviceRegion', { ...zone({}), serviceRegion: 42 }, /is not the service's region/],
      [
        'serviceRegion',
        {
          ...zone({}),
          serviceName: 'com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210',
          serviceRegion: 'eu-west-1',
        },
        /disagrees with serviceName/,
      ],
      ['zones[0].cidrs', zone({ cidrs: '10.0.1.0/24' }), /is not an array/],
      ['zones[0].cidrs[0]', zone({ cidrs: ['10.0.1.0/'] }), /is not a CIDR/],
      ['zones[0].cidrs[1]', zone({ cidrs: ['10.0.1.0/24', '10.0.1.5/24'] }), /is not a CIDR/],
      ['zones[0].cidrs[0]', zone({ cidrs: ['0.0.0.0/0'] }), /wider than any subnet/],
      ['zones[0].cidrs[0]', zone({ cidrs: ['10.0.0.0/8'] }), /wider than any subnet/],
      ['zones[0].cidrs[0]', zone({ cidrs: ['2600::/16'] }), /wider than any subnet/],
      // An address outside the allowed ranges passes only inside its own zone's subnets.
      [
        'zones[0].addresses[0]',
        zone({ cidrs: ['2600:1f18:abcd:2::/64'], addresses: ['2600:1f18:abcd:1::23'] }),
        /outside the allowed ranges/,
      ],
    ])('refuses %s (case %#)', (option, config, message) => {
      let error: unknown
      try {
        endpointFromConfig(config as never)
      } catch (caught) {
        error = caught
      }
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', details: { option } })
      expect((error as Error).message).toMatch(message)
      expect((error as Error).message).toContain(option)
    })

    it('refuses a bad service name with its own code', () => {
      expect(() => endpointFromConfig({ ...zone({}), serviceName: 'nope' } as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_SERVICE_NAME' }),
      )
    })

    it('PRIVATELINK_ENDPOINTS goes through the same checks', () => {
      const env = { PRIVATELINK_ENDPOINTS: JSON.stringify(zone({ addresses: ['52.1.2.3'] })) }
      expect(() => endpointFromEnv(undefined, env)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
      )
    })

    it('accepts loopback by default (the lab, SSM port forwards) and other ranges when told', () => {
      expect(
        endpointFromConfig(zone({ addresses: ['127.0.5.1', '::1'] })).zones[0]!.addresses,
      ).toEqual(['127.0.5.1', '::1'])
      const onlyTen = { allowedRanges: ['10.0.0.0/8'] }
      expect(() => endpointFromConfig(zone({ addresses: ['127.0.5.1'] }), onlyTen)).toThrow(
        /outside the allowed ranges \(10\.0\.0\.0\/8\)/,
      )
      // A dual-stack endpoint's global unicast IPv6 address, with its VPC's range allowed.
      const dualStack = { allowedRanges: ['10.0.0.0/8', '2600:1f18:1:100::/56'] }
      expect(
        endpointFromConfig(zone({ addresses: ['10.0.1.5', '2600:1f18:1:100::5'] }), dualStack)
          .zones[0]!.addresses,
      ).toEqual(['10.0.1.5', '2600:1f18:1:100::5'])
      expect(() => endpointFromConfig(zone({}), { allowedRanges: ['10.0.0.0/'] })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
      )
      const ports = endpointFromConfig(zone({ portMap: { 443: 8443, 5432: 15432 } })).zones[0]!
      expect(ports.portMap).toEqual({ 443: 8443, 5432: 15432 })
    })
  })

  describe('cross-region and dual-stack fields survive static config', () => {
    const cross = {
      dnsName,
      zones: [{ azName: 'us-west-2a', addresses: ['10.0.1.5'] }],
      serviceName: 'com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210',
    }

    it('reads serviceRegion, and keeps it only when it differs from the endpoint region', () => {
      expect(endpointFromConfig({ ...cross, serviceRegion: 'us-east-1' }).serviceRegion).toBe(
        'us-east-1',
      )
      const same = endpointFromConfig({
        ...cross,
        serviceName: 'com.amazonaws.vpce.us-west-2.vpce-svc-0fedcba9876543210',
        serviceRegion: 'us-west-2',
      })
      expect(same.serviceRegion).toBeUndefined()
      expect(same.region).toBe('us-west-2')
    })

    it("without serviceRegion, the service name's region tells (as discovery does)", () => {
      expect(endpointFromConfig(cross).serviceRegion).toBe('us-east-1')
      // A global service has no region in its name: nothing to sign for but the endpoint's.
      const global = endpointFromConfig({ ...cross, serviceName: 'com.amazonaws.iam' })
      expect(global.serviceRegion).toBeUndefined()
      expect(
        endpointFromConfig({
          ...cross,
          serviceName: 'com.amazonaws.iam',
          serviceRegion: 'us-east-1',
        }).serviceRegion,
      ).toBe('us-east-1')
    })

    it("PRIVATELINK_ENDPOINTS carries serviceRegion and the zones' cidrs", () => {
      const endpoint = endpointFromConfig({
        ...cross,
        serviceRegion: 'us-east-1',
        zones: [
          {
            azName: 'us-west-2a',
            addresses: ['10.0.1.5', '2600:1f18:abcd:1::5'],
            cidrs: ['10.0.1.0/24', '2600:1F18:ABCD:1::/64'],
          },
        ],
      })
      expect(endpoint.zones[0]!.cidrs).toEqual(['10.0.1.0/24', '2600:1f18:abcd:1::/64'])
      // The dual-stack ENI's global unicast address passes because its own subnet holds it.
      expect(endpoint.zones[0]!.addresses).toEqual(['10.0.1.5', '2600:1f18:abcd:1::5'])
      const [fromEnv] = endpointsFromEnv({ PRIVATELINK_ENDPOINTS: JSON.stringify([endpoint]) })
      expect(fromEnv).toEqual(endpoint)
      expect(fromEnv!.serviceRegion).toBe('us-east-1')
    })
  })
})
