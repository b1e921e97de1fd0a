import { readFileSync } from 'node:fs'
import { Sha256 } from '@aws-crypto/sha256-js'
import { Signer } from '@aws-sdk/rds-signer'
import { SignatureV4 } from '@smithy/signature-v4'
import { describe, expect, it } from 'vitest'
import { CredentialsStore, type StoredKey } from '../src/credentials-store.js'
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  credentialScope,
  sha256Hex,
  signatureOf,
  signingKey,
  stringToSign,
} from '../src/sigv4-canonical.js'
import { parsePresignedUrl, verifyPresignedUrl } from '../src/sigv4-presigned.js'
import { type SignedRequest, type VerifyResult, verifySigV4 } from '../src/sigv4-verifier.js'

interface SuiteCase {
  name: string
  method: string
  path: string
  query: string
  headers: [string, string][]
  body: string
  creq: string
  stsHash: string
  authorization: string
}
const suite = JSON.parse(
  readFileSync(new URL('./fixtures/sigv4-test-suite.json', import.meta.url), 'utf8'),
) as {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }
  region: string
  service: string
  amzDate: string
  cases: SuiteCase[]
}

const groupHeaders = (pairs: [string, string][]) => {
  const headers: Record<string, string[]> = {}
  for (const [name, value] of pairs) {
    const key = name.toLowerCase()
    headers[key] ??= []
    headers[key].push(value)
  }
  return headers
}
const queryPairs = (raw: string) =>
  raw === ''
    ? []
    : raw.split('&').map((part) => {
        const [name, value = ''] = part.split('=')
        return [decodeURIComponent(name!), decodeURIComponent(value)] as const
      })

const groupQuery = (raw: string) => {
  const query: Record<string, string[]> = {}
  for (const [name, value] of queryPairs(raw)) {
    query[name] ??= []
    query[name].push(value)
  }
  return query
}

describe('the AWS SigV4 test suite (us-east-1, service "service", 20150830T123600Z)', () => {
  const signedAt = Date.parse('2015-08-30T12:36:00Z')
  for (const vector of suite.cases) {
    it(vector.name, async () => {
      const signedHeaders = /SignedHeaders=([^,]+)/.exec(vector.authorization)![1]!
      const headers = groupHeaders(vector.headers)
      const creq = canonicalRequest({
        method: vector.method,
        canonicalUri: canonicalUri(vector.path, { s3Style: false }),
        canonicalQuery: canonicalQuery(queryPairs(vector.query)),
        canonicalHeaders: canonicalHeaders(headers, signedHeaders.split(';'))!,
        signedHeaders,
        payloadHash: sha256Hex(vector.body),
      })
      expect(creq).toBe(vector.creq)
      const scope = credentialScope('20150830', suite.region, suite.service)
      const toSign = stringToSign(suite.amzDate, scope, creq)
      expect(toSign.split('\n')[3]).toBe(vector.stsHash)
      const key = signingKey(suite.credentials.secretAccessKey, '20150830', 'us-east-1', 'service')
      expect(signatureOf(key, toSign)).toBe(
        /Signature=([0-9a-f]{64})/.exec(vector.authorization)![1],
      )

      // And the verifier accepts the signed request as a whole.
      const presentsToken = headers['x-amz-security-token'] !== undefined
      const stored: StoredKey = {
        accessKeyId: suite.credentials.accessKeyId,
        secretAccessKey: suite.credentials.secretAccessKey,
        ...(presentsToken ? { sessionToken: suite.credentials.sessionToken } : {}),
        arn: 'arn:aws:iam::123456789012:user/example',
        account: '123456789012',
        userId: 'AIDAEXAMPLE',
      }
      const store = {
        get: (id: string) => (id === stored.accessKeyId ? stored : undefined),
        isExpired: () => false,
      }
      const result = await verifySigV4(
        {
          method: vector.method,
          path: vector.path,
          query: groupQuery(vector.query),
          headers: { ...headers, authorization: vector.authorization },
          body: vector.body,
        },
        store,
        { region: 'us-east-1', service: 'service', clock: () => signedAt + 60_000 },
      )
      expect(result).toMatchObject({ ok: true, region: 'us-east-1', service: 'service' })
    })
  }
})

// Requests below are signed by @smithy/signature-v4, the signer AWS SDK clients use: the client
// side of the exchange. The verifier under test shares no code with it.
const region = 'us-west-2'
const start = Date.parse('2026-03-01T10:00:00Z')

function setup() {
  let now = start
  const store = new CredentialsStore('111111111111', () => now)
  return {
    store,
    advance: (ms: number) => {
      now += ms
    },
    now: () => now,
  }
}

async function signed(
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  options: {
    service?: string
    region?: string
    body?: string
    signingDate?: number
    headers?: Record<string, string>
    applyChecksum?: boolean
  } = {},
): Promise<SignedRequest> {
  const body = options.body ?? 'Action=DescribeVpcEndpoints&Version=2016-11-15'
  const signer = new SignatureV4({
    credentials,
    region: options.region ?? region,
    service: options.service ?? 'ec2',
    sha256: Sha256,
    applyChecksum: options.applyChecksum ?? false,
  })
  const request = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 8080,
      path: '/',
      query: {},
      headers: {
        host: '127.0.0.1:8080',
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        ...options.headers,
      },
      body,
    },
    { signingDate: new Date(options.signingDate ?? start) },
  )
  return {
    method: request.method,
    path: request.path,
    query: {},
    headers: request.headers,
    body,
  }
}

