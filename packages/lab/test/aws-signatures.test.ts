import { request as httpRequest } from 'node:http'
import { Sha256 } from '@aws-crypto/sha256-js'
import { DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { type Lab, startLab } from '@privatelink/lab'
import { SignatureV4 } from '@smithy/signature-v4'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The lab clock stands 13 hours behind the real one: every check below is against lab time.
let now = Date.now() - 13 * 3_600_000
let lab: Lab

beforeAll(async () => {
  lab = await startLab({ clock: () => now })
})
afterAll(() => lab.close())

const labOffset = () => now - Date.now()
const ec2 = (config: { region?: string; systemClockOffset?: number; maxAttempts?: number } = {}) =>
  new EC2Client({
    endpoint: lab.aws.endpoint,
    region: lab.region,
    credentials: lab.aws.credentials,
    maxAttempts: 1,
    systemClockOffset: labOffset(),
    ...config,
  })
const describeCall = () => new DescribeVpcEndpointsCommand({ MaxResults: 5 })
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('the lab accepted it'),
    (error: { name: string; message: string; $metadata: Record<string, unknown> }) => error,
  )

interface HandSigned {
  method: 'GET' | 'POST'
  /** Path and raw query, exactly as sent. */
  target: string
  headers: Record<string, string>
  body: string
}

/**
 * Signs with the client library (smithy's signer, not the lab's code), then writes the query by
 * hand: the test decides how each byte goes on the wire.
 */
async function handSigned(options: {
  pairs?: [string, string][]
  body?: string
  region?: string
  service?: string
  at?: number
  /** How a value is written in the raw query. @default percent-encoded like the signer */
  writeValue?: (value: string) => string
}): Promise<HandSigned> {
  const { host, port } = new URL(lab.aws.endpoint)
  const pairs = options.pairs ?? []
  const query: Record<string, string | string[]> = {}
  for (const [name, value] of pairs) {
    const seen = query[name]
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value]
  }
  const body = options.body ?? ''
  const method = body === '' ? 'GET' : 'POST'
  const signer = new SignatureV4({
    credentials: lab.aws.credentials,
    region: options.region ?? lab.region,
    service: options.service ?? 'ec2',
    sha256: Sha256,
  })
  const signed = await signer.sign(
    {
      method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: Number(port),
      path: '/',
      query,
      headers: {
        host,
        ...(body === '' ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body,
    },
    { signingDate: new Date(options.at ?? now) },
  )
  const write = options.writeValue ?? encodeURIComponent
  const raw = pairs.map(([name, value]) => `${encodeURIComponent(name)}=${write(value)}`).join('&')
  return {
    method,
    target: raw === '' ? '/' : `/?${raw}`,
    headers: signed.headers as Record<string, string>,
    body,
  }
}

function send(
  request: HandSigned,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const { hostname, port } = new URL(lab.aws.endpoint)
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: hostname,
        port,
        method: request.method,
        path: request.target,
        headers: request.headers,
      },
      (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          body += chunk
        })
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body, headers: response.headers }),
        )
      },
    )
    outgoing.on('error', reject)
    outgoing.end(request.body)
  })
}

const code = (xml: string) => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1]
const describeEndpoints = [
  ['Action', 'DescribeVpcEndpoints'],
  ['Version', '2016-11-15'],
] as [string, string][]

