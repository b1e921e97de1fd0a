import { timingSafeEqual } from 'node:crypto'
import type { CredentialsStore } from './credentials-store.js'
import {
  ALGORITHM,
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  credentialScope,
  formatAmzDate,
  type HeaderValue,
  isS3Style,
  parseAmzDate,
  sha256Hex,
  signatureOf,
  signingKey,
  stringToSign,
  UNSIGNED_PAYLOAD,
} from './sigv4-canonical.js'

/** A request as a server received it, for {@link verifySigV4}. */
export interface SignedRequest {
  /** The HTTP method, e.g. `POST`. */
  method: string
  /** Path as sent, without the query string. */
  path: string
  /** Decoded query parameters. */
  query: Record<string, string | string[]>
  /** Headers as received (names in any case). */
  headers: Record<string, HeaderValue>
  /** The whole body, for the payload hash. */
  body: string | Uint8Array
}

/** Coarse outcome, as the lab's EC2/STS APIs map it to error codes. */
export type VerifyFailureReason = 'missing' | 'unknown-key' | 'mismatch' | 'expired' | 'bad-token'

/** What exactly failed, for fronts and tests that tell failures apart. */
export type VerifyFailureDetail =
  | 'malformed'
  | 'signature-expired'
  | 'signature-not-yet-current'
  | 'presigned-expired'
  | 'bad-expires'
  | 'wrong-scope-date'
  | 'wrong-region'
  | 'wrong-service'
  | 'host-not-signed'
  | 'unsigned-payload-refused'
  | 'payload-hash-mismatch'
  | 'unknown-key'
  | 'session-token-mismatch'
  | 'credentials-expired'
  | 'signature-mismatch'

/** The verdict on one signature: who signed and for what, or why it is refused. */
export type VerifyResult =
  | {
      /** The signature is valid. */
      ok: true
      /** Who signed: the access key, its principal's ARN and account. */
      principal: {
        /** The access key the request was signed with. */
        accessKeyId: string
        /** The principal's ARN. */
        arn: string
        /** The principal's account ID. */
        account: string
      }
      /** The region of the credential scope. */
      region: string
      /** The service of the credential scope. */
      service: string
      /** When the signature was made (X-Amz-Date), lab-clock milliseconds. */
      signedAt: number
      /** Presigned URLs only: when the URL stops being accepted. */
      expiresAt?: number
    }
  | {
      /** The signature is refused. */
      ok: false
      /** The coarse outcome, as AWS error codes tell it. */
      reason: VerifyFailureReason
      /** What exactly failed. */
      detail: VerifyFailureDetail
      /** AWS's wording; never holds a secret, a token or a signature. */
      message: string
    }

/** What the receiving service expects of a signature. */
export interface VerifyExpectations {
  /** The region the receiving service lives in; a scope naming another region is refused. */
  region?: string
  /** The service's signing name (`ec2`, `sts`, `rds-db`); when absent, the scope's service is taken. */
  service?: string
  /** Lab clock, for the 5-minute skew window. @default Date.now */
  clock?: () => number
}

/** AWS refuses a header-signed request more than 5 minutes away from its own clock. */
export const MAX_SKEW_MS = 5 * 60_000

const reasons: Record<VerifyFailureDetail, VerifyFailureReason> = {
  malformed: 'missing',
  'bad-expires': 'missing',
  'host-not-signed': 'missing',
  'signature-expired': 'mismatch',
  'signature-not-yet-current': 'mismatch',
  'wrong-scope-date': 'mismatch',
  'wrong-region': 'mismatch',
  'wrong-service': 'mismatch',
  'unsigned-payload-refused': 'mismatch',
  'payload-hash-mismatch': 'mismatch',
  'signature-mismatch': 'mismatch',
  'presigned-expired': 'expired',
  'credentials-expired': 'expired',
  'unknown-key': 'unknown-key',
  'session-token-mismatch': 'bad-token',
}

export const refuse = (detail: VerifyFailureDetail, message: string): VerifyResult => ({
  ok: false,
  reason: reasons[detail],
  detail,
  message,
})

/** Skew message, worded like STS's SignatureDoesNotMatch. */
export function skewFailure(signedAt: number, now: number): VerifyResult | undefined {
  if (signedAt < now - MAX_SKEW_MS)
    return refuse(
      'signature-expired',
      `Signature expired: ${formatAmzDate(signedAt)} is now earlier than ${formatAmzDate(now - MAX_SKEW_MS)} (${formatAmzDate(now)} - 5 min.)`,
    )
  if (signedAt > now + MAX_SKEW_MS)
    return refuse(
      'signature-not-yet-current',
      `Signature not yet current: ${formatAmzDate(signedAt)} is still later than ${formatAmzDate(now + MAX_SKEW_MS)} (${formatAmzDate(now)} + 5 min.)`,
    )
  return undefined
}

/** The part of the lab's key store a verifier reads (tests pass the AWS test-suite key). */
export type KeyLookup = Pick<CredentialsStore, 'get' | 'isExpired'>

/** Everything a signature check needs, however the request carried it (header or query). */
export interface SignatureClaim {
  accessKeyId: string
  scopeDate: string
  region: string
  service: string
  amzDate: string
  signedAt: number
  signedHeaders: string
  signature: string
  /** The session token the request presented, if any. */
  sessionToken: string | undefined
  method: string
  path: string
  query: readonly (readonly [string, string])[]
  headers: Record<string, HeaderValue>
  /** Payload hashes to try in order (a presigned URL may use the empty-body hash or UNSIGNED-PAYLOAD). */
  payloadHashes: readonly string[]
}

