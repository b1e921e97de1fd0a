import { DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2'
import {
  createConnector,
  createEndpointDiscovery,
  discoverEndpoint,
  type Endpoint,
  endpointAllowedRanges,
  endpointFromConfig,
  endpointFromEnv,
  endpointsFromEnv,
  type PrivateLinkError,
} from '@privatelink/core'
import { PORT_MAP_TAG as LAB_PORT_MAP_TAG, type Lab, startLab } from '@privatelink/lab'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PORT_MAP_TAG, parsePortMap } from '../src/port-map-tag.js'

let lab: Lab
beforeAll(async () => {
  lab = await startLab({ privateDnsName: 'api.saas.example.com' })
})
afterAll(() => lab.close())
beforeEach(() => {
  lab.aws.setEndpointState('available')
  lab.aws.setInterfaceAzIds(true)
})

const config = () => ({
  endpoint: lab.aws.endpoint,
  region: lab.region,
  credentials: lab.aws.credentials,
  maxAttempts: 1,
})
/**
 * The lab's endpoint with each zone's subnet CIDRs as the lab's own EC2 inventory lists them (the
 * lab's model does not carry them; DescribeSubnets does).
 */
const withSubnetCidrs = (which: Lab): Endpoint => ({
  ...which.endpoint,
  zones: which.endpoint.zones.map((zone) => ({
    ...zone,
    cidrs: which.aws.inventory.subnets
      .filter((subnet) => subnet.subnetId === zone.subnetId)
      .map((subnet) => subnet.cidrBlock),
  })),
})
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable(),
    (e: PrivateLinkError) => e,
  )

