import { Resolver } from 'node:dns/promises'
import { DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2'
import { type Lab, startLab } from '@privatelink/lab'
import { fromInstanceMetadata } from '@smithy/credential-provider-imds'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let lab: Lab
beforeAll(async () => {
  lab = await startLab({ privateDnsName: 'api.saas.example.com', dnsTtl: 30 })
})
afterAll(() => lab.close())

const resolver = (timeout = 1000) => {
  const r = new Resolver({ timeout, tries: 1 })
  r.setServers([lab.dns.address])
  return r
}

describe('lab DNS', () => {
  it('answers regional, zonal and private DNS names with TTLs', async () => {
    const r = resolver()
    const [a, b, c] = ['us-west-2a', 'us-west-2b', 'us-west-2c'].map((z) => lab.zone(z).address)
    expect(a).toMatch(/^127\.\d+\.1\.1$/)
    expect(await r.resolve4(lab.endpoint.dnsName, { ttl: true })).toEqual([
      { address: a, ttl: 30 },
      { address: b, ttl: 30 },
      { address: c, ttl: 30 },
    ])
    expect(await r.resolve4(lab.endpoint.zones[1]!.dnsName!)).toEqual([b])
    expect(await r.resolve4('api.saas.example.com')).toEqual([a, b, c])
    await expect(r.resolve4('nope.example.com')).rejects.toMatchObject({ code: 'ENOTFOUND' })
  })

  it('leak, SERVFAIL and silence switches', async () => {
    const r = resolver(300)
    lab.dns.override('api.saas.example.com', { a: ['52.94.133.131'] })
    expect(await r.resolve4('api.saas.example.com')).toEqual(['52.94.133.131'])
    lab.dns.override('api.saas.example.com', 'servfail')
    await expect(r.resolve4('api.saas.example.com')).rejects.toMatchObject({ code: 'ESERVFAIL' })
    lab.dns.override('api.saas.example.com', 'silent')
    await expect(r.resolve4('api.saas.example.com')).rejects.toMatchObject({ code: 'ETIMEOUT' })
    lab.dns.restore()
    expect(await r.resolve4('api.saas.example.com')).toHaveLength(3)
  })
})

describe('lab metadata', () => {
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url, { headers })
    return { status: response.status, body: await response.text() }
  }

  it('IMDSv2: token first, 401 without it, a doubled slash tolerated', async () => {
    expect(
      (await get(`${lab.metadata.imdsEndpoint}/latest/meta-data/placement/availability-zone`))
        .status,
    ).toBe(401)
    const token = await (
      await fetch(`${lab.metadata.imdsEndpoint}/latest/api/token`, {
        method: 'PUT',
        headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
      })
    ).text()
    const headers = { 'x-aws-ec2-metadata-token': token }
    expect(
      await get(
        `${lab.metadata.imdsEndpoint}/latest/meta-data/placement/availability-zone`,
        headers,
      ),
    ).toEqual({ status: 200, body: 'us-west-2a' })
    expect(
      (
        await get(
          `${lab.metadata.imdsEndpoint}//latest/meta-data/placement/availability-zone-id`,
          headers,
        )
      ).body,
    ).toBe('usw2-az1')
    lab.metadata.setZone('us-west-2c')
    expect(
      (
        await get(
          `${lab.metadata.imdsEndpoint}/latest/meta-data/placement/availability-zone-id`,
          headers,
        )
      ).body,
    ).toBe('usw2-az3')
    expect(
      (await get(`${lab.metadata.imdsEndpoint}/latest/meta-data/placement/region`, headers)).body,
    ).toBe('us-west-2')
    lab.metadata.setZone('us-west-2a')
  })

  it('works with @smithy/credential-provider-imds, and those credentials work against EC2', async () => {
    const previous = process.env['AWS_EC2_METADATA_SERVICE_ENDPOINT']
    process.env['AWS_EC2_METADATA_SERVICE_ENDPOINT'] = lab.metadata.imdsEndpoint
    try {
      const credentials = await fromInstanceMetadata({ timeout: 1000, maxRetries: 0 })()
      expect(credentials.accessKeyId).toMatch(/^ASIA/)
      const client = new EC2Client({ endpoint: lab.aws.endpoint, region: lab.region, credentials })
      const { VpcEndpoints } = await client.send(new DescribeVpcEndpointsCommand({}))
      expect(VpcEndpoints?.[0]?.VpcEndpointId).toBe(lab.endpoint.id)
    } finally {
      if (previous === undefined) delete process.env['AWS_EC2_METADATA_SERVICE_ENDPOINT']
      else process.env['AWS_EC2_METADATA_SERVICE_ENDPOINT'] = previous
    }
  })

  it('ECS task metadata v4 and the Lambda metadata endpoint', async () => {
    const task = JSON.parse((await get(`${lab.metadata.ecsMetadataUri}/task`)).body)
    expect(task.AvailabilityZone).toBe('us-west-2a')
    const lambdaUrl = `http://${lab.metadata.lambdaMetadataApi}/2026-01-15/metadata/execution-environment`
    expect((await get(lambdaUrl)).status).toBe(401)
    const answer = await get(lambdaUrl, {
      authorization: `Bearer ${lab.metadata.lambdaMetadataToken}`,
    })
    expect(JSON.parse(answer.body)).toEqual({ AvailabilityZoneID: 'usw2-az1' })
  })
})
