import { createHash, createHmac } from 'node:crypto'

// An independent SigV4 implementation for tests, written from the AWS spec with node:crypto and
// byte-level encoding, sharing no code with @smithy/signature-v4 (the code under test uses it).

export const suiteCredentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
}
export const suiteDate = '20150830T123600Z'
export const suiteClock = () => Date.UTC(2015, 7, 30, 12, 36, 0)

const hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest()

export function signatureOf(
  canonicalRequest: string,
  secretAccessKey: string,
  options: { date?: string; region?: string; service?: string } = {},
): string {
  const date = options.date ?? suiteDate
  const region = options.region ?? 'us-east-1'
  const service = options.service ?? 'service'
  const scope = `${date.slice(0, 8)}/${region}/${service}/aws4_request`
  const stringToSign = `AWS4-HMAC-SHA256\n${date}\n${scope}\n${hex(canonicalRequest)}`
  let key = hmac(`AWS4${secretAccessKey}`, date.slice(0, 8))
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part)
  return createHmac('sha256', key).update(stringToSign).digest('hex')
}

const unreserved = /[A-Za-z0-9\-._~]/

/** UriEncode from the spec: every byte outside the RFC 3986 unreserved set as %XX, upper case. */
function uriEncode(bytes: Buffer): string {
  let out = ''
  for (const byte of bytes) {
    const char = String.fromCharCode(byte)
    out +=
      byte < 0x80 && unreserved.test(char)
        ? char
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** Percent-decodes to bytes; '+' stays '+', a '%' without two hex digits stays '%'. */
function percentDecode(text: string): Buffer {
  const bytes: number[] = []
  const raw = Buffer.from(text)
  for (let index = 0; index < raw.length; index++) {
    const byte = raw[index]!
    const pair = raw.subarray(index + 1, index + 3).toString('latin1')
    if (byte === 0x25 && /^[0-9A-Fa-f]{2}$/.test(pair)) {
      bytes.push(Number.parseInt(pair, 16))
      index += 2
    } else bytes.push(byte)
  }
  return Buffer.from(bytes)
}

export function canonicalQuery(search: string): string {
  const pairs: [string, string][] = []
  for (const segment of search.split('&')) {
    if (segment === '') continue
    const equals = segment.indexOf('=')
    const key = equals === -1 ? segment : segment.slice(0, equals)
    const value = equals === -1 ? '' : segment.slice(equals + 1)
    pairs.push([uriEncode(percentDecode(key)), uriEncode(percentDecode(value))])
  }
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  pairs.sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]))
  return pairs.map(([key, value]) => `${key}=${value}`).join('&')
}

/** Canonical URI for every service but S3: dot segments and empty segments removed, encoded once more. */
export function canonicalPath(path: string): string {
  const segments: string[] = []
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') segments.pop()
    else segments.push(segment)
  }
  const encoded = segments.map((segment) => uriEncode(Buffer.from(segment)))
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : ''
  return `/${encoded.join('/')}${trailing}`
}

export interface RawRequest {
  method: string
  /** The request target exactly as received: path and query. */
  target: string
  /** Header name/value pairs as received (Node's rawHeaders). */
  rawHeaders: string[]
  body: Buffer
}

export type Verdict =
  | { ok: true; payloadHash: string; canonicalRequest: string }
  | { ok: false; reason: string }

/** Verifies a received request the way an AWS service does, from its raw bytes. */
export function verifyRequest(
  request: RawRequest,
  secretAccessKey: string,
  options: { region: string; service: string },
): Verdict {
  const headers = new Map<string, string[]>()
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index]!.toLowerCase()
    headers.set(name, [...(headers.get(name) ?? []), request.rawHeaders[index + 1]!])
  }
  const authorization = headers.get('authorization')?.[0] ?? ''
  const match =
    /^AWS4-HMAC-SHA256 Credential=[^/]+\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      authorization,
    )
  if (match === null) return { ok: false, reason: 'no SigV4 authorization' }
  const [, , region, service, signedHeaders, signature] = match as unknown as string[]
  if (region !== options.region || service !== options.service)
    return { ok: false, reason: `scope ${region}/${service}` }
  const date = headers.get('x-amz-date')?.[0] ?? ''
  const declared = headers.get('x-amz-content-sha256')?.[0]
  const actual = hex(request.body)
  if (declared !== undefined && declared !== 'UNSIGNED-PAYLOAD' && declared !== actual)
    return { ok: false, reason: 'x-amz-content-sha256 does not match the body' }
  const payloadHash = declared === 'UNSIGNED-PAYLOAD' ? declared : actual
  const names = signedHeaders!.split(';')
  if (!names.includes('host')) return { ok: false, reason: 'host not signed' }
  const canonicalHeaders = names
    .map((name) => {
      const values = (headers.get(name) ?? []).map((value) => value.trim().replace(/\s+/g, ' '))
      return `${name}:${values.join(',')}\n`
    })
    .join('')
  const index = request.target.indexOf('?')
  const path = index === -1 ? request.target : request.target.slice(0, index)
  const search = index === -1 ? '' : request.target.slice(index + 1)
  const canonicalRequest = [
    request.method,
    canonicalPath(path),
    canonicalQuery(search),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n')
  const expected = signatureOf(canonicalRequest, secretAccessKey, {
    date,
    region: region!,
    service: service!,
  })
  return expected === signature
    ? { ok: true, payloadHash, canonicalRequest }
    : { ok: false, reason: 'signature mismatch' }
}