describe('the lab EC2 API refuses what AWS refuses', () => {
  it('accepts an untouched request from a real EC2Client signing in lab time', async () => {
    const { VpcEndpoints } = await ec2().send(describeCall())
    expect(VpcEndpoints?.map((e) => e.VpcEndpointId)).toEqual([lab.endpoint.id])
  })

  it('refuses a body changed after signing', async () => {
    const client = ec2()
    // After the signer: the deserialize step runs on the signed request, just before the wire.
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body: string }
        expect(request.body).toContain('MaxResults=5')
        request.body = request.body.replace('MaxResults=5', 'MaxResults=6')
        return next(args)
      },
      { step: 'deserialize', name: 'tamperAfterSigning' },
    )
    const error = await failure(client.send(describeCall()))
    expect(error).toMatchObject({ name: 'AuthFailure', $metadata: { httpStatusCode: 401 } })
    expect(lab.aws.requests.at(-1)).toEqual({
      service: 'ec2',
      action: 'DescribeVpcEndpoints',
      status: 401,
    })
  })

  it('refuses a signature scoped to another region', async () => {
    const error = await failure(ec2({ region: 'eu-central-1' }).send(describeCall()))
    expect(error).toMatchObject({ name: 'AuthFailure', $metadata: { httpStatusCode: 401 } })
    expect(error.message).toContain("not 'eu-central-1'")
  })

  it('refuses a signature scoped to another service, both ways', async () => {
    const asSts = await send(await handSigned({ pairs: describeEndpoints, service: 'sts' }))
    expect(asSts.status).toBe(401)
    expect(code(asSts.body)).toBe('AuthFailure')
    expect(asSts.body).toContain('scoped to correct service: &apos;ec2&apos;')
    // An STS call (its API version says so) signed for ec2.
    const stsCall = await handSigned({
      pairs: [
        ['Action', 'GetCallerIdentity'],
        ['Version', '2011-06-15'],
      ],
      service: 'ec2',
    })
    const asEc2 = await send(stsCall)
    expect(asEc2.status).toBe(403)
    expect(code(asEc2.body)).toBe('SignatureDoesNotMatch')
  })

  it('refuses a date more than 5 minutes from the lab clock, either side: RequestExpired', async () => {
    for (const skew of [-6 * 60_000, 6 * 60_000]) {
      const error = await failure(
        ec2({ systemClockOffset: labOffset() + skew }).send(describeCall()),
      )
      expect(error).toMatchObject({
        name: 'RequestExpired',
        message: 'Request has expired.',
        $metadata: { httpStatusCode: 400 },
      })
    }
    const within = await ec2({ systemClockOffset: labOffset() - 4 * 60_000 }).send(describeCall())
    expect(within.VpcEndpoints).toHaveLength(1)
  })

  it('takes a replay within the window, refuses it after', async () => {
    const start = now
    try {
      const captured = await handSigned({ pairs: describeEndpoints })
      expect((await send(captured)).status).toBe(200)
      now += 4 * 60_000
      expect((await send(captured)).status).toBe(200)
      now += 60_000 + 1000
      const replay = await send(captured)
      expect(replay.status).toBe(400)
      expect(code(replay.body)).toBe('RequestExpired')
    } finally {
      now = start
    }
  })

  it("reads the raw query by SigV4's rules: a literal '+' and repeated names are accepted", async () => {
    const pairs: [string, string][] = [
      ...describeEndpoints,
      ['Filter.1.Name', 'service-name'],
      ['Filter.1.Value.1', lab.endpoint.serviceName!],
      ['Filter.1.Value.2', 'a+b c'],
      ['X-Lab-Note', 'first'],
      ['X-Lab-Note', 'second'],
    ]
    // RFC 3986 keeps '+' as itself: the signer signed '%2B', and the client may send '+' raw.
    const raw = await send(
      await handSigned({
        pairs,
        writeValue: (value) => encodeURIComponent(value).replace(/%2B/g, '+'),
      }),
    )
    expect(raw.body).not.toContain('<Errors>')
    expect(raw.status).toBe(200)
    expect(raw.body).toContain(`<vpcEndpointId>${lab.endpoint.id}</vpcEndpointId>`)
    const encoded = await send(await handSigned({ pairs }))
    expect(encoded.status).toBe(200)
    // '+' is not a space: a request signed with a space and sent with '+' does not verify.
    const mixed = await handSigned({
      pairs: pairs.map(([n, v]) => [n, v.replace('+', ' ')]),
    })
    const asPlus = { ...mixed, target: mixed.target.replace('a%20b', 'a+b') }
    expect(asPlus.target).toContain('a+b')
    const refused = await send(asPlus)
    expect(refused.status).toBe(401)
  })

  it('answers a broken percent escape with MalformedQueryString', async () => {
    const request = await handSigned({ pairs: describeEndpoints })
    const broken = await send({ ...request, target: `${request.target}&Bad=%E0%A4%A` })
    expect(broken.status).toBe(400)
    expect(code(broken.body)).toBe('MalformedQueryString')
  })
})

describe("the lab's clock reaches the SDK through the Date header", () => {
  it('sends the lab time as Date on every answer, refused ones included', async () => {
    const ok = await send(await handSigned({ pairs: describeEndpoints }))
    const refused = await send(await handSigned({ pairs: describeEndpoints, at: Date.now() }))
    expect(refused.status).toBe(400)
    for (const answer of [ok, refused]) {
      const date = Date.parse(String(answer.headers['date']))
      expect(Math.abs(date - now)).toBeLessThan(1000)
    }
  })

  it('a client on the real clock fails once, learns the offset, and then signs in lab time', async () => {
    const client = ec2({ systemClockOffset: 0 })
    const first = await failure(client.send(describeCall()))
    expect(first).toMatchObject({
      name: 'RequestExpired',
      $metadata: { httpStatusCode: 400, clockSkewCorrected: true },
    })
    expect(Math.abs((await client.config.systemClockOffset) - labOffset())).toBeLessThan(2000)
    const second = await client.send(describeCall())
    expect(second.VpcEndpoints).toHaveLength(1)
  })

  it('with a retry to spend, the SDK corrects its clock within one call (EC2 and STS)', async () => {
    const before = lab.aws.requests.length
    const corrected = await ec2({ systemClockOffset: 0, maxAttempts: 2 }).send(describeCall())
    expect(corrected.VpcEndpoints).toHaveLength(1)
    const sts = new STSClient({
      endpoint: lab.aws.endpoint,
      region: lab.region,
      credentials: lab.aws.credentials,
      maxAttempts: 2,
    })
    const identity = await sts.send(new GetCallerIdentityCommand({}))
    expect(identity.Account).toBe(lab.aws.accountId)
    expect(lab.aws.requests.slice(before).map((r) => `${r.service} ${r.status}`)).toEqual([
      'ec2 400',
      'ec2 200',
      'sts 403',
      'sts 200',
    ])
  })

  it('STS words a skewed date as SignatureDoesNotMatch, naming both times', async () => {
    const sts = new STSClient({
      endpoint: lab.aws.endpoint,
      region: lab.region,
      credentials: lab.aws.credentials,
      maxAttempts: 1,
    })
    const error = await failure(sts.send(new GetCallerIdentityCommand({})))
    expect(error).toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    })
    expect(error.message).toMatch(/^Signature not yet current: \d{8}T\d{6}Z is still later than/)
  })
})
