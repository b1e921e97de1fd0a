import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import {
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FULL_ACCESS_POLICY, labNetwork } from '../src/ec2-network.js'

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

describe('the network around the endpoint (real @aws-sdk/client-ec2)', () => {
  it('healthy: the endpoint has a group admitting TCP from the VPC, the lab policy, the default ACL and main route table', async () => {
    const client = ec2()
    const { VpcEndpoints } = await client.send(
      new DescribeVpcEndpointsCommand({ VpcEndpointIds: [lab.endpoint.id] }),
    )
    const endpoint = VpcEndpoints![0]!
    expect(endpoint.Groups).toEqual([
      { GroupId: expect.stringMatching(/^sg-/), GroupName: 'privatelink-lab-endpoint' },
    ])
    const policy = JSON.parse(endpoint.PolicyDocument!)
    expect(policy.Statement[0]).toMatchObject({
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${lab.aws.accountId}:root` },
    })

    const { SecurityGroups } = await client.send(
      new DescribeSecurityGroupsCommand({ GroupIds: [endpoint.Groups![0]!.GroupId!] }),
    )
    expect(SecurityGroups![0]!.IpPermissions).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 0,
        ToPort: 65535,
        IpRanges: [{ CidrIp: '10.0.0.0/16', Description: 'lab: TCP from the VPC' }],
      }),
    ])
    expect(SecurityGroups![0]!.IpPermissionsEgress![0]).toMatchObject({ IpProtocol: '-1' })
    expect(SecurityGroups![0]!.IpPermissionsEgress![0]!.FromPort).toBeUndefined()

    const { Vpcs } = await client.send(new DescribeVpcsCommand({ VpcIds: [lab.endpoint.vpcId!] }))
    expect(Vpcs![0]).toMatchObject({ VpcId: lab.endpoint.vpcId, CidrBlock: '10.0.0.0/16' })

    const subnetId = lab.endpoint.zones[1]!.subnetId!
    const { NetworkAcls } = await client.send(
      new DescribeNetworkAclsCommand({
        Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }],
      }),
    )
    expect(NetworkAcls).toHaveLength(1)
    expect(NetworkAcls![0]!.IsDefault).toBe(true)
    expect(NetworkAcls![0]!.Associations!.map((a) => a.SubnetId)).toContain(subnetId)
    expect(NetworkAcls![0]!.Entries!.map((e) => [e.Egress, e.RuleNumber, e.RuleAction])).toEqual([
      [false, 100, 'allow'],
      [false, 32767, 'deny'],
      [true, 100, 'allow'],
      [true, 32767, 'deny'],
    ])

    const { RouteTables } = await client.send(
      new DescribeRouteTablesCommand({
        Filters: [{ Name: 'vpc-id', Values: [lab.endpoint.vpcId!] }],
      }),
    )
    expect(RouteTables![0]!.Associations![0]!.Main).toBe(true)
    expect(RouteTables![0]!.Routes).toEqual([
      expect.objectContaining({ DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local' }),
    ])
    client.destroy()
  })

  it('faults: a missing rule, a deny ACL entry in one subnet, a full-access policy, a gateway endpoint', async () => {
    const network = labNetwork(lab.aws.inventory)
    network.allowOnlyPorts([443])
    const subnetId = lab.endpoint.zones[1]!.subnetId!
    const aclId = network.denyAclEntry({ subnetId, port: 8443 })
    network.setPolicy(FULL_ACCESS_POLICY)
    const gatewayId = network.addGatewayEndpoint('s3')
    const client = ec2()

    const { SecurityGroups } = await client.send(new DescribeSecurityGroupsCommand({}))
    expect(SecurityGroups![0]!.IpPermissions).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ])
    const { NetworkAcls } = await client.send(
      new DescribeNetworkAclsCommand({
        Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }],
      }),
    )
    expect(NetworkAcls!.map((a) => a.NetworkAclId)).toEqual([aclId])
    expect(NetworkAcls![0]!.Entries![0]).toMatchObject({
      RuleNumber: 90,
      Protocol: '6',
      RuleAction: 'deny',
      Egress: false,
      PortRange: { From: 8443, To: 8443 },
    })
    // The other subnets stay on the default ACL.
    const other = await client.send(
      new DescribeNetworkAclsCommand({
        Filters: [{ Name: 'association.subnet-id', Values: [lab.endpoint.zones[0]!.subnetId!] }],
      }),
    )
    expect(other.NetworkAcls![0]!.IsDefault).toBe(true)

    const { VpcEndpoints } = await client.send(
      new DescribeVpcEndpointsCommand({
        Filters: [{ Name: 'vpc-endpoint-type', Values: ['Gateway'] }],
      }),
    )
    expect(VpcEndpoints).toEqual([
      expect.objectContaining({
        VpcEndpointId: gatewayId,
        ServiceName: `com.amazonaws.${lab.region}.s3`,
        RouteTableIds: [expect.stringMatching(/^rtb-/)],
      }),
    ])
    const lab1 = await client.send(
      new DescribeVpcEndpointsCommand({ VpcEndpointIds: [lab.endpoint.id] }),
    )
    expect(JSON.parse(lab1.VpcEndpoints![0]!.PolicyDocument!).Statement[0].Principal).toBe('*')
    const { RouteTables } = await client.send(new DescribeRouteTablesCommand({}))
    expect(RouteTables![0]!.Routes).toContainEqual(
      expect.objectContaining({ DestinationPrefixListId: 'pl-68a54001', GatewayId: gatewayId }),
    )
    client.destroy()
  })

  it('unknown IDs and filters are refused as EC2 does', async () => {
    const client = ec2()
    await expect(
      client.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-0000000000000000'] })),
    ).rejects.toMatchObject({ name: 'InvalidGroup.NotFound' })
    await expect(
      client.send(
        new DescribeNetworkAclsCommand({ Filters: [{ Name: 'owner-id', Values: ['1'] }] }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' })
    client.destroy()
  })
})

const awsCli = promisify(execFile)
const hasAwsCli = await awsCli('aws', ['--version']).then(
  () => true,
  () => false,
)

// The machine has the AWS CLI v1 (botocore): its parser must accept every answer too.
describe.skipIf(!hasAwsCli)('the AWS CLI reads the same answers', () => {
  const run = async (...args: string[]) => {
    const { stdout } = await awsCli(
      'aws',
      ['ec2', ...args, '--endpoint-url', lab.aws.endpoint, '--output', 'json'],
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
    return JSON.parse(stdout)
  }

  it('describe-security-groups, describe-network-acls, describe-route-tables, describe-vpcs, describe-vpc-endpoints', async () => {
    labNetwork(lab.aws.inventory).addGatewayEndpoint('dynamodb')
    const groups = await run('describe-security-groups')
    expect(groups.SecurityGroups[0].IpPermissions[0]).toMatchObject({
      IpProtocol: 'tcp',
      FromPort: 0,
      ToPort: 65535,
      IpRanges: [{ CidrIp: '10.0.0.0/16' }],
    })
    const acls = await run(
      'describe-network-acls',
      '--filters',
      `Name=association.subnet-id,Values=${lab.endpoint.zones[0]!.subnetId}`,
    )
    expect(acls.NetworkAcls[0].Entries).toHaveLength(4)
    const tables = await run('describe-route-tables')
    expect(tables.RouteTables[0].Routes).toHaveLength(2)
    const vpcs = await run('describe-vpcs')
    expect(vpcs.Vpcs[0].CidrBlock).toBe('10.0.0.0/16')
    const endpoints = await run('describe-vpc-endpoints')
    expect(
      endpoints.VpcEndpoints.map((e: { VpcEndpointType: string }) => e.VpcEndpointType),
    ).toEqual(['Interface', 'Gateway'])
    expect(endpoints.VpcEndpoints[0].Groups[0].GroupName).toBe('privatelink-lab-endpoint')
    expect(typeof endpoints.VpcEndpoints[0].PolicyDocument).toBe('string')
  })
})
