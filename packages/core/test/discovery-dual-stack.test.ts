import {
  createEndpointGuard,
  discoverEndpoint,
  endpointAllowedRanges,
  type PrivateLinkError,
} from '@privatelink/core'
import { createResolver } from '@privatelink/dns'
import { type LabDnsServer, startDnsServer } from '@privatelink/lab'
import { HttpResponse, http } from 'msw'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { EC2_ENDPOINT, ec2Error, SCAN_CREDENTIALS, startEc2Mock } from './aws-error-shapes.js'

// Issue 18 item 4: a dual-stack endpoint's ENIs get global unicast IPv6 from the VPC's /56, which
// the default ranges refuse. The lab's EC2 API has no IPv6 (no Ipv6Addresses on interfaces, no
// Ipv6CidrBlockAssociationSet on subnets), so these are the shapes EC2 returns, served by msw to
// the real @aws-sdk/client-ec2.
const ENDPOINT_ID = 'vpce-0123456789abcdef0'
const REGIONAL = `${ENDPOINT_ID}-abcd1234.vpce-svc-0fedcba9876543210.us-east-1.vpce.amazonaws.com`
const zonal = (az: string) =>
  `${ENDPOINT_ID}-abcd1234-${az}.vpce-svc-0fedcba9876543210.us-east-1.vpce.amazonaws.com`
const XMLNS = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"'
const ZONES = [
  {
    az: 'us-east-1a',
    azId: 'use1-az4',
    subnet: 'subnet-0aaaaaaaaaaaaaaa1',
    eni: 'eni-0aaaaaaaaaaaaaaa1',
    ipv4: '10.0.1.23',
    ipv6: '2600:1f18:abcd:1::23',
    cidr: '10.0.1.0/24',
    ipv6Cidr: '2600:1f18:abcd:1::/64',
  },
  {
    az: 'us-east-1b',
    azId: 'use1-az6',
    subnet: 'subnet-0bbbbbbbbbbbbbbb2',
    eni: 'eni-0bbbbbbbbbbbbbbb2',
    ipv4: '10.0.2.34',
    ipv6: '2600:1f18:abcd:2::34',
    cidr: '10.0.2.0/24',
    ipv6Cidr: '2600:1f18:abcd:2::/64',
  },
]

