import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { DescribeDhcpOptionsCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { labNetwork } from '../src/ec2-network.js'

// The seed's DNS flow starts at the VPC's DHCP options: AmazonProvidedDNS, or servers that must
// forward to the VPC resolver. The lab's VPC has AWS's default set; a fault swaps in custom servers.
let lab: Lab

beforeAll(async () => {
  lab = await startLab()
})
afterAll(() => lab.close())
afterEach(() => labNetwork(lab.aws.inventory).reset())

const ec2 = () =>
  new EC2Client({
    endpoint: lab.aws.endpoint,
    region: lab.aws.region,
    credentials: lab.aws.credentials,
    maxAttempts: 1,
  })

/** The VPC's set as the SDK reads it: ID, then each key's values. */
async function vpcSet(client: EC2Client) {
  const vpcId = lab.aws.inventory.endpoints[0]!.vpcId
  const { Vpcs } = await client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))
  const id = Vpcs?.[0]?.DhcpOptionsId
  const { DhcpOptions } = await client.send(
    new DescribeDhcpOptionsCommand({ DhcpOptionsIds: [id!] }),
  )
  const values = Object.fromEntries(
    (DhcpOptions?.[0]?.DhcpConfigurations ?? []).map((c) => [
      c.Key,
      (c.Values ?? []).map((v) => v.Value),
    ]),
  )
  return { id, values }
}

describe('the VPC DHCP options set (real @aws-sdk/client-ec2)', () => {
  it('healthy: a dopt- set with AmazonProvidedDNS and <region>.compute.internal', async () => {
    const client = ec2()
    const { id, values } = await vpcSet(client)
    expect(id).toMatch(/^dopt-[0-9a-f]+$/)
    expect(values).toEqual({
      'domain-name': [`${lab.region}.compute.internal`],
      'domain-name-servers': ['AmazonProvidedDNS'],
    })
    client.destroy()
  })

  it('fault: setDhcpDnsServers associates a set of custom servers; reset() brings AmazonProvidedDNS back', async () => {
    const client = ec2()
    const network = labNetwork(lab.aws.inventory)
    const made = network.setDhcpDnsServers(['10.0.0.2', '10.0.1.53'])
    const { id, values } = await vpcSet(client)
    expect(id).toBe(made)
    expect(values['domain-name-servers']).toEqual(['10.0.0.2', '10.0.1.53'])
    network.reset()
    expect((await vpcSet(client)).values['domain-name-servers']).toEqual(['AmazonProvidedDNS'])
    client.destroy()
  })

  it('an unknown set is refused as EC2 does', async () => {
    const client = ec2()
    await expect(
      client.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: ['dopt-00000000'] })),
    ).rejects.toMatchObject({ name: 'InvalidDhcpOptionID.NotFound' })
    client.destroy()
  })
})

const awsCli = promisify(execFile)
const hasAwsCli = await awsCli('aws', ['--version']).then(
  () => true,
  () => false,
)

describe.skipIf(!hasAwsCli)('the AWS CLI reads the same answer', () => {
  it('describe-dhcp-options', async () => {
    labNetwork(lab.aws.inventory).setDhcpDnsServers(['10.0.0.2'])
    const { stdout } = await awsCli(
      'aws',
      ['ec2', 'describe-dhcp-options', '--endpoint-url', lab.aws.endpoint, '--output', 'json'],
      {
        env: {
          PATH: process.env['PATH'],
          HOME: process.env['HOME'],
          AWS_ACCESS_KEY_ID: lab.aws.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: lab.aws.credentials.secretAccessKey,
          AWS_DEFAULT_REGION: lab.region,
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        },
      },
    )
    const sets = JSON.parse(stdout).DhcpOptions as {
      DhcpOptionsId: string
      DhcpConfigurations: { Key: string; Values: { Value: string }[] }[]
    }[]
    const servers = sets.map(
      (set) => set.DhcpConfigurations.find((c) => c.Key === 'domain-name-servers')!.Values,
    )
    expect(servers).toEqual([[{ Value: 'AmazonProvidedDNS' }], [{ Value: '10.0.0.2' }]])
    expect(sets.every((set) => set.DhcpOptionsId.startsWith('dopt-'))).toBe(true)
  })
})
