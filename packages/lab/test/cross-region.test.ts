import { DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2'
import { discoverEndpoint, parseEndpointDnsName, parseServiceName } from '@privatelink/core'
import { type Lab, type LabFrontContext, startLab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Two labs as two regions: a consumer in us-west-2 whose endpoint reaches a service hosted in
// us-east-1 (cross-region PrivateLink), and an ordinary same-region lab in us-east-1.
let west: Lab
let east: Lab
const frontRegions: string[] = []

beforeAll(async () => {
  const recordingFront = {
    name: 'recorder',
    async start(context: LabFrontContext) {
      frontRegions.push(context.region)
      return { host: '127.0.0.1', port: 9, close: async () => {} }
    },
  }
  ;[west, east] = await Promise.all([
    startLab({ region: 'us-west-2', serviceRegion: 'us-east-1', fronts: [recordingFront] }),
    startLab({ region: 'us-east-1' }),
  ])
})
afterAll(() => Promise.all([west?.close(), east?.close()]))

const clientFor = (lab: Lab, region = lab.region) =>
  new EC2Client({
    endpoint: lab.aws.endpoint,
    region,
    credentials: lab.aws.credentials,
    maxAttempts: 1,
  })

describe('a cross-region endpoint in the lab', () => {
  it("names the service's region in the service name; the endpoint, zones and ENIs stay in the lab's", () => {
    expect(west.endpoint.serviceName).toMatch(
      /^com\.amazonaws\.vpce\.us-east-1\.vpce-svc-[0-9a-f]{17}$/,
    )
    expect(west.endpoint.region).toBe('us-west-2')
    expect(west.endpoint.serviceRegion).toBe('us-east-1')
    expect(parseEndpointDnsName(west.endpoint.dnsName).region).toBe('us-west-2')
    expect(west.endpoint.zones.map((z) => [z.azName, z.azId])).toEqual([
      ['us-west-2a', 'usw2-az1'],
      ['us-west-2b', 'usw2-az2'],
      ['us-west-2c', 'usw2-az3'],
    ])
    for (const zone of west.endpoint.zones)
      expect(parseEndpointDnsName(zone.dnsName!).region).toBe('us-west-2')
    // The service side (a front) checks token scopes in the service's region.
    expect(frontRegions).toEqual(['us-east-1'])
    // Same-region endpoints carry no serviceRegion: it is the endpoint's own.
    expect(east.endpoint.serviceRegion).toBeUndefined()
    expect(east.endpoint.serviceName).toMatch(/^com\.amazonaws\.vpce\.us-east-1\./)
  })

  it('the EC2 API reports ServiceRegion for every endpoint, and filters by it', async () => {
    const client = clientFor(west)
    const decoy = west.aws.addEndpoint({ serviceRegion: 'eu-west-1' })
    const { VpcEndpoints } = await client.send(new DescribeVpcEndpointsCommand({}))
    const byId = new Map(VpcEndpoints!.map((e) => [e.VpcEndpointId, e]))
    expect(byId.get(west.endpoint.id)).toMatchObject({
      ServiceName: west.endpoint.serviceName,
      ServiceRegion: 'us-east-1',
    })
    expect(byId.get(decoy)?.ServiceName).toMatch(/^com\.amazonaws\.vpce\.eu-west-1\.vpce-svc-/)
    expect(byId.get(decoy)?.ServiceRegion).toBe('eu-west-1')
    const filtered = await client.send(
      new DescribeVpcEndpointsCommand({
        Filters: [{ Name: 'service-region', Values: ['us-east-1'] }],
      }),
    )
    expect(filtered.VpcEndpoints!.map((e) => e.VpcEndpointId)).toEqual([west.endpoint.id])
    const sameRegion = await clientFor(east).send(new DescribeVpcEndpointsCommand({}))
    expect(sameRegion.VpcEndpoints![0]!.ServiceRegion).toBe('us-east-1')
  })

  it("core's parser takes the service names of cross-region services", () => {
    expect(parseServiceName(west.endpoint.serviceName!)).toMatchObject({
      kind: 'endpoint-service',
      region: 'us-east-1',
    })
    // AWS services reachable across regions name the service's region the same way.
    for (const name of ['com.amazonaws.us-west-2.kms', 'com.amazonaws.us-west-2.ecr.dkr'])
      expect(parseServiceName(name).region).toBe('us-west-2')
  })
})

describe('two labs as two regions, side by side', () => {
  it('each lab is discovered with its own EC2 client, in its own address block', async () => {
    const [fromWest, fromEast] = await Promise.all([
      discoverEndpoint({ endpointId: west.endpoint.id, client: clientFor(west) }),
      discoverEndpoint({ endpointId: east.endpoint.id, client: clientFor(east) }),
    ])
    // Discovery reports both regions of the cross-region endpoint, and one for the other.
    expect(fromWest).toEqual(west.endpoint)
    expect(fromWest).toMatchObject({ region: 'us-west-2', serviceRegion: 'us-east-1' })
    expect(fromEast).toEqual(east.endpoint)
    expect(fromEast.region).toBe('us-east-1')
    expect(fromEast.serviceRegion).toBeUndefined()
    expect(west.addressBlock).not.toBe(east.addressBlock)
    const blockOf = (address: string) => address.split('.').slice(0, 2).join('.')
    for (const [lab, endpoint] of [
      [west, fromWest],
      [east, fromEast],
    ] as const) {
      for (const zone of endpoint.zones)
        expect(`${blockOf(zone.addresses[0]!)}.0.0/16`).toBe(lab.addressBlock)
    }
  })

  it("each lab's API knows only its own endpoint and region", async () => {
    const crossed = await clientFor(east)
      .send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [west.endpoint.id] }))
      .catch((error: { name: string }) => error)
    expect(crossed).toMatchObject({ name: 'InvalidVpcEndpointId.NotFound' })
    // The west lab's key, signed for the east lab's region, at the west lab: refused.
    const wrongRegion = await clientFor(west, 'us-east-1')
      .send(new DescribeVpcEndpointsCommand({}))
      .catch((error: { name: string }) => error)
    expect(wrongRegion).toMatchObject({ name: 'AuthFailure' })
  })

  it('refuses a service region that is not a region', async () => {
    await expect(startLab({ serviceRegion: 'east' })).rejects.toThrow(/serviceRegion/)
  })
})