const xml = (action: string, body: string) =>
  new HttpResponse(
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response ${XMLNS}><requestId>11111111-2222-4333-8444-555555555555</requestId>${body}</${action}Response>`,
    { status: 200, headers: { 'content-type': 'text/xml;charset=UTF-8' } },
  )
const items = (list: string[]) => list.map((entry) => `<item>${entry}</item>`).join('')

const describeVpcEndpoints = () =>
  xml(
    'DescribeVpcEndpoints',
    `<vpcEndpointSet><item><vpcEndpointId>${ENDPOINT_ID}</vpcEndpointId><vpcEndpointType>Interface</vpcEndpointType><vpcId>vpc-0123456789abcdef0</vpcId><serviceName>com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210</serviceName><serviceRegion>us-east-1</serviceRegion><state>available</state><ipAddressType>dualstack</ipAddressType><subnetIdSet>${items(ZONES.map((z) => z.subnet))}</subnetIdSet><networkInterfaceIdSet>${items(ZONES.map((z) => z.eni))}</networkInterfaceIdSet><dnsEntrySet>${items([REGIONAL, ...ZONES.map((z) => zonal(z.az))].map((name) => `<dnsName>${name}</dnsName><hostedZoneId>Z7HUB22UULQXV</hostedZoneId>`))}</dnsEntrySet><privateDnsEnabled>false</privateDnsEnabled></item></vpcEndpointSet>`,
  )

const describeNetworkInterfaces = (withAzIds: boolean) => () =>
  xml(
    'DescribeNetworkInterfaces',
    `<networkInterfaceSet>${items(
      ZONES.map(
        (z) =>
          `<networkInterfaceId>${z.eni}</networkInterfaceId><subnetId>${z.subnet}</subnetId><vpcId>vpc-0123456789abcdef0</vpcId><availabilityZone>${z.az}</availabilityZone>${withAzIds ? `<availabilityZoneId>${z.azId}</availabilityZoneId>` : ''}<interfaceType>vpc_endpoint</interfaceType><status>in-use</status><privateIpAddress>${z.ipv4}</privateIpAddress><privateIpAddressesSet><item><privateIpAddress>${z.ipv4}</privateIpAddress><primary>true</primary></item></privateIpAddressesSet><ipv6AddressesSet><item><ipv6Address>${z.ipv6.toUpperCase()}</ipv6Address><isPrimaryIpv6>false</isPrimaryIpv6></item></ipv6AddressesSet><ipv6Address>${z.ipv6}</ipv6Address>`,
      ),
    )}</networkInterfaceSet>`,
  )

const describeSubnets = () =>
  xml(
    'DescribeSubnets',
    `<subnetSet>${items(
      ZONES.map(
        (z, index) =>
          `<subnetId>${z.subnet}</subnetId><vpcId>vpc-0123456789abcdef0</vpcId><state>available</state><availabilityZone>${z.az}</availabilityZone><availabilityZoneId>${z.azId}</availabilityZoneId><cidrBlock>${z.cidr}</cidrBlock><ipv6CidrBlockAssociationSet><item><associationId>subnet-cidr-assoc-0${index}</associationId><ipv6CidrBlock>${z.ipv6Cidr}</ipv6CidrBlock><ipv6CidrBlockState><state>associated</state></ipv6CidrBlockState></item><item><associationId>subnet-cidr-assoc-9${index}</associationId><ipv6CidrBlock>2600:1f18:dead:${index}::/64</ipv6CidrBlock><ipv6CidrBlockState><state>disassociated</state></ipv6CidrBlockState></item></ipv6CidrBlockAssociationSet>`,
      ),
    )}</subnetSet>`,
  )

const mock = startEc2Mock()
/** Answers by action (DescribeNetworkInterfaces and DescribeSubnets run side by side). */
const serve = (handlers: Record<string, () => Response>) =>
  mock.server.use(
    http.post(`${EC2_ENDPOINT}/`, async ({ request }) => {
      const action = new URLSearchParams(await request.text()).get('Action') ?? '?'
      mock.actions.push(action)
      return handlers[action]?.() ?? ec2Error('InvalidAction', `no ${action} here`, 400)
    }),
  )
afterEach(() => {
  mock.server.resetHandlers()
  mock.actions.splice(0)
})
afterAll(() => mock.server.close())

const discover = () =>
  discoverEndpoint({
    endpointId: ENDPOINT_ID,
    ec2ClientConfig: {
      endpoint: EC2_ENDPOINT,
      region: 'us-east-1',
      credentials: SCAN_CREDENTIALS,
      maxAttempts: 1,
    },
  })

describe('dual-stack endpoints with no setting (issue 18 item 4)', () => {
  let dns: LabDnsServer
  beforeAll(async () => {
    dns = await startDnsServer()
  })
  afterAll(() => dns.close())

  it("takes the ENIs' IPv6 addresses and the subnets' IPv4 and associated IPv6 CIDRs", async () => {
    serve({
      DescribeVpcEndpoints: describeVpcEndpoints,
      DescribeNetworkInterfaces: describeNetworkInterfaces(true),
      DescribeSubnets: describeSubnets,
    })
    const endpoint = await discover()
    expect(endpoint.zones.map((z) => [z.azName, z.azId, z.addresses, z.cidrs])).toEqual([
      [
        'us-east-1a',
        'use1-az4',
        ['10.0.1.23', '2600:1f18:abcd:1::23'],
        ['10.0.1.0/24', '2600:1f18:abcd:1::/64'],
      ],
      [
        'us-east-1b',
        'use1-az6',
        ['10.0.2.34', '2600:1f18:abcd:2::34'],
        ['10.0.2.0/24', '2600:1f18:abcd:2::/64'],
      ],
    ])
    // One DescribeSubnets for both zones, asked beside DescribeNetworkInterfaces.
    expect(mock.actions[0]).toBe('DescribeVpcEndpoints')
    expect(mock.actions.slice(1).sort()).toEqual(['DescribeNetworkInterfaces', 'DescribeSubnets'])

    // The endpoint guard lets exactly its subnets through: global unicast IPv6 included, the
    // disassociated block and the rest of the internet not.
    const guard = createEndpointGuard(endpoint)
    expect(guard.allows('2600:1f18:abcd:1::99')).toBe(true)
    expect(guard.allows('2600:1f18:abcd:2::34')).toBe(true)
    expect(guard.allows('2600:1f18:dead:0::1')).toBe(false)
    expect(guard.allows('2600::1')).toBe(false)
    expect(guard.allows('10.0.3.1')).toBe(false)
  })

  it('an AAAA answer of the endpoint passes a resolver built from the endpoint, and not the defaults', async () => {
    serve({
      DescribeVpcEndpoints: describeVpcEndpoints,
      DescribeNetworkInterfaces: describeNetworkInterfaces(true),
      DescribeSubnets: describeSubnets,
    })
    const endpoint = await discover()
    const name = zonal('us-east-1a')
    dns.set(name, { a: ['10.0.1.23'], aaaa: ['2600:1f18:abcd:1::23'] })
    const fromEndpoint = createResolver({
      servers: [dns.address],
      allowedRanges: endpointAllowedRanges(endpoint),
      family: 6,
    })
    expect((await fromEndpoint.resolve(name)).addresses.map((a) => a.address)).toEqual([
      '2600:1f18:abcd:1::23',
    ])
    const defaults = createResolver({ servers: [dns.address], family: 6 })
    await expect(defaults.resolve(name)).rejects.toMatchObject({ code: 'ERR_DNS_NOT_PRIVATE' })
  })

  it('DescribeSubnets refused while the interfaces carry AZ IDs: discovery goes on without CIDRs', async () => {
    serve({
      DescribeVpcEndpoints: describeVpcEndpoints,
      DescribeNetworkInterfaces: describeNetworkInterfaces(true),
      DescribeSubnets: () =>
        ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403),
    })
    const endpoint = await discover()
    expect(endpoint.zones.map((z) => z.cidrs)).toEqual([undefined, undefined])
    expect(endpoint.zones.map((z) => z.azId)).toEqual(['use1-az4', 'use1-az6'])
    // The ENI addresses alone still pass, as host routes.
    expect(endpointAllowedRanges(endpoint)).toEqual([
      '10.0.1.23/32',
      '2600:1f18:abcd:1::23/128',
      '10.0.2.34/32',
      '2600:1f18:abcd:2::34/128',
    ])
  })

  it('DescribeSubnets refused when only the subnets know the AZ IDs: a typed error naming it', async () => {
    serve({
      DescribeVpcEndpoints: describeVpcEndpoints,
      DescribeNetworkInterfaces: describeNetworkInterfaces(false),
      DescribeSubnets: () =>
        ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403),
    })
    const error = await discover().then(
      () => expect.unreachable(),
      (e: PrivateLinkError) => e,
    )
    expect(error.code).toBe('ERR_DISCOVERY_FAILED')
    expect(error.message).toMatch(/^DescribeSubnets failed: UnauthorizedOperation/)
    expect(error.hint).toMatch(/ec2:DescribeSubnets/)
  })

  it("an endpoint not found names the cross-region rule: the endpoint's region, not the service's", async () => {
    serve({ DescribeVpcEndpoints: () => xml('DescribeVpcEndpoints', '<vpcEndpointSet/>') })
    const error = await discover().then(
      () => expect.unreachable(),
      (e: PrivateLinkError) => e,
    )
    expect(error.code).toBe('ERR_ENDPOINT_NOT_FOUND')
    expect(error.hint).toContain(
      "For a cross-region service, pass the endpoint's region (where your VPC is), not the service's.",
    )
  })
})
