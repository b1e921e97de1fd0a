import {
  DescribeAvailabilityZonesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  paginateDescribeVpcEndpoints,
} from '@aws-sdk/client-ec2'
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let lab: Lab
let now = Date.parse('2026-11-26T12:00:00Z')

beforeAll(async () => {
  lab = await startLab({ clock: () => now })
})
afterAll(() => lab.close())

// The lab clock is pinned hours away from the real one, and the lab refuses a signature more
// than 5 minutes off its clock, as AWS does. A client told the offset up front signs in lab time
// (with maxAttempts: 1 there is no retry for the SDK's own skew correction to use; that correction,
// from the lab's Date header, is tested in aws-signatures.test.ts).
const labTime = () => ({ systemClockOffset: now - Date.now() })
const ec2 = (
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = lab.aws
    .credentials,
) =>
  new EC2Client({
    endpoint: lab.aws.endpoint,
    region: lab.aws.region,
    credentials,
    maxAttempts: 1,
    ...labTime(),
  })
const sts = () =>
  new STSClient({
    endpoint: lab.aws.endpoint,
    region: lab.aws.region,
    credentials: lab.aws.credentials,
    maxAttempts: 1,
    ...labTime(),
  })

describe('EC2 API', () => {
  it('pages through DescribeVpcEndpoints and finds the lab endpoint with its ENIs and AZ IDs', async () => {
    const decoys = [lab.aws.addEndpoint(), lab.aws.addEndpoint(), lab.aws.addEndpoint()]
    const client = ec2()
    const ids: string[] = []
    let pages = 0
    for await (const page of paginateDescribeVpcEndpoints({ client, pageSize: 2 }, {})) {
      pages++
      ids.push(...(page.VpcEndpoints ?? []).map((e) => e.VpcEndpointId!))
    }
    expect(pages).toBe(2)
    expect(ids).toEqual([lab.endpoint.id, ...decoys])

    const { VpcEndpoints } = await client.send(
      new DescribeVpcEndpointsCommand({ VpcEndpointIds: [lab.endpoint.id] }),
    )
    const endpoint = VpcEndpoints![0]!
    expect(endpoint).toMatchObject({
      State: 'available',
      ServiceName: lab.endpoint.serviceName,
      VpcEndpointType: 'Interface',
    })
    expect(endpoint.DnsEntries![0]!.DnsName).toBe(lab.endpoint.dnsName)
    const { NetworkInterfaces } = await client.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: endpoint.NetworkInterfaceIds }),
    )
    expect(
      NetworkInterfaces!.map((n) => [n.AvailabilityZone, n.AvailabilityZoneId, n.PrivateIpAddress]),
    ).toEqual([
      ['us-west-2a', 'usw2-az1', lab.zone('us-west-2a').address],
      ['us-west-2b', 'usw2-az2', lab.zone('us-west-2b').address],
      ['us-west-2c', 'usw2-az3', lab.zone('us-west-2c').address],
    ])
    expect(lab.zone('us-west-2b').address).toMatch(/^127\.\d+\.2\.1$/)
    const { Subnets } = await client.send(
      new DescribeSubnetsCommand({ SubnetIds: endpoint.SubnetIds }),
    )
    expect(Subnets!.map((s) => s.AvailabilityZoneId)).toEqual(['usw2-az1', 'usw2-az2', 'usw2-az3'])
    const { AvailabilityZones } = await client.send(new DescribeAvailabilityZonesCommand({}))
    expect(AvailabilityZones!.map((z) => `${z.ZoneName}=${z.ZoneId}`)).toEqual([
      'us-west-2a=usw2-az1',
      'us-west-2b=usw2-az2',
      'us-west-2c=usw2-az3',
    ])
    const attribute = await client.send(
      new DescribeVpcAttributeCommand({ VpcId: endpoint.VpcId, Attribute: 'enableDnsSupport' }),
    )
    expect(attribute.EnableDnsSupport?.Value).toBe(true)
  })

  it('filters by service name and state', async () => {
    const client = ec2()
    const byService = await client.send(
      new DescribeVpcEndpointsCommand({
        Filters: [{ Name: 'service-name', Values: [lab.endpoint.serviceName!] }],
      }),
    )
    expect(byService.VpcEndpoints!.map((e) => e.VpcEndpointId)).toEqual([lab.endpoint.id])
    const pending = lab.aws.addEndpoint({ state: 'pendingAcceptance' })
    const byState = await client.send(
      new DescribeVpcEndpointsCommand({
        Filters: [{ Name: 'vpc-endpoint-state', Values: ['pendingacceptance'] }],
      }),
    )
    expect(byState.VpcEndpoints!.map((e) => e.VpcEndpointId)).toEqual([pending])
  })

  it('answers AWS-shaped errors', async () => {
    const missing = await ec2()
      .send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: ['vpce-0000000000000000a'] }))
      .catch((e) => e)
    expect(missing).toMatchObject({ name: 'InvalidVpcEndpointId.NotFound' })
    const wrongSecret = await ec2({ ...lab.aws.credentials, secretAccessKey: 'not-the-secret' })
      .send(new DescribeVpcEndpointsCommand({}))
      .catch((e) => e)
    expect(wrongSecret).toMatchObject({ name: 'AuthFailure', $metadata: { httpStatusCode: 401 } })
    expect(String(wrongSecret.message)).not.toContain('not-the-secret')
    const unknownKey = await ec2({ accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' })
      .send(new DescribeVpcEndpointsCommand({}))
      .catch((e) => e)
    expect(unknownKey).toMatchObject({ name: 'AuthFailure' })
  })
})

