import { execFile } from 'node:child_process'
import { Resolver } from 'node:dns/promises'
import { connect } from 'node:tls'
import { promisify } from 'node:util'
import {
  DescribeManagedPrefixListsCommand,
  DescribeRouteTablesCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  GetManagedPrefixListEntriesCommand,
} from '@aws-sdk/client-ec2'
import { type Lab, type S3Front, s3Front, startLab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let lab: Lab
let front: S3Front

beforeAll(async () => {
  front = s3Front({ buckets: ['orders-archive'] })
  lab = await startLab({ fronts: [front], gateway: { service: 's3', front: 's3' } })
})
afterAll(() => lab?.close())

const ec2 = () =>
  new EC2Client({
    endpoint: lab.aws.endpoint,
    region: lab.aws.region,
    credentials: lab.aws.credentials,
    maxAttempts: 1,
  })

describe('managed prefix lists (real @aws-sdk/client-ec2)', () => {
  it("S3's and DynamoDB's lists by name, their entries paged; the gateway's range in S3's", async () => {
    const client = ec2()
    const { PrefixLists } = await client.send(
      new DescribeManagedPrefixListsCommand({
        Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${lab.region}.s3`] }],
      }),
    )
    expect(PrefixLists).toEqual([
      expect.objectContaining({
        PrefixListId: 'pl-68a54001',
        PrefixListName: 'com.amazonaws.us-west-2.s3',
        AddressFamily: 'IPv4',
        OwnerId: 'AWS',
        Version: 2,
      }),
    ])
    const first = await client.send(
      new GetManagedPrefixListEntriesCommand({ PrefixListId: 'pl-68a54001', MaxResults: 3 }),
    )
    const rest = await client.send(
      new GetManagedPrefixListEntriesCommand({
        PrefixListId: 'pl-68a54001',
        NextToken: first.NextToken!,
      }),
    )
    const cidrs = [...first.Entries!, ...rest.Entries!].map((e) => e.Cidr)
    expect(cidrs).toHaveLength(5)
    expect(cidrs).toContain(lab.gateway!.cidr)
    const dynamodb = await client.send(
      new GetManagedPrefixListEntriesCommand({ PrefixListId: 'pl-00a54069' }),
    )
    expect(dynamodb.Entries!.map((e) => e.Cidr)).not.toContain(lab.gateway!.cidr)
    await expect(
      client.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: 'pl-00000000' })),
    ).rejects.toMatchObject({ name: 'InvalidPrefixListID.NotFound' })
    client.destroy()
  })

  it('the gateway endpoint: type Gateway, its route from the main table to the prefix list', async () => {
    const client = ec2()
    const { VpcEndpoints } = await client.send(
      new DescribeVpcEndpointsCommand({
        Filters: [{ Name: 'vpc-endpoint-type', Values: ['Gateway'] }],
      }),
    )
    expect(VpcEndpoints).toEqual([
      expect.objectContaining({
        VpcEndpointId: lab.gateway!.endpointId,
        ServiceName: 'com.amazonaws.us-west-2.s3',
        RouteTableIds: [...lab.gateway!.routeTableIds],
      }),
    ])
    const { RouteTables } = await client.send(
      new DescribeRouteTablesCommand({ RouteTableIds: [...lab.gateway!.routeTableIds] }),
    )
    expect(RouteTables![0]!.Routes).toContainEqual(
      expect.objectContaining({
        DestinationPrefixListId: 'pl-68a54001',
        GatewayId: lab.gateway!.endpointId,
      }),
    )
    client.destroy()
  })
})

describe('gateway mode', () => {
  it("the service answers at an address outside the lab's block, which its regional name resolves to", async () => {
    const { address, hostname, port } = lab.gateway!
    expect(hostname).toBe('s3.us-west-2.amazonaws.com')
    expect(address.split('.')[1]).not.toBe(lab.addressBlock.split('.')[1])
    const resolver = new Resolver({ timeout: 1000, tries: 1 })
    resolver.setServers([lab.dns.address])
    expect(await resolver.resolve4(hostname)).toEqual([address])
    // The front presents S3's public names there, as S3 does behind a gateway endpoint.
    const verified = await new Promise<string>((resolve) => {
      const socket = connect({
        host: address,
        port,
        servername: 'orders-archive.s3.us-west-2.amazonaws.com',
        ca: lab.ca.certificatePem,
      })
      socket.once('secureConnect', () => {
        socket.destroy()
        resolve('ok')
      })
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
    })
    expect(verified).toBe('ok')
  })
})

const awsCli = promisify(execFile)
const hasAwsCli = await awsCli('aws', ['--version']).then(
  () => true,
  () => false,
)

// The AWS CLI's parser (botocore; v1 on this machine, v2 where installed) must accept the answers.
describe.skipIf(!hasAwsCli)('the AWS CLI lists the prefix lists', () => {
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

  // Each CLI start costs seconds of Python on a loaded machine: both at once, and room to finish.
  it('describe-managed-prefix-lists and get-managed-prefix-list-entries', {
    timeout: 60_000,
  }, async () => {
    const [lists, entries] = await Promise.all([
      run('describe-managed-prefix-lists'),
      run('get-managed-prefix-list-entries', '--prefix-list-id', 'pl-68a54001'),
    ])
    expect(lists.PrefixLists.map((p: { PrefixListName: string }) => p.PrefixListName)).toEqual([
      'com.amazonaws.us-west-2.s3',
      'com.amazonaws.us-west-2.dynamodb',
    ])
    expect(entries.Entries.map((e: { Cidr: string }) => e.Cidr)).toContain(lab.gateway!.cidr)
  })
})