describe('discoverEndpoint against the lab EC2 API', () => {
  it('describes the endpoint by id: regional, zonal and private names, addresses and AZ IDs', async () => {
    const endpoint = await discoverEndpoint({
      endpointId: lab.endpoint.id,
      ec2ClientConfig: config(),
    })
    // The lab's own model, port maps included (none here: it fronts no service), plus the
    // subnets' CIDRs.
    expect(endpoint).toEqual(withSubnetCidrs(lab))
    expect(endpoint.privateDnsName).toBe('api.saas.example.com')
  })

  it('each zone carries its subnet CIDR (IPv4 path); the endpoint guard lets ENIs and subnets through', async () => {
    const endpoint = await discoverEndpoint({
      endpointId: lab.endpoint.id,
      ec2ClientConfig: config(),
    })
    expect(endpoint.zones.map((z) => z.cidrs)).toEqual([
      ['10.0.0.0/24'],
      ['10.0.1.0/24'],
      ['10.0.2.0/24'],
    ])
    expect(endpointAllowedRanges(endpoint).sort()).toEqual(
      [
        ...lab.endpoint.zones.map((z) => `${z.addresses[0]}/32`),
        '10.0.0.0/24',
        '10.0.1.0/24',
        '10.0.2.0/24',
      ].sort(),
    )
  })

  it('finds it by service name, paging past decoys, and takes AZ IDs from subnets when interfaces lack them', async () => {
    for (let i = 0; i < 120; i++) lab.aws.addEndpoint()
    lab.aws.setInterfaceAzIds(false)
    const before = lab.aws.requests.length
    const endpoint = await discoverEndpoint({
      serviceName: lab.endpoint.serviceName!,
      ec2ClientConfig: config(),
    })
    expect(endpoint.id).toBe(lab.endpoint.id)
    expect(endpoint.zones.map((z) => z.azId)).toEqual(['usw2-az1', 'usw2-az2', 'usw2-az3'])
    // One DescribeSubnets gives both the AZ IDs and the CIDRs; it runs beside
    // DescribeNetworkInterfaces, so their order is not fixed.
    const actions = lab.aws.requests.slice(before).map((r) => r.action)
    expect(actions[0]).toBe('DescribeVpcEndpoints')
    expect(actions.slice(1).sort()).toEqual(['DescribeNetworkInterfaces', 'DescribeSubnets'])
    expect(endpoint.zones.every((z) => z.cidrs?.length === 1)).toBe(true)
    // The lab pages at MaxResults: unfiltered listing really spans pages.
    const client = new EC2Client(config())
    const first = await client.send(new DescribeVpcEndpointsCommand({ MaxResults: 100 }))
    expect(first.NextToken).toBeDefined()
  })

  it('reports ambiguity, listing the matches', async () => {
    const serviceName = 'com.amazonaws.vpce.us-west-2.vpce-svc-0aaaaaaaaaaaaaaaa'
    const a = lab.aws.addEndpoint({ serviceName, vpcId: 'vpc-0aaaaaaaaaaaaaaaa' })
    const b = lab.aws.addEndpoint({ serviceName, vpcId: 'vpc-0bbbbbbbbbbbbbbbb' })
    const error = await failure(discoverEndpoint({ serviceName, ec2ClientConfig: config() }))
    expect(error.code).toBe('ERR_AMBIGUOUS_ENDPOINT')
    expect(error.details['matches']).toEqual([
      { id: a, vpcId: 'vpc-0aaaaaaaaaaaaaaaa', state: 'available' },
      { id: b, vpcId: 'vpc-0bbbbbbbbbbbbbbbb', state: 'available' },
    ])
    expect(error.hint).toMatch(/vpcId/)
    const narrowed = await discoverEndpoint({
      serviceName,
      vpcId: 'vpc-0bbbbbbbbbbbbbbbb',
      ec2ClientConfig: config(),
    })
    expect(narrowed.id).toBe(b)
  })

  it.each([
    ['pendingAcceptance', /provider must accept/],
    ['pending', /being created/],
    ['rejected', /allowed principals/],
    ['expired', /expired/],
    ['failed', /FailureReason/],
    ['deleting', /deleted/],
  ])('a %s endpoint raises ERR_ENDPOINT_NOT_AVAILABLE with a hint', async (state, hint) => {
    lab.aws.setEndpointState(state)
    const error = await failure(
      discoverEndpoint({ endpointId: lab.endpoint.id, ec2ClientConfig: config() }),
    )
    expect(error.code).toBe('ERR_ENDPOINT_NOT_AVAILABLE')
    expect(error.details).toEqual({ endpointId: lab.endpoint.id, state })
    expect(error.hint).toMatch(hint)
  })

  it('maps not-found and auth failures to typed errors without leaking the secret', async () => {
    const missing = await failure(
      discoverEndpoint({ endpointId: 'vpce-0000000000000000a', ec2ClientConfig: config() }),
    )
    expect(missing.code).toBe('ERR_ENDPOINT_NOT_FOUND')
    const denied = await failure(
      discoverEndpoint({
        endpointId: lab.endpoint.id,
        ec2ClientConfig: {
          ...config(),
          credentials: {
            accessKeyId: lab.aws.credentials.accessKeyId,
            secretAccessKey: 'hunter2-wrong',
          },
        },
      }),
    )
    expect(denied.code).toBe('ERR_DISCOVERY_FAILED')
    expect(denied.hint).toMatch(/ec2:DescribeVpcEndpoints/)
    expect(JSON.stringify(denied)).not.toContain('hunter2')
    expect(JSON.stringify(denied)).not.toContain(lab.aws.credentials.secretAccessKey)
  })

  it('caches with a TTL and merges concurrent calls', async () => {
    let now = 0
    const discovery = createEndpointDiscovery({ cacheTtlMs: 60_000, clock: () => now })
    const before = lab.aws.requests.length
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        discovery.discover({ endpointId: lab.endpoint.id, ec2ClientConfig: config() }),
      ),
    )
    expect(new Set(results).size).toBe(1)
    // DescribeVpcEndpoints, then DescribeNetworkInterfaces and DescribeSubnets side by side.
    expect(lab.aws.requests.length - before).toBe(3)
    now += 59_999
    await discovery.discover({ endpointId: lab.endpoint.id, ec2ClientConfig: config() })
    expect(lab.aws.requests.length - before).toBe(3)
    now += 1
    await discovery.discover({ endpointId: lab.endpoint.id, ec2ClientConfig: config() })
    expect(lab.aws.requests.length - before).toBe(6)
  })

  describe('port maps from the privatelink:port-map tags', () => {
    const withTags = async (tags: { key: string; value: string }[]) => {
      const own = lab.aws.inventory.endpoints.find((e) => e.vpcEndpointId === lab.endpoint.id)!
      const saved = own.tags
      own.tags = tags
      try {
        return await discoverEndpoint({ endpointId: lab.endpoint.id, ec2ClientConfig: config() })
      } finally {
        own.tags = saved
      }
    }

    it('endpoint-wide pairs apply to every zone; a zone tag (by AZ name or ID) overrides them', async () => {
      const endpoint = await withTags([
        { key: 'Name', value: 'not a port map' },
        { key: 'privatelink:port-map', value: '443=10443,5432=15432' },
        { key: 'privatelink:port-map:us-west-2b', value: '443=20443' },
        { key: 'privatelink:port-map:usw2-az3', value: '5432=5433 6379=16379' },
        { key: 'privatelink:port-map:us-west-2z', value: '443=1' },
      ])
      expect(endpoint.zones.map((z) => [z.azName, z.portMap])).toEqual([
        ['us-west-2a', { '443': 10443, '5432': 15432 }],
        ['us-west-2b', { '443': 20443, '5432': 15432 }],
        ['us-west-2c', { '443': 10443, '5432': 5433, '6379': 16379 }],
      ])
      // PRIVATELINK_ENDPOINTS carries them on.
      expect(endpointFromConfig(JSON.stringify(endpoint))).toEqual(endpoint)
    })

    it('no tag: no portMap, every zone is dialled on the listener port', async () => {
      const endpoint = await withTags([])
      expect(endpoint.zones.every((z) => z.portMap === undefined)).toBe(true)
    })

    it.each([
      '',
      '443',
      '443=',
      '=443',
      '0=10443',
      '443=70000',
      '443=10443,443=20443',
      '443:10443',
      '443=10443;5432=15432',
      '0443=10443',
      'https=10443',
    ])('a malformed value %j fails discovery with ERR_INVALID_PORT_MAP', async (value) => {
      const error = await failure(withTags([{ key: 'privatelink:port-map:us-west-2a', value }]))
      expect(error.code).toBe('ERR_INVALID_PORT_MAP')
      expect(error.message).toContain(lab.endpoint.id)
      expect(error.details).toEqual({
        endpointId: lab.endpoint.id,
        key: 'privatelink:port-map:us-west-2a',
        value,
      })
      expect(error.hint).toMatch(/443=10443/)
    })
  })

  it('a static config gives the same Endpoint as discovery', async () => {
    const discovered = await discoverEndpoint({
      endpointId: lab.endpoint.id,
      ec2ClientConfig: config(),
    })
    const fromConfig = endpointFromConfig(JSON.parse(JSON.stringify(discovered)))
    expect(fromConfig).toEqual(discovered)
    const minimal = endpointFromConfig({
      dnsName: discovered.dnsName,
      zones: discovered.zones.map((z) => ({
        azName: z.azName,
        azId: z.azId!,
        addresses: z.addresses,
      })),
    })
    expect(minimal.zones.map((z) => z.dnsName)).toEqual(discovered.zones.map((z) => z.dnsName))
  })
})

