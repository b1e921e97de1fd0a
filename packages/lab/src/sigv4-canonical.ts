import { createHash, createHmac } from 'node:crypto'

/**
 * Signature Version 4 arithmetic, written from the AWS specification ("Create a signed AWS API
 * request") rather than borrowed from a client signer, so the lab's verifier does not share a
 * client's blind spots. Pure functions: no clock, no key store.
 */

export const ALGORITHM = 'AWS4-HMAC-SHA256'
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

export const sha256Hex = (data: string | Uint8Array): string =>
  createHash('sha256').update(data).digest('hex')

/** RFC 3986 percent-encoding: everything but A-Z a-z 0-9 - . _ ~ (and `/` when asked), upper-case hex. */
export function uriEncode(value: string, keepSlash = false): string {
  // encodeURIComponent leaves !'()* alone; SigV4 encodes them.
  const encoded = encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
  return keepSlash ? encoded.replace(/%2F/g, '/') : encoded
}

/**
 * The canonical URI of a path as it was sent on the wire. Every service but S3 normalises the path
 * (`.`/`..` segments, repeated slashes) and encodes it once more ("double encoding"); S3 signs the
 * path as sent.
 */
export function canonicalUri(path: string, options: { s3Style: boolean }): string {
  if (path === '') return '/'
  if (options.s3Style) return path
  const segments: string[] = []
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') segments.pop()
    else segments.push(segment)
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : ''
  return uriEncode(`/${segments.join('/')}${trailing}`, true)
}

/** Decoded name/value pairs -> the canonical query string: each side encoded, sorted by name then value. */
export function canonicalQuery(pairs: readonly (readonly [string, string])[]): string {
  return pairs
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&')
}

export type HeaderValue = string | readonly string[] | undefined

/** Trimmed, inner runs of spaces collapsed; repeated headers joined with `,`. */
export function canonicalHeaderValue(value: string | readonly string[]): string {
  const values = typeof value === 'string' ? [value] : value
  return values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',')
}

/**
 * The canonical headers block for `signedNames` (already lower-case, `;`-separated order kept), or
 * undefined when a signed header is absent: a request cannot be verified without it.
 */
export function canonicalHeaders(
  headers: Readonly<Record<string, HeaderValue>>,
  signedNames: readonly string[],
): string | undefined {
  const lower = new Map<string, string | readonly string[]>()
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) lower.set(name.toLowerCase(), value)
  }
  let block = ''
  for (const name of signedNames) {
    const value = lower.get(name)
    if (value === undefined) return undefined
    block += `${name}:${canonicalHeaderValue(value)}\n`
  }
  return block
}

export interface CanonicalRequestParts {
  method: string
  canonicalUri: string
  canonicalQuery: string
  canonicalHeaders: string
  signedHeaders: string
  payloadHash: string
}

export const canonicalRequest = (parts: CanonicalRequestParts): string =>
  [
    parts.method.toUpperCase(),
    parts.canonicalUri,
    parts.canonicalQuery,
    parts.canonicalHeaders,
    parts.signedHeaders,
    parts.payloadHash,
  ].join('\n')

/** `date/region/service/aws4_request` */
export const credentialScope = (date: string, region: string, service: string): string =>
  `${date}/${region}/${service}/aws4_request`

export const stringToSign = (amzDate: string, scope: string, request: string): string =>
  [ALGORITHM, amzDate, scope, sha256Hex(request)].join('\n')

const hmac = (key: string | Buffer, data: string): Buffer =>
  createHmac('sha256', key).update(data, 'utf8').digest()

export function signingKey(
  secretAccessKey: string,
  date: string,
  region: string,
  service: string,
): Buffer {
  const dateKey = hmac(`AWS4${secretAccessKey}`, date)
  return hmac(hmac(hmac(dateKey, region), service), 'aws4_request')
}

export const signatureOf = (key: Buffer, toSign: string): string =>
  createHmac('sha256', key).update(toSign, 'utf8').digest('hex')

/** `20150830T123600Z` -> epoch milliseconds, or undefined when it is not a valid basic ISO 8601 date. */
export function parseAmzDate(value: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (match === null) return undefined
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[]
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!)
  // Date.UTC rolls 20150231 over to March: a date that does not round-trip is not a date.
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '') === value ? ms : undefined
}

export const formatAmzDate = (ms: number): string =>
  new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '')

/** Services that sign like S3: the path as sent, and `UNSIGNED-PAYLOAD` allowed. */
export const isS3Style = (service: string): boolean =>
  service === 's3' || service === 's3-object-lambda' || service === 's3express'
