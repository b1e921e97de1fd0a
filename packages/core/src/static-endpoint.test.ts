import { describe, expect, it } from 'vitest'
import { endpointFromConfig, endpointFromEnv } from './static-endpoint.js'

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
})