const sameHex = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

/** Scope, key, session token, credential expiry and signature: the checks header and query signing share. */
export function checkClaim(
  claim: SignatureClaim,
  store: KeyLookup,
  expected: { region?: string; service?: string },
): VerifyResult {
  if (claim.scopeDate !== claim.amzDate.slice(0, 8))
    return refuse(
      'wrong-scope-date',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${claim.scopeDate}' != '${claim.amzDate.slice(0, 8)}', from '${claim.amzDate}'.`,
    )
  if (expected.region !== undefined && claim.region !== expected.region)
    return refuse(
      'wrong-region',
      `Credential should be scoped to a valid region, not '${claim.region}'. The lab's region is '${expected.region}'.`,
    )
  if (expected.service !== undefined && claim.service !== expected.service)
    return refuse(
      'wrong-service',
      `Credential should be scoped to correct service: '${expected.service}'.`,
    )
  const signedNames = claim.signedHeaders.split(';')
  if (!signedNames.includes('host'))
    return refuse(
      'host-not-signed',
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    )
  const key = store.get(claim.accessKeyId)
  if (key === undefined)
    return refuse('unknown-key', 'The security token included in the request is invalid.')
  if (claim.sessionToken !== key.sessionToken)
    return refuse(
      'session-token-mismatch',
      'The security token included in the request is invalid.',
    )
  if (store.isExpired(key))
    return refuse('credentials-expired', 'The security token included in the request is expired.')
  const headerBlock = canonicalHeaders(claim.headers, signedNames)
  const mismatch = refuse(
    'signature-mismatch',
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
  )
  if (headerBlock === undefined) return mismatch
  const scope = credentialScope(claim.scopeDate, claim.region, claim.service)
  const signer = signingKey(key.secretAccessKey, claim.scopeDate, claim.region, claim.service)
  const uri = canonicalUri(claim.path, { s3Style: isS3Style(claim.service) })
  const query = canonicalQuery(claim.query)
  for (const payloadHash of claim.payloadHashes) {
    const request = canonicalRequest({
      method: claim.method,
      canonicalUri: uri,
      canonicalQuery: query,
      canonicalHeaders: headerBlock,
      signedHeaders: claim.signedHeaders,
      payloadHash,
    })
    if (
      sameHex(signatureOf(signer, stringToSign(claim.amzDate, scope, request)), claim.signature)
    ) {
      // The principal only: a verify result may end up in a test log, so no secret rides along.
      return {
        ok: true,
        principal: { accessKeyId: key.accessKeyId, arn: key.arn, account: key.account },
        region: claim.region,
        service: claim.service,
        signedAt: claim.signedAt,
      }
    }
  }
  return mismatch
}

const authorizationPattern = new RegExp(
  `^${ALGORITHM} Credential=([^/, ]+)/(\\d{8})/([^/, ]+)/([^/, ]+)/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$`,
)

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return typeof value === 'string' ? value : value?.join(',')
  }
  return undefined
}

/**
 * The payload hash a header-signed request is checked with: always the hash of the body received.
 * `x-amz-content-sha256` must agree with it, and `UNSIGNED-PAYLOAD` is S3's privilege only (the EC2
 * and STS query APIs sign the body).
 */
function payloadHash(request: SignedRequest, service: string): string | VerifyResult {
  const computed = sha256Hex(request.body)
  const declared = header(request.headers, 'x-amz-content-sha256')
  if (declared === undefined) return computed
  if (declared === UNSIGNED_PAYLOAD) {
    return isS3Style(service)
      ? UNSIGNED_PAYLOAD
      : refuse(
          'unsigned-payload-refused',
          `${service} does not accept UNSIGNED-PAYLOAD: the request body must be signed.`,
        )
  }
  if (declared !== computed)
    return refuse(
      'payload-hash-mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    )
  return computed
}

/**
 * Verifies a request signed in its Authorization header (SigV4) against the lab's keys: the
 * canonical request is rebuilt by the lab's own code from what arrived (body hash included), the
 * credential scope must name the expected region and service, and X-Amz-Date must lie within 5
 * minutes of the lab clock.
 */
export async function verifySigV4(
  request: SignedRequest,
  store: KeyLookup,
  expected: VerifyExpectations = {},
): Promise<VerifyResult> {
  const match = authorizationPattern.exec(header(request.headers, 'authorization') ?? '')
  const amzDate = header(request.headers, 'x-amz-date') ?? ''
  const signedAt = parseAmzDate(amzDate)
  if (match === null || signedAt === undefined)
    return refuse('malformed', 'Request is missing a valid SigV4 Authorization header.')
  const [, accessKeyId, scopeDate, region, service, signedHeaders, signature] =
    match as unknown as string[]
  const skewed = skewFailure(signedAt, (expected.clock ?? Date.now)())
  if (skewed !== undefined) return skewed
  const hash = payloadHash(request, expected.service ?? service!)
  if (typeof hash !== 'string') return hash
  const query: [string, string][] = []
  for (const [name, value] of Object.entries(request.query)) {
    for (const v of typeof value === 'string' ? [value] : value) query.push([name, v])
  }
  return checkClaim(
    {
      accessKeyId: accessKeyId!,
      scopeDate: scopeDate!,
      region: region!,
      service: service!,
      amzDate,
      signedAt,
      signedHeaders: signedHeaders!,
      signature: signature!,
      sessionToken: header(request.headers, 'x-amz-security-token'),
      method: request.method,
      path: request.path,
      query,
      headers: request.headers,
      payloadHashes: [hash],
    },
    store,
    expected,
  )
}