const failure = (result: VerifyResult) => (result.ok ? 'ok' : result.detail)

describe('verifySigV4 against tampering', () => {
  it('accepts an untouched EC2 request and reports the principal, never the secret', async () => {
    const { store, now } = setup()
    const result = await verifySigV4(await signed(store.root), store, {
      region,
      service: 'ec2',
      clock: now,
    })
    expect(result).toMatchObject({ ok: true, principal: { accessKeyId: store.root.accessKeyId } })
    expect(JSON.stringify(result)).not.toContain(store.root.secretAccessKey)
  })

  it('recomputes the payload hash: a body changed after signing is refused, with or without x-amz-content-sha256', async () => {
    const { store, now } = setup()
    const expected = { region, service: 'ec2', clock: now }
    const plain = await signed(store.root)
    const tampered = { ...plain, body: `${plain.body}&VpcEndpointId.1=vpce-1` }
    expect(failure(await verifySigV4(tampered, store, expected))).toBe('signature-mismatch')
    const withHash = await signed(store.root, { applyChecksum: true })
    expect(withHash.headers['x-amz-content-sha256']).toBe(sha256Hex(withHash.body))
    expect(failure(await verifySigV4(withHash, store, expected))).toBe('ok')
    const tamperedWithHash = { ...withHash, body: `${withHash.body}&x=1` }
    expect(failure(await verifySigV4(tamperedWithHash, store, expected))).toBe(
      'payload-hash-mismatch',
    )
  })

  it('refuses UNSIGNED-PAYLOAD for EC2 and STS, accepts it for S3', async () => {
    const { store, now } = setup()
    const unsigned = { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }
    for (const service of ['ec2', 'sts']) {
      const request = await signed(store.root, { service, headers: unsigned })
      const result = await verifySigV4(request, store, { region, service, clock: now })
      expect(result).toMatchObject({
        ok: false,
        reason: 'mismatch',
        detail: 'unsigned-payload-refused',
      })
    }
    const s3 = await signed(store.root, { service: 's3', headers: unsigned, body: 'anything' })
    expect(failure(await verifySigV4(s3, store, { region, service: 's3', clock: now }))).toBe('ok')
  })

  it('checks the credential scope: region and service', async () => {
    const { store, now } = setup()
    const otherRegion = await signed(store.root, { region: 'eu-central-1' })
    const result = await verifySigV4(otherRegion, store, { region, service: 'ec2', clock: now })
    expect(result).toMatchObject({ ok: false, detail: 'wrong-region' })
    expect(result.ok ? '' : result.message).toContain("not 'eu-central-1'")
    const forSts = await signed(store.root, { service: 'sts' })
    expect(failure(await verifySigV4(forSts, store, { region, service: 'ec2', clock: now }))).toBe(
      'wrong-service',
    )
  })

  it('refuses a date more than 5 minutes from the lab clock, either side, as AWS does', async () => {
    const { store, now } = setup()
    const expected = { region, service: 'ec2', clock: now }
    const old = await signed(store.root, { signingDate: start - 5 * 60_000 - 1000 })
    const result = await verifySigV4(old, store, expected)
    expect(result).toMatchObject({ ok: false, reason: 'mismatch', detail: 'signature-expired' })
    expect(result.ok ? '' : result.message).toMatch(
      /^Signature expired: 20260301T095459Z is now earlier than 20260301T095500Z \(20260301T100000Z - 5 min\.\)$/,
    )
    const future = await signed(store.root, { signingDate: start + 6 * 60_000 })
    expect(failure(await verifySigV4(future, store, expected))).toBe('signature-not-yet-current')
    const nearby = await signed(store.root, { signingDate: start - 4 * 60_000 })
    expect(failure(await verifySigV4(nearby, store, expected))).toBe('ok')
  })

  it('refuses a replay once the 5-minute window has passed', async () => {
    const { store, now, advance } = setup()
    const request = await signed(store.root)
    const expected = { region, service: 'ec2', clock: now }
    advance(4 * 60_000)
    expect(failure(await verifySigV4(request, store, expected))).toBe('ok')
    advance(60_000 + 1000)
    expect(failure(await verifySigV4(request, store, expected))).toBe('signature-expired')
  })

  it('checks keys, session tokens and session expiry against the store', async () => {
    const { store, now, advance } = setup()
    const expected = { region, service: 'ec2', clock: now }
    const unknown = await signed({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' })
    expect(await verifySigV4(unknown, store, expected)).toMatchObject({ reason: 'unknown-key' })
    const wrongSecret = await signed({ ...store.root, secretAccessKey: 'wrong' })
    expect(failure(await verifySigV4(wrongSecret, store, expected))).toBe('signature-mismatch')
    const session = store.issueSession('arn:aws:sts::1:assumed-role/r/s', '1', 'AROA:s', 900)
    expect(failure(await verifySigV4(await signed(session), store, expected))).toBe('ok')
    const forged = await signed({ ...session, sessionToken: 'forged' })
    expect(await verifySigV4(forged, store, expected)).toMatchObject({ reason: 'bad-token' })
    const noToken = await signed({ ...session, sessionToken: undefined })
    expect(failure(await verifySigV4(noToken, store, expected))).toBe('session-token-mismatch')
    advance(900_000)
    const late = await signed(session, { signingDate: now() })
    expect(await verifySigV4(late, store, expected)).toMatchObject({
      reason: 'expired',
      detail: 'credentials-expired',
    })
  })

  it('refuses a request without a usable Authorization header', async () => {
    const { store, now } = setup()
    const request = await signed(store.root)
    const { authorization: _, ...headers } = request.headers
    expect(await verifySigV4({ ...request, headers }, store, { clock: now })).toMatchObject({
      reason: 'missing',
    })
  })
})

describe('verifyPresignedUrl with RDS IAM tokens from @aws-sdk/rds-signer', () => {
  const hostname = 'lab-proxy.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com'
  // The signer signs with the real clock, so the lab clock starts there.
  function tokenSetup() {
    let now = Date.now()
    const store = new CredentialsStore('111111111111', () => now)
    const options = { region, service: 'rds-db', clock: () => now, store, maxExpiresSeconds: 900 }
    return {
      store,
      options,
      advance: (ms: number) => {
        now += ms
      },
    }
  }
  const token = (
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
    extra: { region?: string; username?: string } = {},
  ) =>
    new Signer({
      hostname,
      port: 5432,
      username: extra.username ?? 'app_user',
      region: extra.region ?? region,
      credentials,
    }).getAuthToken()

  it('accepts a token for the long-term key, valid for 900 s of lab time', async () => {
    const { store, options, advance } = tokenSetup()
    const value = await token(store.root)
    expect(value).toMatch(new RegExp(`^${hostname}:5432/\\?Action=connect&DBUser=app_user&X-Amz-`))
    const parsed = parsePresignedUrl(value)!
    expect(parsed.authority).toBe(`${hostname}:5432`)
    const result = verifyPresignedUrl(value, options)
    expect(result).toMatchObject({ ok: true, service: 'rds-db' })
    expect(result.ok && result.expiresAt! - result.signedAt).toBe(900_000)
    advance(899_000)
    expect(failure(verifyPresignedUrl(value, options))).toBe('ok')
    advance(2000)
    expect(verifyPresignedUrl(value, options)).toMatchObject({
      reason: 'expired',
      detail: 'presigned-expired',
    })
  })

  it('accepts a token signed with an STS session until the session expires', async () => {
    const { store, options, advance } = tokenSetup()
    const session = store.issueSession('arn:aws:sts::2:assumed-role/r/s', '2', 'AROA:s', 600)
    const value = await token(session)
    expect(value).toContain('X-Amz-Security-Token=')
    expect(verifyPresignedUrl(value, options)).toMatchObject({
      ok: true,
      principal: { arn: 'arn:aws:sts::2:assumed-role/r/s' },
    })
    const forged = value.replace(/X-Amz-Security-Token=[^&]+/, 'X-Amz-Security-Token=forged')
    expect(failure(verifyPresignedUrl(forged, options))).toBe('session-token-mismatch')
    advance(600_000)
    expect(failure(verifyPresignedUrl(value, options))).toBe('credentials-expired')
  })

  it('refuses edited, mis-scoped and out-of-range tokens', async () => {
    const { store, options } = tokenSetup()
    const value = await token(store.root)
    const otherUser = value.replace('DBUser=app_user', 'DBUser=admin')
    expect(failure(verifyPresignedUrl(otherUser, options))).toBe('signature-mismatch')
    const otherHost = value.replace(hostname, 'evil.example.com')
    expect(failure(verifyPresignedUrl(otherHost, options))).toBe('signature-mismatch')
    expect(
      failure(verifyPresignedUrl(await token(store.root, { region: 'eu-central-1' }), options)),
    ).toBe('wrong-region')
    expect(failure(verifyPresignedUrl(value, { ...options, service: 'elasticache' }))).toBe(
      'wrong-service',
    )
    const tooLong = value.replace('X-Amz-Expires=900', 'X-Amz-Expires=604801')
    expect(failure(verifyPresignedUrl(tooLong, options))).toBe('bad-expires')
    const zero = value.replace('X-Amz-Expires=900', 'X-Amz-Expires=0')
    expect(failure(verifyPresignedUrl(zero, options))).toBe('bad-expires')
    const noSignature = value.replace(/&X-Amz-Signature=[0-9a-f]+/, '')
    expect(failure(verifyPresignedUrl(noSignature, options))).toBe('malformed')
    const badSignature = value.replace(/X-Amz-Signature=[0-9a-f]/, (s) =>
      s.endsWith('0') ? `${s.slice(0, -1)}1` : `${s.slice(0, -1)}0`,
    )
    expect(failure(verifyPresignedUrl(badSignature, options))).toBe('signature-mismatch')
  })
})