describe('cross-region PrivateLink: the service in another region than the endpoint', () => {
  let crossLab: Lab
  beforeAll(async () => {
    crossLab = await startLab({ region: 'us-west-2', serviceRegion: 'us-east-1' })
  })
  afterAll(() => crossLab.close())
  const crossConfig = () => ({
    endpoint: crossLab.aws.endpoint,
    region: crossLab.region,
    credentials: crossLab.aws.credentials,
    maxAttempts: 1,
  })

  it("reports both regions: zones in the endpoint's, serviceRegion from the EC2 API", async () => {
    const endpoint = await discoverEndpoint({
      endpointId: crossLab.endpoint.id,
      ec2ClientConfig: crossConfig(),
    })
    expect(endpoint).toEqual(withSubnetCidrs(crossLab))
    expect(endpoint).toMatchObject({ region: 'us-west-2', serviceRegion: 'us-east-1' })
    expect(endpoint.zones.map((z) => z.azName)).toEqual(['us-west-2a', 'us-west-2b', 'us-west-2c'])
    const byName = await discoverEndpoint({
      serviceName: crossLab.endpoint.serviceName!,
      ec2ClientConfig: crossConfig(),
    })
    expect(byName.id).toBe(crossLab.endpoint.id)
  })

  it('PRIVATELINK_ENDPOINTS from lab.endpointJson() keeps serviceRegion: the connector signs for us-east-1', () => {
    const [fromEnv] = endpointsFromEnv({ PRIVATELINK_ENDPOINTS: crossLab.endpointJson() })
    expect(fromEnv).toEqual(crossLab.endpoint)
    expect(fromEnv).toMatchObject({ region: 'us-west-2', serviceRegion: 'us-east-1' })
    expect(
      endpointFromEnv(crossLab.endpoint.id, { PRIVATELINK_ENDPOINTS: crossLab.endpointJson() })
        .serviceRegion,
    ).toBe('us-east-1')
    const connector = createConnector({
      endpoint: fromEnv!,
      port: 443,
      locality: { source: 'options', azName: 'us-west-2a' },
    })
    try {
      // Zones stay the consumer's; tokens and SigV4 use the service's region.
      expect(connector.targets.map((t) => t.region)).toEqual(['us-east-1'])
      expect(connector.preferredZones()[0]!.azName).toBe('us-west-2a')
    } finally {
      connector.close()
    }
  })

  it('API shapes without ServiceRegion: the service name tells', async () => {
    const real = new EC2Client(crossConfig())
    // The real lab API, minus the field older API versions do not send.
    const withoutServiceRegion = {
      async send(command: unknown) {
        const output = (await real.send(command as never)) as {
          VpcEndpoints?: { ServiceRegion?: string }[]
        }
        for (const endpoint of output.VpcEndpoints ?? []) delete endpoint.ServiceRegion
        return output
      },
    }
    const endpoint = await discoverEndpoint({
      endpointId: crossLab.endpoint.id,
      client: withoutServiceRegion,
    })
    expect(endpoint.serviceRegion).toBe('us-east-1')
  })

  it("asks the EC2 API of AWS_REGION, not the service name's region, when no region is given", async () => {
    const { region: _, ...withoutRegion } = crossConfig()
    const saved = process.env['AWS_REGION']
    try {
      process.env['AWS_REGION'] = 'us-west-2'
      const endpoint = await discoverEndpoint({
        serviceName: crossLab.endpoint.serviceName!,
        ec2ClientConfig: withoutRegion,
      })
      expect(endpoint.serviceRegion).toBe('us-east-1')
      // No AWS_REGION: the service name's region is the last guess, and for a cross-region
      // service it is the wrong API (the lab refuses a signature scoped to us-east-1).
      delete process.env['AWS_REGION']
      const before = crossLab.aws.requests.length
      const error = await failure(
        discoverEndpoint({
          serviceName: crossLab.endpoint.serviceName!,
          ec2ClientConfig: withoutRegion,
        }),
      )
      expect(error.code).toBe('ERR_DISCOVERY_FAILED')
      // The hint points the right way: the endpoint's region, not the one in the service name.
      expect(error.hint).toContain(
        "For a cross-region service, pass the endpoint's region (where your VPC is), not the service's.",
      )
      expect(crossLab.aws.requests.slice(before)).toEqual([
        { service: 'ec2', action: 'DescribeVpcEndpoints', status: 401 },
      ])
    } finally {
      if (saved === undefined) delete process.env['AWS_REGION']
      else process.env['AWS_REGION'] = saved
    }
  })
})

describe('the port-map tag: one key for the lab and core', () => {
  it('the lab (which may not import core at run time) keeps a copy that agrees', () => {
    expect(LAB_PORT_MAP_TAG).toBe(PORT_MAP_TAG)
    expect(parsePortMap('443=10443,5432=15432')).toEqual({
      '443': 10443,
      '5432': 15432,
    })
  })
})