describe('STS API', () => {
  const role = () => lab.aws.roles[0]!

  it('assumes a role; the session credentials are accepted by EC2 until they expire', async () => {
    const assumed = await sts().send(
      new AssumeRoleCommand({
        RoleArn: role().arn,
        RoleSessionName: 'test',
        ExternalId: 'privatelink-lab',
        DurationSeconds: 900,
      }),
    )
    const credentials = assumed.Credentials!
    expect(credentials.AccessKeyId).toMatch(/^ASIA/)
    expect(credentials.Expiration!.getTime()).toBe(now + 900_000)
    expect(assumed.AssumedRoleUser!.Arn).toBe(
      'arn:aws:sts::222222222222:assumed-role/privatelink-cross-account/test',
    )
    const session = {
      accessKeyId: credentials.AccessKeyId!,
      secretAccessKey: credentials.SecretAccessKey!,
      sessionToken: credentials.SessionToken!,
    }
    const described = await ec2(session).send(
      new DescribeVpcEndpointsCommand({ VpcEndpointIds: [lab.endpoint.id] }),
    )
    expect(described.VpcEndpoints).toHaveLength(1)

    const identity = await new STSClient({
      endpoint: lab.aws.endpoint,
      region: lab.aws.region,
      credentials: session,
      ...labTime(),
    }).send(new GetCallerIdentityCommand({}))
    expect(identity.Account).toBe('222222222222')

    const wrongToken = await ec2({ ...session, sessionToken: 'forged' })
      .send(new DescribeVpcEndpointsCommand({}))
      .catch((e) => e)
    expect(wrongToken).toMatchObject({ name: 'AuthFailure' })

    now += 900_000
    try {
      // Signed in (new) lab time: the date passes, the session does not.
      const expired = await ec2(session)
        .send(new DescribeVpcEndpointsCommand({}))
        .catch((e) => e)
      expect(expired).toMatchObject({ name: 'RequestExpired', $metadata: { httpStatusCode: 400 } })
      const expiredAtSts = await new STSClient({
        endpoint: lab.aws.endpoint,
        region: lab.aws.region,
        credentials: session,
        maxAttempts: 1,
        ...labTime(),
      })
        .send(new GetCallerIdentityCommand({}))
        .catch((e) => e)
      expect(expiredAtSts).toMatchObject({
        name: 'ExpiredToken',
        $metadata: { httpStatusCode: 403 },
      })
    } finally {
      now -= 900_000
    }
  })

  it('refuses a wrong ExternalId, an unknown role and a bad signature', async () => {
    const noExternalId = await sts()
      .send(new AssumeRoleCommand({ RoleArn: role().arn, RoleSessionName: 'test' }))
      .catch((e) => e)
    expect(noExternalId).toMatchObject({ name: 'AccessDenied' })
    const unknownRole = await sts()
      .send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::333333333333:role/nope',
          RoleSessionName: 'test',
        }),
      )
      .catch((e) => e)
    expect(unknownRole).toMatchObject({ name: 'AccessDenied' })
    const badSignature = await new STSClient({
      endpoint: lab.aws.endpoint,
      region: lab.aws.region,
      credentials: { ...lab.aws.credentials, secretAccessKey: 'wrong' },
      maxAttempts: 1,
      ...labTime(),
    })
      .send(new GetCallerIdentityCommand({}))
      .catch((e) => e)
    expect(badSignature).toMatchObject({ name: 'SignatureDoesNotMatch' })
  })
})
