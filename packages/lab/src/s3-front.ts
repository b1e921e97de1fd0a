import type { IncomingMessage, ServerResponse } from 'node:http'
import { invalidOption } from '@privatelink/core'
import { newRequestId } from './identifiers.js'
import type { LabFront, LabFrontContext } from './lab.js'
import { groupQuery, parseRawQuery } from './query-protocol.js'
import { S3Buckets, s3ErrorXml } from './s3-objects.js'
import { checksumMismatch, verifyS3Request } from './s3-payload.js'
import { readBytes, startFrontTls } from './s3-tls-server.js'
import type { VerifyFailureDetail } from './sigv4-verifier.js'

/** Options of `s3Front`; every one optional. */
export interface S3FrontOptions {
  /** The front's name, for a lab service's `target: { front }`. @default 's3' */
  name?: string
  /** Buckets present from the start. @default [] */
  buckets?: string[]
  /** Access points: name -> the bucket it serves (in the lab's account). @default {} */
  accessPoints?: Record<string, string>
}

/** How a request named its bucket. */
export type S3Addressing = 'virtual-hosted' | 'path' | 'access-point'

/** One request the front answered. */
export interface S3Request {
  /** `GetObject`, `PutObject`, `ListObjectsV2`, or '' when unknown. */
  operation: string
  /** The Host header the SDK called. */
  host: string
  /** The TLS name (SNI) the client presented. */
  servername: string
  /** How the bucket was named. */
  addressing?: S3Addressing
  /** The bucket (an access point's bucket for access point calls). */
  bucket?: string
  /** `x-amz-content-sha256` as sent: a hex hash, `UNSIGNED-PAYLOAD` or `STREAMING-...`. */
  payload?: string
  /** The HTTP status answered. */
  status: number
  /** The error code, for refusals. */
  error?: string
}

/** The S3 front: a lab front, plus its buckets and the requests tests read. */
export interface S3Front extends LabFront {
  /** Every request answered, oldest first. */
  readonly requests: readonly S3Request[]
  /** The names the front's certificate carries (once started): what AWS's endpoint presents. */
  readonly certificateNames: readonly string[]
  /** An object's bytes, for tests; undefined when absent. */
  object(bucket: string, key: string): Buffer | undefined
}

const MAX_REQUESTS = 10_000

/**
 * The names an S3 interface endpoint presents: its vpce names for buckets, access points and
 * control (`*.bucket.vpce-...`, `*.accesspoint.vpce-...`, `*.control.vpce-...`, AWS's DNS entry
 * `*.vpce-...s3.<region>.vpce.amazonaws.com`); with private DNS the service's names too:
 * `s3.<region>`, `*.s3.<region>`, `*.s3-accesspoint.<region>`, `s3-control.<region>` and
 * `*.s3-control.<region>` (.amazonaws.com).
 */
export function s3CertificateNames(context: LabFrontContext): string[] {
  const { regional, zonal, privateDnsName } = context.endpointNames
  const vpce = [regional, ...zonal].flatMap((name) => [
    `*.${name}`,
    `*.bucket.${name}`,
    `*.accesspoint.${name}`,
    `*.control.${name}`,
  ])
  if (privateDnsName === undefined && context.gatewayService !== 's3') return vpce
  const base = `${context.region}.${context.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`
  return [
    ...vpce,
    `s3.${base}`,
    `*.s3.${base}`,
    `*.s3-accesspoint.${base}`,
    `s3-control.${base}`,
    `*.s3-control.${base}`,
  ]
}

interface Addressed {
  addressing: S3Addressing
  bucket: string
  key: string
}

/** Which bucket and key a request names, from its Host (S3's three kinds of names) and path. */
function addressOf(
  host: string,
  path: string,
  context: LabFrontContext,
  accessPoints: Record<string, string>,
): Addressed | { refusal: string } {
  const { regional, zonal } = context.endpointNames
  const base = `${context.region}.${context.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`
  const segments = path.split('/').slice(1).map(decodeURIComponent)
  const pathStyle = [`s3.${base}`, ...[regional, ...zonal].map((n) => `bucket.${n}`)]
  if (pathStyle.includes(host))
    return { addressing: 'path', bucket: segments[0] ?? '', key: segments.slice(1).join('/') }
  const key = segments.join('/')
  for (const suffix of [`.s3.${base}`, ...[regional, ...zonal].map((n) => `.bucket.${n}`)])
    if (host.endsWith(suffix))
      return { addressing: 'virtual-hosted', bucket: host.slice(0, -suffix.length), key }
  for (const suffix of [
    `.s3-accesspoint.${base}`,
    ...[regional, ...zonal].map((n) => `.accesspoint.${n}`),
  ]) {
    if (!host.endsWith(suffix)) continue
    const match = /^(.+)-(\d{12})$/.exec(host.slice(0, -suffix.length))
    const bucket = match === null ? undefined : accessPoints[match[1]!]
    if (match === null || match[2] !== context.accountId || bucket === undefined)
      return { refusal: 'NoSuchAccessPoint' }
    return { addressing: 'access-point', bucket, key }
  }
  return { refusal: 'InvalidHostHeader' }
}

const refusalCodes: Partial<Record<VerifyFailureDetail, [number, string]>> = {
  malformed: [403, 'AccessDenied'],
  'unknown-key': [403, 'InvalidAccessKeyId'],
  'session-token-mismatch': [400, 'InvalidToken'],
  'credentials-expired': [400, 'ExpiredToken'],
  'payload-hash-mismatch': [400, 'XAmzContentSHA256Mismatch'],
  'signature-expired': [403, 'RequestTimeTooSkewed'],
  'signature-not-yet-current': [403, 'RequestTimeTooSkewed'],
  'wrong-region': [400, 'AuthorizationHeaderMalformed'],
}

