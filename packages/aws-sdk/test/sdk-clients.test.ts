import { DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import type { AwsRequestHandler } from '@privatelink/aws-sdk'
import { PrivateLinkError } from '@privatelink/core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type AwsLab, EC2_HOST, REGION, STS_HOST, startAwsLab } from './aws-lab.js'

let aws: AwsLab
const handlers: AwsRequestHandler[] = []
const track = (handler: AwsRequestHandler) => {
  handlers.push(handler)
  return handler
}

beforeAll(async () => {
  aws = await startAwsLab()
})
afterEach(async () => {
  for (const handler of handlers.splice(0)) await handler.close().catch(() => {})
  await aws.restoreAll()
})
afterAll(async () => {
  await aws?.close()
})

const clients = (requestHandler: AwsRequestHandler, credentials = aws.lab.aws.credentials) => ({
  sts: new STSClient({ region: REGION, credentials, requestHandler }),
  ec2: new EC2Client({ region: REGION, credentials, requestHandler }),
})

const served = () =>
  Object.fromEntries(aws.lab.endpoint.zones.map((z) => [z.azName, aws.accepted(z.azName)]))

describe('AWS SDK clients through the interface endpoint', () => {
  it('STS and EC2 calls go to the own zone ENI over TLS for the service names, SigV4 verified', async () => {
    const before = served()
    const handler = track(aws.handlerFor())
    const { sts, ec2 } = clients(handler)
    const identity = await sts.send(new GetCallerIdentityCommand({}))
    const described = await ec2.send(new DescribeVpcEndpointsCommand({}))

    expect(identity.Account).toBe(aws.lab.aws.accountId)
    expect(described.VpcEndpoints?.map((e) => e.VpcEndpointId)).toContain(aws.lab.endpoint.id)
    // The lab's AWS server verified both signatures (a bad one answers 403 / 401).
    expect(aws.lab.aws.requests.slice(-2)).toEqual([
      { service: 'sts', action: 'GetCallerIdentity', status: 200 },
      { service: 'ec2', action: 'DescribeVpcEndpoints', status: 200 },
    ])
    expect(aws.handshakes.get(STS_HOST)).toBeGreaterThanOrEqual(1)
    expect(aws.handshakes.get(EC2_HOST)).toBeGreaterThanOrEqual(1)
    const after = served()
    expect(after['us-west-2a']! - before['us-west-2a']!).toBe(2) // one connection per host
    expect(after['us-west-2b']).toBe(before['us-west-2b'])
    expect(after['us-west-2c']).toBe(before['us-west-2c'])
    // One endpoint for both services: one dispatcher, one zone health.
    expect(handler.dispatcherFor(STS_HOST)).toBe(handler.dispatcherFor(EC2_HOST))
    expect(Object.keys(handler.dispatcherFor(STS_HOST)!.connectionsPerZone())).toEqual(['usw2-az1'])
  })

  it('with the own zone blackholed, calls succeed through another zone', async () => {
    await aws.lab.zone('us-west-2a').fail('blackhole')
    const before = served()
    const { sts } = clients(track(aws.handlerFor()))
    const identity = await sts.send(new GetCallerIdentityCommand({}))
    expect(identity.Account).toBe(aws.lab.aws.accountId)
    const after = served()
    const elsewhere =
      after['us-west-2b']! - before['us-west-2b']! + after['us-west-2c']! - before['us-west-2c']!
    expect(elsewhere).toBe(1)
    expect(after['us-west-2a']).toBe(before['us-west-2a'])
  })

  it('credentials flow through the STS endpoint too: fromTemporaryCredentials in a VPC without internet', async () => {
    const handler = track(aws.handlerFor())
    const role = aws.lab.aws.roles[0]!
    // fromTemporaryCredentials builds its STS client with the caller client's requestHandler.
    const ec2 = new EC2Client({
      region: REGION,
      requestHandler: handler,
      credentials: fromTemporaryCredentials({
        params: { RoleArn: role.arn, ExternalId: role.externalId!, RoleSessionName: 'lab' },
        masterCredentials: aws.lab.aws.credentials,
      }),
    })
    const described = await ec2.send(new DescribeVpcEndpointsCommand({}))
    expect(described.VpcEndpoints?.map((e) => e.VpcEndpointId)).toContain(aws.lab.endpoint.id)
    expect(aws.lab.aws.requests.slice(-2)).toEqual([
      { service: 'sts', action: 'AssumeRole', status: 200 },
      { service: 'ec2', action: 'DescribeVpcEndpoints', status: 200 },
    ])
  })
})

describe('no silent public egress', () => {
  it('a service without an endpoint fails at once, naming the interface endpoint to create', async () => {
    const handler = track(aws.handlerFor({ endpoints: { ec2: aws.lab.endpoint } }))
    const before = served()
    const requests = aws.lab.aws.requests.length
    const error = await clients(handler)
      .sts.send(new GetCallerIdentityCommand({}))
      .catch((e: unknown) => e)
    expect(PrivateLinkError.isInstance(error)).toBe(true)
    const typed = error as PrivateLinkError & { $metadata?: { attempts?: number } }
    expect(typed.code).toBe('ERR_ORIGIN_NOT_PINNED')
    expect(typed.message).toContain(STS_HOST)
    expect(typed.hint).toContain('com.amazonaws.us-west-2.sts')
    expect(typed.details).toMatchObject({ endpointService: 'com.amazonaws.us-west-2.sts' })
    // The SDK did not retry it: one attempt, nothing dialled, nothing reached the service.
    expect(typed.$metadata?.attempts).toBe(1)
    expect(served()).toEqual(before)
    expect(aws.lab.aws.requests.length).toBe(requests)
  })

  it('fromTemporaryCredentials without an STS endpoint fails with the STS hint', async () => {
    const handler = track(aws.handlerFor({ endpoints: { ec2: aws.lab.endpoint } }))
    const role = aws.lab.aws.roles[0]!
    const ec2 = new EC2Client({
      region: REGION,
      requestHandler: handler,
      credentials: fromTemporaryCredentials({
        params: { RoleArn: role.arn, ExternalId: role.externalId! },
        masterCredentials: aws.lab.aws.credentials,
      }),
    })
    const error = await ec2.send(new DescribeVpcEndpointsCommand({})).catch((e: unknown) => e)
    expect((error as PrivateLinkError).code).toBe('ERR_ORIGIN_NOT_PINNED')
    expect((error as PrivateLinkError).hint).toContain('com.amazonaws.us-west-2.sts')
  })

  it('after client.destroy(), calls through the handler fail instead of using a global agent', async () => {
    const handler = track(aws.handlerFor())
    const { sts, ec2 } = clients(handler)
    await sts.send(new GetCallerIdentityCommand({}))
    sts.destroy() // the SDK destroys its request handler
    const requests = aws.lab.aws.requests.length
    const error = await ec2.send(new DescribeVpcEndpointsCommand({})).catch((e: unknown) => e)
    expect((error as { code?: string }).code).toBe('UND_ERR_DESTROYED')
    expect(aws.lab.aws.requests.length).toBe(requests)
  })

  it("'private-dns': works while the service name resolves to the ENIs, fails at once when it answers public", async () => {
    const addresses = aws.lab.endpoint.zones.map((z) => z.addresses[0]!)
    aws.lab.dns.set(STS_HOST, { a: addresses })
    const endpoint = `https://${STS_HOST}:${aws.altPort}`
    const on = track(
      aws.handlerFor({
        endpoints: { sts: 'private-dns' },
        region: REGION,
        resolver: aws.resolver(),
      }),
    )
    const identity = await new STSClient({
      region: REGION,
      endpoint,
      credentials: aws.lab.aws.credentials,
      requestHandler: on,
    }).send(new GetCallerIdentityCommand({}))
    expect(identity.Account).toBe(aws.lab.aws.accountId)

    // Private DNS "off": the service's name answers with its public address.
    aws.lab.dns.override(STS_HOST, { a: ['52.94.133.131'] })
    const requests = aws.lab.aws.requests.length
    const off = track(
      aws.handlerFor({
        endpoints: { sts: 'private-dns' },
        region: REGION,
        resolver: aws.resolver(),
      }),
    )
    const error = await new STSClient({
      region: REGION,
      endpoint,
      credentials: aws.lab.aws.credentials,
      requestHandler: off,
    })
      .send(new GetCallerIdentityCommand({}))
      .catch((e: unknown) => e)
    const typed = error as PrivateLinkError & { $metadata?: { attempts?: number } }
    expect(typed.code).toBe('ERR_DNS_NOT_PRIVATE')
    expect(typed.hint).toContain('com.amazonaws.us-west-2.sts')
    expect(typed.$metadata?.attempts).toBe(1)
    expect(aws.lab.aws.requests.length).toBe(requests)
  })

  it('an endpoint known by DNS names only: resolved through DNS, refused when the answers are public', async () => {
    // As from static configuration without addresses: the connector resolves each zonal name.
    const dnsOnly = {
      ...aws.lab.endpoint,
      zones: aws.lab.endpoint.zones.map((z) => ({ ...z, addresses: [] })),
    }
    const good = track(aws.handlerFor({ endpoints: { sts: dnsOnly }, resolver: aws.resolver() }))
    const identity = await clients(good).sts.send(new GetCallerIdentityCommand({}))
    expect(identity.Account).toBe(aws.lab.aws.accountId)

    for (const zone of dnsOnly.zones) aws.lab.dns.override(zone.dnsName!, { a: ['3.5.140.2'] })
    const bad = track(aws.handlerFor({ endpoints: { sts: dnsOnly }, resolver: aws.resolver() }))
    const error = await clients(bad)
      .sts.send(new GetCallerIdentityCommand({}))
      .catch((e: unknown) => e)
    expect((error as PrivateLinkError).code).toBe('ERR_DNS_NOT_PRIVATE')
    expect((error as PrivateLinkError).hint).toContain('com.amazonaws.us-west-2.sts')
  })
})
