import { crc32 } from 'node:zlib'
import type { CredentialsStore } from './credentials-store.js'
import { ALGORITHM, parseAmzDate, sha256Hex } from './sigv4-canonical.js'
import {
  checkClaim,
  refuse,
  type SignedRequest,
  skewFailure,
  type VerifyResult,
  verifySigV4,
} from './sigv4-verifier.js'

/** The payload hash S3 accepts for aws-chunked uploads whose chunks are unsigned, checksum in a trailer. */
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'

const authorization = new RegExp(
  `^${ALGORITHM} Credential=([^/, ]+)/(\\d{8})/([^/, ]+)/([^/, ]+)/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$`,
)

const single = (value: string | readonly string[] | undefined) =>
  typeof value === 'string' ? value : value?.join(',')

/** A verified S3 request: the signature's verdict and the object bytes the body carried. */
export interface S3Payload {
  verdict: VerifyResult
  /** The object's bytes: the body, or the decoded chunks of an aws-chunked body. */
  bytes: Buffer
  /** Checksums the request declared (header or trailer), by name: `x-amz-checksum-crc32`. */
  checksums: Record<string, string>
}

/**
 * `aws-chunked` as S3 documents it: `<hex size>[;chunk-signature=...]\r\n<bytes>\r\n` until a
 * zero-size chunk, then trailer lines `name:value\r\n`, then `\r\n`.
 */
export function decodeAwsChunked(
  body: Buffer,
): { bytes: Buffer; trailers: Record<string, string> } | undefined {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const end = body.indexOf('\r\n', at)
    if (end < 0) return undefined
    const size = Number.parseInt(body.subarray(at, end).toString('latin1').split(';')[0]!, 16)
    if (!Number.isInteger(size) || size < 0) return undefined
    at = end + 2
    if (size === 0) break
    if (at + size + 2 > body.length) return undefined
    parts.push(body.subarray(at, at + size))
    at += size + 2
  }
  const trailers: Record<string, string> = {}
  for (const line of body.subarray(at).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0)
      trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { bytes: Buffer.concat(parts), trailers }
}

/** CRC32 as S3's `x-amz-checksum-crc32`: the 4 bytes big-endian, base64. */
export function crc32Base64(bytes: Uint8Array): string {
  const value = Buffer.alloc(4)
  value.writeUInt32BE(crc32(bytes) >>> 0)
  return value.toString('base64')
}

/**
 * Verifies an S3 request with S3's payload rules: the body's SHA-256, `UNSIGNED-PAYLOAD`, or an
 * aws-chunked body with unsigned chunks and a trailing checksum (what current SDKs send for a
 * streamed PutObject over HTTPS); its canonical request then uses the literal
 * `STREAMING-UNSIGNED-PAYLOAD-TRAILER` as the payload hash. Signed chunks
 * (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) are refused: the lab does not check chunk signatures.
 */
export async function verifyS3Request(
  request: Omit<SignedRequest, 'body'> & { body: Buffer },
  store: Pick<CredentialsStore, 'get' | 'isExpired'>,
  expected: { region: string; clock: () => number },
): Promise<S3Payload> {
  const declared = single(request.headers['x-amz-content-sha256'])
  const headerChecksums = Object.fromEntries(
    Object.entries(request.headers)
      .filter(([name]) => name.toLowerCase().startsWith('x-amz-checksum-'))
      .map(([name, value]) => [name.toLowerCase(), single(value) ?? '']),
  )
  if (declared === undefined || !declared.startsWith('STREAMING-')) {
    const verdict = await verifySigV4(request, store, { ...expected, service: 's3' })
    return { verdict, bytes: request.body, checksums: headerChecksums }
  }
  const refused = (message: string): S3Payload => ({
    verdict: refuse('payload-hash-mismatch', message),
    bytes: Buffer.alloc(0),
    checksums: {},
  })
  if (declared !== STREAMING_UNSIGNED_TRAILER)
    return refused(`The lab's S3 does not accept x-amz-content-sha256 ${declared}.`)
  const decoded = decodeAwsChunked(request.body)
  if (decoded === undefined) return refused('The aws-chunked body is malformed.')
  const match = authorization.exec(single(request.headers['authorization']) ?? '')
  const amzDate = single(request.headers['x-amz-date']) ?? ''
  const signedAt = parseAmzDate(amzDate)
  if (match === null || signedAt === undefined)
    return {
      verdict: refuse('malformed', 'Request is missing a valid SigV4 Authorization header.'),
      bytes: Buffer.alloc(0),
      checksums: {},
    }
  const [, accessKeyId, scopeDate, region, service, signedHeaders, signature] =
    match as unknown as string[]
  const verdict =
    skewFailure(signedAt, expected.clock()) ??
    checkClaim(
      {
        accessKeyId: accessKeyId!,
        scopeDate: scopeDate!,
        region: region!,
        service: service!,
        amzDate,
        signedAt,
        signedHeaders: signedHeaders!,
        signature: signature!,
        sessionToken: single(request.headers['x-amz-security-token']),
        method: request.method,
        path: request.path,
        query: Object.entries(request.query).flatMap(([name, value]) =>
          (typeof value === 'string' ? [value] : value).map((v) => [name, v] as const),
        ),
        headers: request.headers,
        payloadHashes: [STREAMING_UNSIGNED_TRAILER],
      },
      store,
      { region: expected.region, service: 's3' },
    )
  return {
    verdict,
    bytes: decoded.bytes,
    checksums: { ...headerChecksums, ...decoded.trailers },
  }
}

/** Whether the body's SHA-256 or CRC32 disagrees with what the request declared for it. */
export function checksumMismatch(
  bytes: Buffer,
  checksums: Record<string, string>,
): string | undefined {
  const crc = checksums['x-amz-checksum-crc32']
  if (crc !== undefined && crc !== crc32Base64(bytes)) return 'x-amz-checksum-crc32'
  const sha = checksums['x-amz-checksum-sha256']
  if (sha !== undefined && sha !== Buffer.from(sha256Hex(bytes), 'hex').toString('base64'))
    return 'x-amz-checksum-sha256'
  return undefined
}