/**
 * An S3 API for the lab: GetObject, PutObject and ListObjectsV2 (REST, XML) on in-memory
 * buckets, reached by all three of S3's kinds of names (virtual-hosted, path-style, access
 * point; under the service's names and the endpoint's vpce names), every request SigV4-verified
 * by the lab's own verifier with S3's payload rules (`x-amz-content-sha256`, `UNSIGNED-PAYLOAD`,
 * aws-chunked with a trailing checksum) and declared checksums checked. Behind a lab service it
 * is an S3 interface endpoint with the certificate that endpoint presents (`s3CertificateNames`).
 */
export function s3Front(options: S3FrontOptions = {}): S3Front {
  if (options === null || typeof options !== 'object')
    throw invalidOption('options', 'an object', options)
  const name = options.name ?? 's3'
  const accessPoints = { ...(options.accessPoints ?? {}) }
  const buckets = new S3Buckets()
  for (const bucket of options.buckets ?? []) buckets.create(bucket)
  const requests: S3Request[] = []
  let certificateNames: string[] = []

  const serve =
    (context: LabFrontContext) =>
    async (request: IncomingMessage, response: ServerResponse, servername: string) => {
      const requestId = newRequestId()
      const host = String(request.headers.host ?? '').toLowerCase()
      const url = request.url ?? '/'
      const queryStart = url.indexOf('?')
      const path = queryStart < 0 ? url : url.slice(0, queryStart)
      const query = new URLSearchParams(queryStart < 0 ? '' : url.slice(queryStart + 1))
      const entry: S3Request = { operation: '', host, servername, status: 200 }
      const declared = request.headers['x-amz-content-sha256']
      if (typeof declared === 'string') entry.payload = declared
      const finish = (status: number, body: string | Buffer, headers: Record<string, string>) => {
        entry.status = status
        requests.push(entry)
        if (requests.length > MAX_REQUESTS) requests.shift()
        response.writeHead(status, { 'x-amz-request-id': requestId, ...headers })
        response.end(body)
      }
      const fail = (status: number, code: string, message: string, key?: string) => {
        entry.error = code
        finish(status, s3ErrorXml(code, message, requestId, key), {
          'content-type': 'application/xml',
        })
      }
      response.setHeader('date', new Date(context.clock()).toUTCString())
      const body = await readBytes(request)
      const payload = await verifyS3Request(
        {
          method: request.method ?? 'GET',
          path,
          query: groupQuery(parseRawQuery(url) ?? []),
          headers: request.headers,
          body,
        },
        context.store,
        { region: context.region, clock: context.clock },
      )
      if (!payload.verdict.ok) {
        const [status, code] = refusalCodes[payload.verdict.detail] ?? [
          403,
          'SignatureDoesNotMatch',
        ]
        return fail(status, code, payload.verdict.message)
      }
      // A Host with a port (a lab service on an unprivileged port) names the same bucket: S3
      // reads the name, not the port.
      const addressed = addressOf(host.replace(/:\d+$/, ''), path, context, accessPoints)
      if ('refusal' in addressed)
        return fail(400, addressed.refusal, `The lab's S3 does not serve ${host}.`)
      Object.assign(entry, { addressing: addressed.addressing, bucket: addressed.bucket })
      if (!buckets.has(addressed.bucket))
        return fail(404, 'NoSuchBucket', 'The specified bucket does not exist')
      const method = request.method ?? 'GET'
      if (method === 'PUT' && addressed.key !== '') {
        entry.operation = 'PutObject'
        const wrong = checksumMismatch(payload.bytes, payload.checksums)
        if (wrong !== undefined)
          return fail(
            400,
            'BadDigest',
            `The ${wrong} you specified did not match the calculated checksum.`,
          )
        const contentType = String(request.headers['content-type'] ?? 'binary/octet-stream')
        const stored = buckets.put(
          addressed.bucket,
          addressed.key,
          payload.bytes,
          contentType,
          new Date(context.clock()),
        )
        return finish(200, '', { etag: stored.etag })
      }
      if (method === 'GET' && addressed.key === '' && query.get('list-type') === '2') {
        entry.operation = 'ListObjectsV2'
        return finish(200, buckets.listV2(addressed.bucket, query), {
          'content-type': 'application/xml',
        })
      }
      if (method === 'GET' && addressed.key !== '') {
        entry.operation = 'GetObject'
        const object = buckets.get(addressed.bucket, addressed.key)
        if (object === undefined)
          return fail(404, 'NoSuchKey', 'The specified key does not exist.', addressed.key)
        return finish(200, object.bytes, {
          'content-type': object.contentType,
          'content-length': String(object.bytes.length),
          etag: object.etag,
          'last-modified': object.lastModified.toUTCString(),
        })
      }
      return fail(
        501,
        'NotImplemented',
        `The lab's S3 serves GetObject, PutObject and ListObjectsV2, not ${method} ${path}.`,
      )
    }

  return {
    name,
    requests,
    get certificateNames() {
      return certificateNames
    },
    object: (bucket, key) => buckets.get(bucket, key)?.bytes,
    async start(context: LabFrontContext) {
      certificateNames = s3CertificateNames(context)
      const certificate = await context.ca.issue(certificateNames)
      const tls = await startFrontTls(certificate, serve(context))
      return { host: '127.0.0.1', port: tls.port, close: () => tls.close() }
    },
  }
}
