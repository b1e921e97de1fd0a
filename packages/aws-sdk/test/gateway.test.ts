import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { type AwsRequestHandler, createAwsRequestHandler } from '@privatelink/aws-sdk'
import { PrivateLinkError } from '@privatelink/core'
import { type Lab, type S3Front, s3Front, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { awsTlsFront, EC2_HOST, REGION } from './aws-lab.js'

let lab: Lab
let front: S3Front
const handlers: AwsRequestHandler[] = []

beforeAll(async () => {
  front = s3Front({ buckets: ['orders-archive'] })
  let awsPort = 0
  // EC2's API behind the lab's interface endpoint too: a VPC without NAT reads the prefix list there.
  lab = await startLab({
    region: REGION,
    fronts: [front, awsTlsFront([EC2_HOST], new Map(), () => awsPort)],
    services: [{ name: 'ec2', port: 443, target: { front: 'aws-tls' } }],
    gateway: { service: 's3', front: 's3' },
  })
  awsPort = Number(new URL(lab.aws.endpoint).port)
})
afterEach(async () => {
  for (const handler of handlers.splice(0)) await handler.close().catch(() => {})
  lab.dns.restore()
})
afterAll(async () => {
  await lab?.close()
})

/** `endpoints: { s3: 'gateway' }`: S3's public names, only at its prefix list's addresses. */
const gatewayHandler = () => {
  const handler = createAwsRequestHandler({
    endpoints: { s3: 'gateway' },
    region: REGION,
    gateway: {
      ec2: { endpoint: lab.aws.endpoint, credentials: lab.aws.credentials, maxAttempts: 1 },
      servers: [lab.dns.address],
    },
    ca: lab.ca.certificatePem,
  })
  handlers.push(handler)
  return handler
}

const s3 = (requestHandler: AwsRequestHandler, forcePathStyle = false) =>
  new S3Client({
    region: REGION,
    // The gateway's "public" S3 listens on a port of its own where 443 cannot be bound.
    endpoint: `https://s3.us-west-2.amazonaws.com:${lab.gateway!.port}`,
    forcePathStyle,
    credentials: lab.aws.credentials,
    requestHandler,
  })

const prefixListCalls = () =>
  lab.aws.requests.filter((r) => r.action.includes('ManagedPrefixList')).map((r) => r.action)

describe("a gateway endpoint: S3's public addresses, only those of its managed prefix list", () => {
  it('reads the prefix list on the first call (not before), once; calls by both kinds of name succeed', async () => {
    const before = prefixListCalls().length
    const handler = gatewayHandler()
    expect(prefixListCalls().length).toBe(before)
    for (const forcePathStyle of [false, true]) {
      const client = s3(handler, forcePathStyle)
      const key = `gateway/${String(forcePathStyle)}.json`
      await client.send(new PutObjectCommand({ Bucket: 'orders-archive', Key: key, Body: '{}' }))
      const got = await client.send(new GetObjectCommand({ Bucket: 'orders-archive', Key: key }))
      expect(await got.Body?.transformToString()).toBe('{}')
      const listed = await client.send(
        new ListObjectsV2Command({ Bucket: 'orders-archive', Prefix: key }),
      )
      expect(listed.Contents?.map((c) => c.Key)).toEqual([key])
    }
    expect(prefixListCalls().slice(before)).toEqual([
      'DescribeManagedPrefixLists',
      'GetManagedPrefixListEntries',
    ])
    const port = lab.gateway!.port === 443 ? '' : `:${lab.gateway!.port}`
    const hosts = new Set(front.requests.slice(-6).map((r) => r.host))
    expect(hosts).toEqual(
      new Set([
        `orders-archive.s3.us-west-2.amazonaws.com${port}`,
        `s3.us-west-2.amazonaws.com${port}`,
      ]),
    )
  })

  it("reads the prefix list through EC2's interface endpoint when the handler serves ec2", async () => {
    const before = lab.aws.requests.length
    const handler = createAwsRequestHandler({
      endpoints: { s3: 'gateway', ec2: lab.endpoint },
      region: REGION,
      gateway: { ec2: { credentials: lab.aws.credentials }, servers: [lab.dns.address] },
      ca: lab.ca.certificatePem,
      locality: { source: 'options', azId: 'usw2-az1' },
    })
    handlers.push(handler)
    const got = await s3(handler)
      .send(new ListObjectsV2Command({ Bucket: 'orders-archive' }))
      .then((r) => r.$metadata.httpStatusCode)
    expect(got).toBe(200)
    expect(lab.aws.requests.slice(before).map((r) => r.action)).toEqual([
      'DescribeManagedPrefixLists',
      'GetManagedPrefixListEntries',
    ])
    // Through the zones (the EC2 API's interface endpoint), and the handler still works after.
    const throughZones = Object.values(lab.stats()).reduce(
      (n, s) => n + (s['ec2']?.accepted ?? 0),
      0,
    )
    expect(throughZones).toBeGreaterThan(0)
    expect(
      await s3(handler)
        .send(new ListObjectsV2Command({ Bucket: 'orders-archive' }))
        .then((r) => r.$metadata.httpStatusCode),
    ).toBe(200)
  })

  it.each([
    // Inside the lab's own block (where interface endpoints live), but not in S3's prefix list.
    [
      'a loopback address outside the prefix list',
      () => `${lab.addressBlock.split('.').slice(0, 2).join('.')}.9.9`,
    ],
    // A public address that is not S3's (documentation range): refused, never dialled.
    ['a public address outside the prefix list', () => '203.0.113.10'],
  ])('refuses %s, naming the prefix list', async (_name, address) => {
    lab.dns.override('s3.us-west-2.amazonaws.com', { a: [address()] })
    const requests = front.requests.length
    const error = await s3(gatewayHandler())
      .send(new GetObjectCommand({ Bucket: 'orders-archive', Key: 'k' }))
      .catch((e: unknown) => e)
    expect(PrivateLinkError.isInstance(error)).toBe(true)
    const typed = error as PrivateLinkError & { $metadata?: { attempts?: number } }
    expect(typed.code).toBe('ERR_ADDRESS_NOT_ALLOWED')
    expect(typed.message).toContain('pl-68a54001')
    expect(typed.details).toMatchObject({ address: address(), prefixListId: 'pl-68a54001' })
    expect(typed.hint).toContain(lab.gateway!.cidr)
    expect(front.requests.length).toBe(requests)
  })

  it('an EC2 API that cannot be read fails the call with ERR_PREFIX_LIST_UNAVAILABLE, not a public dial', async () => {
    const handler = createAwsRequestHandler({
      endpoints: { s3: 'gateway' },
      region: REGION,
      gateway: {
        ec2: {
          endpoint: lab.aws.endpoint,
          credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' },
          maxAttempts: 1,
        },
        servers: [lab.dns.address],
      },
      ca: lab.ca.certificatePem,
    })
    handlers.push(handler)
    const requests = front.requests.length
    const error = await s3(handler)
      .send(new GetObjectCommand({ Bucket: 'orders-archive', Key: 'k' }))
      .catch((e: unknown) => e)
    expect((error as PrivateLinkError).code).toBe('ERR_PREFIX_LIST_UNAVAILABLE')
    expect((error as PrivateLinkError).hint).toContain('ec2:DescribeManagedPrefixLists')
    expect(front.requests.length).toBe(requests)
  })
})

describe("'gateway' options", () => {
  it('is for s3 and dynamodb only', () => {
    const error = (() => {
      try {
        createAwsRequestHandler({ endpoints: { sqs: 'gateway' }, region: REGION })
      } catch (e) {
        return e
      }
    })() as PrivateLinkError
    expect(error.code).toBe('ERR_INVALID_OPTION')
    expect(error.details).toMatchObject({ option: 'endpoints.sqs' })
  })
})
