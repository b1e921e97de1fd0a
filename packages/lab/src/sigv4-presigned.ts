import {
  ALGORITHM,
  EMPTY_SHA256,
  type HeaderValue,
  parseAmzDate,
  UNSIGNED_PAYLOAD,
} from './sigv4-canonical.js'
import {
  checkClaim,
  type KeyLookup,
  MAX_SKEW_MS,
  refuse,
  type VerifyResult,
} from './sigv4-verifier.js'

/** What the receiver of a presigned URL (an IAM auth token) expects of it. */
export interface PresignedUrlOptions {
  /** The lab's region: a credential scoped to another region is refused. */
  region: string
  /** The signing name the receiver expects: `rds-db`, `elasticache`, `s3`... */
  service: string
  /** Lab clock (milliseconds since the epoch). */
  clock: () => number
  /** The lab's key store (`LabFrontContext.store`). */
  store: KeyLookup
  /** @default 'GET' */
  method?: string
  /** Signed headers other than `host` (which comes from the URL's authority). @default {} */
  headers?: Record<string, HeaderValue>
  /**
   * The longest life the receiver grants whatever X-Amz-Expires says: RDS and ElastiCache tokens
   * live 900 s. @default 604800 (SigV4's limit: one week)
   */
  maxExpiresSeconds?: number
}

export interface ParsedPresignedUrl {
  /** `host` or `host:port`, exactly as signed. */
  authority: string
  path: string
  /** Decoded, in order, repeats kept. */
  query: [string, string][]
}

/**
 * Splits a presigned URL with or without its scheme (RDS and ElastiCache tokens drop it) into the
 * authority, the path and decoded query pairs; undefined when it cannot be decoded.
 */
export function parsePresignedUrl(url: string): ParsedPresignedUrl | undefined {
  const rest = url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
  const authorityEnd = rest.search(/[/?]/)
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd)
  const afterAuthority = authorityEnd < 0 ? '' : rest.slice(authorityEnd)
  const queryStart = afterAuthority.indexOf('?')
  const path = queryStart < 0 ? afterAuthority : afterAuthority.slice(0, queryStart)
  const rawQuery = queryStart < 0 ? '' : afterAuthority.slice(queryStart + 1)
  if (authority === '' || /[\s@]/.test(authority)) return undefined
  const query: [string, string][] = []
  try {
    for (const part of rawQuery.split('&')) {
      if (part === '') continue
      const equals = part.indexOf('=')
      const name = equals < 0 ? part : part.slice(0, equals)
      const value = equals < 0 ? '' : part.slice(equals + 1)
      query.push([decodeURIComponent(name), decodeURIComponent(value)])
    }
  } catch {
    return undefined
  }
  return { authority, path: path === '' ? '/' : path, query }
}

const single = (query: [string, string][], name: string): string | undefined => {
  const found = query.filter(([key]) => key === name)
  return found.length === 1 ? found[0]![1] : undefined
}

/**
 * Verifies a SigV4 query-string-signed ("presigned") URL, as RDS checks an IAM auth token and
 * ElastiCache an AUTH token: the signature over the canonical request rebuilt by the lab, the
 * credential scope (date, region, service), X-Amz-Expires (1..604800, capped by
 * `maxExpiresSeconds`) against the lab clock, and the session token against the lab's STS sessions.
 * The URL's authority is the signed `host` header.
 */
export function verifyPresignedUrl(url: string, options: PresignedUrlOptions): VerifyResult {
  const parsed = parsePresignedUrl(url)
  if (parsed === undefined) return refuse('malformed', 'The presigned URL cannot be parsed.')
  const { query } = parsed
  const algorithm = single(query, 'X-Amz-Algorithm')
  const credential = single(query, 'X-Amz-Credential')
  const amzDate = single(query, 'X-Amz-Date') ?? ''
  const expires = single(query, 'X-Amz-Expires')
  const signedHeaders = single(query, 'X-Amz-SignedHeaders')
  const signature = single(query, 'X-Amz-Signature')
  const scope = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(credential ?? '')
  const signedAt = parseAmzDate(amzDate)
  if (
    algorithm !== ALGORITHM ||
    scope === null ||
    signedAt === undefined ||
    signedHeaders === undefined ||
    !/^[a-z0-9;-]+$/.test(signedHeaders) ||
    signature === undefined ||
    !/^[0-9a-f]{64}$/.test(signature)
  )
    return refuse(
      'malformed',
      'Query-string authentication requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    )
  if (expires === undefined || !/^\d{1,6}$/.test(expires) || Number(expires) < 1)
    return refuse('bad-expires', 'X-Amz-Expires must be a whole number of seconds, at least 1.')
  if (Number(expires) > 604_800)
    return refuse(
      'bad-expires',
      'X-Amz-Expires must be less than a week (in seconds) that is 604800.',
    )
  const now = options.clock()
  if (signedAt > now + MAX_SKEW_MS)
    return refuse(
      'signature-not-yet-current',
      'Request is not yet valid: X-Amz-Date is in the future.',
    )
  const lifetime = Math.min(Number(expires), options.maxExpiresSeconds ?? 604_800)
  const expiresAt = signedAt + lifetime * 1000
  if (now > expiresAt) return refuse('presigned-expired', 'Request has expired.')
  const result = checkClaim(
    {
      accessKeyId: scope[1]!,
      scopeDate: scope[2]!,
      region: scope[3]!,
      service: scope[4]!,
      amzDate,
      signedAt,
      signedHeaders,
      signature,
      sessionToken: single(query, 'X-Amz-Security-Token'),
      method: options.method ?? 'GET',
      path: parsed.path,
      query: query.filter(([name]) => name !== 'X-Amz-Signature'),
      headers: { ...options.headers, host: parsed.authority },
      // Presigned URLs carry no body: clients sign the empty-body hash, S3 presigners UNSIGNED-PAYLOAD.
      payloadHashes: [EMPTY_SHA256, UNSIGNED_PAYLOAD],
    },
    options.store,
    { region: options.region, service: options.service },
  )
  return result.ok ? { ...result, expiresAt } : result
}
