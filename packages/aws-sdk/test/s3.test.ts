import { Readable } from 'node:stream'
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { type AwsRequestHandler, awsServiceEndpoint } from '@privatelink/aws-sdk'
import { PrivateLinkError } from '@privatelink/core'
import { type S3Front, s3Front } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { REGION } from './aws-lab.js'
import { type ServiceLab, startServiceLab } from './service-lab.js'

let lab: ServiceLab
let front: S3Front
const handlers: AwsRequestHandler[] = []
const track = (handler: AwsRequestHandler) => {
  handlers.push(handler)
  return handler
}

const BUCKET = 'orders-archive'

beforeAll(async () => {
  front = s3Front({ buckets: [BUCKET], accessPoints: { reports: BUCKET } })
  // S3 interface endpoints with private DNS answer for the service's names.
  lab = await startServiceLab('s3', front, { privateDnsName: 's3.us-west-2.amazonaws.com' })
})
afterEach(async () => {
  for (const handler of handlers.splice(0)) await handler.close().catch(() => {})
})
afterAll(async () => {
  await lab?.close()
})

const client = (config: Partial<S3ClientConfig> = {}) => {
  const handler = track(lab.handler())
  return new S3Client({
    region: REGION,
    requestHandler: handler,
    credentials: lab.crossAccount(handler),
    ...config,
  })
}

/** PutObject, GetObject and ListObjectsV2 with `bucket` (a name or an access point ARN). */
async function roundTrip(s3: S3Client, bucket: string, key: string) {
  const before = front.requests.length
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `{"key":"${key}"}` }))
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  expect(await got.Body?.transformToString()).toBe(`{"key":"${key}"}`)
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }))
  expect(listed.Contents?.map((c) => c.Key)).toEqual([key])
  const calls = front.requests.slice(before)
  expect(calls.map((c) => [c.operation, c.status])).toEqual([
    ['PutObject', 200],
    ['GetObject', 200],
    ['ListObjectsV2', 200],
  ])
  return calls
}

const vpce = () => lab.endpoint.dnsName

describe("S3 through its interface endpoint: each of S3's kinds of names", () => {
  it('virtual-hosted (the SDK default) with cross-account credentials', async () => {
    const calls = await roundTrip(client(), BUCKET, 'virtual/one.json')
    for (const call of calls) {
      expect(call.host).toBe(`${BUCKET}.s3.us-west-2.amazonaws.com`)
      // The certificate's *.s3.<region>.amazonaws.com covers the name called.
      expect(call.servername).toBe(`${BUCKET}.s3.us-west-2.amazonaws.com`)
      expect(call.addressing).toBe('virtual-hosted')
    }
  })

  it('path-style (forcePathStyle)', async () => {
    const calls = await roundTrip(client({ forcePathStyle: true }), BUCKET, 'path/one.json')
    expect(new Set(calls.map((c) => c.host))).toEqual(new Set(['s3.us-west-2.amazonaws.com']))
    expect(new Set(calls.map((c) => c.addressing))).toEqual(new Set(['path']))
  })

  it('an access point ARN', async () => {
    const arn = `arn:aws:s3:us-west-2:${lab.lab.aws.accountId}:accesspoint/reports`
    const handler = track(lab.handler())
    const s3 = new S3Client({
      region: REGION,
      requestHandler: handler,
      credentials: lab.lab.aws.credentials,
    })
    const calls = await roundTrip(s3, arn, 'ap/one.json')
    const host = `reports-${lab.lab.aws.accountId}.s3-accesspoint.us-west-2.amazonaws.com`
    expect(new Set(calls.map((c) => c.host))).toEqual(new Set([host]))
    expect(new Set(calls.map((c) => c.addressing))).toEqual(new Set(['access-point']))
  })

  it.each([
    ['virtual-hosted', false],
    ['path-style', true],
  ])(
    "the endpoint's bucket.vpce name as the client's endpoint, %s",
    async (_kind, forcePathStyle) => {
      const endpoint = awsServiceEndpoint({ service: 's3', endpoint: lab.endpoint })
      expect(endpoint).toBe(`https://bucket.${vpce()}`)
      const calls = await roundTrip(
        client({ endpoint, forcePathStyle }),
        BUCKET,
        `vpce/${String(forcePathStyle)}.json`,
      )
      const host = forcePathStyle ? `bucket.${vpce()}` : `${BUCKET}.bucket.${vpce()}`
      expect(new Set(calls.map((c) => c.host))).toEqual(new Set([host]))
    },
  )

  it('the accesspoint.vpce name with an access point ARN (one client per kind, as AWS documents)', async () => {
    const arn = `arn:aws:s3:us-west-2:${lab.lab.aws.accountId}:accesspoint/reports`
    const endpoint = awsServiceEndpoint({
      service: 's3',
      endpoint: lab.endpoint,
      s3: 'accesspoint',
    })
    const handler = track(lab.handler())
    const s3 = new S3Client({
      region: REGION,
      endpoint,
      requestHandler: handler,
      credentials: lab.lab.aws.credentials,
    })
    const calls = await roundTrip(s3, arn, 'ap-vpce/one.json')
    expect(calls[0]!.host).toBe(`reports-${lab.lab.aws.accountId}.accesspoint.${vpce()}`)
  })

  it('a streamed PutObject goes aws-chunked with a CRC32 trailer, verified', async () => {
    const s3 = client()
    const body = Buffer.from('x'.repeat(70_000))
    const before = front.requests.length
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'stream/big.bin',
        Body: Readable.from([body.subarray(0, 30_000), body.subarray(30_000)]),
        ContentLength: body.length,
      }),
    )
    const [put] = front.requests.slice(before)
    expect(put).toMatchObject({ operation: 'PutObject', status: 200 })
    expect(put!.payload).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER')
    expect(front.object(BUCKET, 'stream/big.bin')?.equals(body)).toBe(true)
  })

  it('the front verifies: an unknown key is refused as S3 refuses it', async () => {
    const handler = track(lab.handler())
    const error = await new S3Client({
      region: REGION,
      requestHandler: handler,
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'not-the-lab-key' },
    })
      .send(new GetObjectCommand({ Bucket: BUCKET, Key: 'virtual/one.json' }))
      .catch((e: unknown) => e)
    expect((error as Error).name).toBe('InvalidAccessKeyId')
    expect(front.requests.at(-1)).toMatchObject({ status: 403, error: 'InvalidAccessKeyId' })
  })

  it('a bucket name with dots, virtual-hosted, fails closed with the forcePathStyle hint', async () => {
    const handler = track(lab.handler())
    const error = await handler
      .handle(
        {
          protocol: 'https:',
          hostname: 'my.dotted.bucket.s3.us-west-2.amazonaws.com',
          method: 'GET',
          path: '/k',
          headers: { host: 'my.dotted.bucket.s3.us-west-2.amazonaws.com' },
          query: {},
        } as never,
        {},
      )
      .catch((e: unknown) => e)
    expect(PrivateLinkError.isInstance(error)).toBe(true)
    expect((error as PrivateLinkError).code).toBe('ERR_ORIGIN_NOT_PINNED')
    expect((error as PrivateLinkError).hint).toContain('forcePathStyle')
  })

  it('S3 in another region is refused, naming the endpoint to create', async () => {
    const error = await client({ region: 'us-east-1' })
      .send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k' }))
      .catch((e: unknown) => e)
    expect((error as PrivateLinkError).code).toBe('ERR_ORIGIN_NOT_PINNED')
    expect((error as PrivateLinkError).hint).toContain('us-west-2')
  })
})
