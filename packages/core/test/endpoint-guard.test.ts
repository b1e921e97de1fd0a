import {
  createEndpointGuard,
  type Endpoint,
  endpointAllowedRanges,
  endpointFromConfig,
} from '@privatelink/core'
import { createResolver, guardedConnect } from '@privatelink/dns'
import { type LabDnsServer, startDnsServer } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Issue 18, item 4: a dual-stack endpoint's ENIs have IPv6 global unicast addresses from the
// VPC's /56; the default ranges refuse them. A guard built from the endpoint allows exactly them.
const dnsName =
  'vpce-0123456789abcdef0-abcd1234.vpce-svc-0fedcba9876543210.us-west-2.vpce.amazonaws.com'
const dualStack = { allowedRanges: ['10.0.0.0/8', '2600:1f18:1:100::/56'] }
const endpoint: Endpoint = endpointFromConfig(
  {
    dnsName,
    zones: [
      { azName: 'us-west-2a', addresses: ['10.0.1.5', '2600:1f18:1:101::5'] },
      { azName: 'us-west-2b', addresses: ['10.0.2.5', '2600:1f18:1:102::5'] },
    ],
  },
  dualStack,
)

let dns: LabDnsServer
beforeAll(async () => {
  dns = await startDnsServer()
  dns.set(dnsName, {
    a: ['10.0.1.5', '10.0.2.5'],
    aaaa: ['2600:1f18:1:101::5', '2600:1f18:1:102::5'],
  })
})
afterAll(() => dns.close())

describe('endpoint-aware guard', () => {
  it('allows exactly the ENI addresses, both families', () => {
    const guard = createEndpointGuard(endpoint)
    expect(guard.allows('10.0.1.5')).toBe(true)
    expect(guard.allows('2600:1f18:1:102::5')).toBe(true)
    expect(guard.allows('10.0.1.6')).toBe(false) // private, but not this endpoint
    expect(guard.allows('2600:1f18:1:101::6')).toBe(false)
    expect(guard.refusal('2600::1', 'x.example')?.code).toBe('ERR_DNS_NOT_PRIVATE')
  })

  it('subnet CIDRs widen it to the subnets, not further', () => {
    const guard = createEndpointGuard(endpoint, {
      subnetCidrs: ['10.0.1.0/24', '2600:1f18:1:101::/64'],
    })
    expect(guard.allows('10.0.1.77')).toBe(true)
    expect(guard.allows('2600:1f18:1:101::77')).toBe(true)
    expect(guard.allows('10.0.3.1')).toBe(false)
    expect(() => createEndpointGuard(endpoint, { subnetCidrs: ['10.0.1.0/'] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
  })

  it('a resolver with the endpoint ranges returns the IPv6 answers the defaults refuse', async () => {
    const defaults = createResolver({ servers: [dns.address] })
    expect((await defaults.resolve(dnsName)).addresses.map((a) => a.family)).toEqual([4, 4])
    const aware = createResolver({
      servers: [dns.address],
      allowedRanges: endpointAllowedRanges(endpoint),
    })
    expect((await aware.resolve(dnsName)).addresses.map((a) => a.address)).toEqual([
      '10.0.1.5',
      '10.0.2.5',
      '2600:1f18:1:101::5',
      '2600:1f18:1:102::5',
    ])
  })

  it('with nothing known about the endpoint, the private defaults', () => {
    const bare = endpointFromConfig({ dnsName, zones: [{ azName: 'us-west-2a' }] })
    expect(endpointAllowedRanges(bare)).toContain('10.0.0.0/8')
    // guardedConnect takes the endpoint's guard as is.
    expect(typeof guardedConnect({ guard: createEndpointGuard(endpoint) })).toBe('function')
  })
})
