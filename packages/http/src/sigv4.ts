import {
  type AwsCredentials,
  type AwsCredentialsProvider,
  checkOptions,
  credentialSource,
  credentialsOption,
  integerOption,
  invalidOption,
  invalidSecretOption,
  requiredStringOption,
} from '@privatelink/base'
import type { Dispatcher } from 'undici'
import { type PreparedBody, prepareBody } from './sigv4-body.js'
import {
  bodyTooLarge,
  locationOf,
  type SigningTarget,
  signingFailed,
  unsafeTarget,
  unsignableQuery,
} from './sigv4-errors.js'
import { SIGNED, type SignedMark } from './sigv4-marker.js'
import {
  parseSigningQuery,
  type SigningQuery,
  splitTarget,
  UnsignableQueryError,
} from './sigv4-query.js'
import { lazySigner } from './sigv4-signer.js'

// base's type, the SDK's own AwsCredentialIdentity: what any SDK provider returns fits as it is.
export type { AwsCredentials } from '@privatelink/base'

/** Options of {@link sigv4}. */
export interface SigV4Options {
  /** Signing name of the service: `execute-api` for API Gateway, `s3`, `lambda`, ... @default 'execute-api' */
  service?: string
  /** The region requests are signed for, e.g. `us-west-2` (the service's, for cross-region). */
  region: string
  /**
   * Credentials, or a provider (any AwsCredentialIdentityProvider, e.g. fromNodeProviderChain()).
   * A provider is called for each request; one whose credentials have expired (by `clock`) is
   * asked again with `{ forceRefresh: true }`.
   */
  credentials: AwsCredentials | AwsCredentialsProvider
  /**
   * Largest body the signer buffers to hash it when the body is a stream, an iterable, a Blob or
   * FormData. `fetch()` always hands its body over as a stream, so this bounds every fetch body.
   * Strings and byte arrays are already in memory and are hashed whatever their size.
   * @default 10485760 (10 MiB)
   */
  maxBufferedBodyBytes?: number
  /**
   * Send a body larger than `maxBufferedBodyBytes` with `x-amz-content-sha256: UNSIGNED-PAYLOAD`
   * instead of failing with ERR_SIGV4_BODY_TOO_LARGE. Only for services that accept unsigned
   * payloads (Amazon S3); API Gateway and most services reject them. Bodies under the limit are
   * still hashed. `maxBufferedBodyBytes: 0` with this option never buffers.
   * @default false
   */
  unsignedPayload?: boolean
  /** Source of the signing time, in ms since the epoch (tests pin it). @default Date.now */
  clock?: () => number
  /**
   * Hostnames requests may be signed for (any port), redirects included; a request (or a
   * redirect) to any other host fails with ERR_SIGV4_UNSAFE_TARGET before it is signed. Without
   * it, the signer signs for one host only: the first it signs for (name and port); make one
   * signer per host, as the AWS SDK makes one per client. An endpoint dispatcher's passthrough
   * sends signed requests only to listed hosts.
   * @default the first host signed for
   */
  hosts?: string[]
}

const CREDENTIALS = 'AWS credentials (with a secretAccessKey) or a credential provider'
/** @default 10 MiB: a typical API payload is far smaller; buffering more per request risks memory. */
const DEFAULT_MAX_BUFFERED_BODY_BYTES = 10 * 1024 * 1024
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'

type Headers = Record<string, string>

/** The request shape `SignatureV4.sign` takes and returns (its HttpRequest overload). */
interface SigningRequest {
  method: string
  protocol: string
  hostname: string
  path: string
  query: SigningQuery
  headers: Headers
  body: Buffer | undefined
}
interface RequestSigner {
  sign(request: SigningRequest, options: { signingDate: Date }): Promise<{ headers: Headers }>
}

// SigV4 joins repeated header values with ',' (no space); sending the joined value keeps the
// service's canonical form identical to ours.
function headerObject(headers: Dispatcher.DispatchOptions['headers']): Headers {
  const result: Headers = {}
  if (headers == null) return result
  const add = (name: unknown, value: unknown): void => {
    if (value === undefined || value === null) return
    const key = String(name).toLowerCase()
    const text = Array.isArray(value) ? value.map(String).join(',') : String(value)
    result[key] = result[key] === undefined ? text : `${result[key]},${text}`
  }
  if (Array.isArray(headers)) {
    for (let index = 0; index + 1 < headers.length; index += 2)
      add(headers[index], headers[index + 1])
    return result
  }
  const entries =
    typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function'
      ? (headers as Iterable<[string, string]>)
      : Object.entries(headers)
  for (const [name, value] of entries) add(name, value)
  return result
}

function declaredLength(headers: Headers): number | undefined {
  const value = headers['content-length']
  if (value === undefined || !/^\d+$/.test(value)) return undefined
  return Number(value)
}

class CredentialsFailure extends Error {
  constructor(cause: unknown) {
    super('credential provider failed', { cause })
  }
}

/** The controller an error-first `onResponseError` receives when no request was started. */
function failedController(reason: Error): Dispatcher.DispatchController {
  return {
    aborted: true,
    paused: false,
    reason,
    abort() {},
    pause() {},
    resume() {},
  } as unknown as Dispatcher.DispatchController
}

/**
 * undici's contract: a dispatch error goes to the handler, never thrown and never a rejection
 * (which would exit Node: this interceptor works asynchronously, so nothing above it can catch).
 */
function deliverError(handler: Dispatcher.DispatchHandler, error: Error): void {
  try {
    if (typeof handler.onResponseError === 'function')
      handler.onResponseError(failedController(error), error)
    else (handler as { onError?: (error: Error) => void }).onError?.(error)
  } catch {
    // A handler with no error callback throws here; there is no one left to tell.
  }
}

function validate(options: SigV4Options): void {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object', options)
  requiredStringOption('region', options.region, 'an AWS region such as us-east-1')
  if (
    options.service !== undefined &&
    (typeof options.service !== 'string' || options.service === '')
  )
    throw invalidOption('service', "a SigV4 signing name such as 'execute-api'", options.service)
  // Refused values are described by type only: they may hold a secret. Required: the signer
  // has no default chain to fall back on.
  const credentials = credentialsOption('credentials', options.credentials)
  if (typeof credentials !== 'function' && typeof credentials?.secretAccessKey !== 'string')
    throw invalidSecretOption('credentials', CREDENTIALS, credentials)
  if (
    typeof credentials === 'object' &&
    credentials.sessionToken !== undefined &&
    typeof credentials.sessionToken !== 'string'
  )
    throw invalidSecretOption('credentials.sessionToken', 'a string', credentials.sessionToken)
  integerOption('maxBufferedBodyBytes', options.maxBufferedBodyBytes, 0, 0)
  if (options.unsignedPayload !== undefined && typeof options.unsignedPayload !== 'boolean')
    throw invalidOption('unsignedPayload', 'a boolean', options.unsignedPayload)
  if (options.clock !== undefined && typeof options.clock !== 'function')
    throw invalidOption('clock', 'a function', options.clock)
  const { hosts } = options
  if (
    hosts !== undefined &&
    (!Array.isArray(hosts) ||
      hosts.length === 0 ||
      hosts.some((host) => typeof host !== 'string' || host === '' || host.includes('/')))
  )
    throw invalidOption('hosts', 'a non-empty array of hostnames', hosts)
}

/**
 * Signs each request with SigV4 (IAM-authorised API Gateway APIs, AWS services). Signs the final
 * Host, path and query (canonicalised per the SigV4 spec) and the SHA-256 of the body: bodies not
 * in memory (streams, and every `fetch()` body) are buffered up to `maxBufferedBodyBytes`. Every
 * failure reaches the handler's error callback. Never logs or publishes signatures or credentials.
 */
export function sigv4(options: SigV4Options): Dispatcher.DispatcherComposeInterceptor {
  // A value that throws when read (a revoked Proxy, a throwing getter) is ERR_INVALID_OPTION.
  return checkOptions('options', options, () => buildSigv4(options))
}

function buildSigv4(options: SigV4Options): Dispatcher.DispatcherComposeInterceptor {
  validate(options)
  const service = options.service ?? 'execute-api'
  const region = options.region
  const limit = options.maxBufferedBodyBytes ?? DEFAULT_MAX_BUFFERED_BODY_BYTES
  const allowUnsigned = options.unsignedPayload ?? false
  const clock = options.clock ?? Date.now
  const { credentials } = options
  const listed =
    options.hosts === undefined
      ? undefined
      : new Set(options.hosts.map((host) => host.toLowerCase().replace(/\.$/, '')))
  // Without `hosts`, the signer is locked to the first host it signs (name and port), as an AWS
  // SDK signer is made for one client and host: fetch follows a redirect with a new request, which
  // no per-request check can tell from a first request, so a 302 to another host must fail here.
  // Set before any await, so concurrent first requests cannot each claim a different host.
  let lockedTo: string | undefined

  function checkHost(target: SigningTarget, origin: URL, path: unknown): void {
    const hostname = origin.hostname.toLowerCase().replace(/\.$/, '')
    if (listed !== undefined) {
      // The caller named every host that may receive signed requests, redirects included.
      if (!listed.has(hostname)) throw unsafeTarget(target, 'other-host', locationOf(origin, path))
      return
    }
    const host = origin.port === '' ? hostname : `${hostname}:${origin.port}`
    lockedTo ??= host
    if (lockedTo !== host)
      throw unsafeTarget(target, 'other-host', locationOf(origin, path), lockedTo)
  }

  const source = credentialSource({
    credentials,
    clock,
    // Never called: validate() requires credentials.
    loadDefault: () => Promise.reject(new Error('sigv4() has no default credential chain')),
  })
  // Tags a provider failure, so the error can say the credentials (not the signing) failed.
  const provider = () =>
    source().catch((cause: unknown) => {
      throw new CredentialsFailure(cause)
    })
  const signer = lazySigner({ service, region, credentials: provider })

  async function signAndDispatch(
    dispatch: Dispatcher.Dispatch,
    dispatchOptions: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
  ): Promise<void> {
    const origin = new URL(String(dispatchOptions.origin))
    const target: SigningTarget = { service, region, host: origin.host }
    // Checked before anything is signed (or a credential fetched): a signed request in clear text
    // can be replayed by anyone on the path, and another host would get the key ID and token.
    if (origin.protocol !== 'https:')
      throw unsafeTarget(target, 'plaintext', locationOf(origin, dispatchOptions.path))
    checkHost(target, origin, dispatchOptions.path)
    const headers = headerObject(dispatchOptions.headers)
    headers['host'] ??= origin.host
    const { path, search } = splitTarget(String(dispatchOptions.path ?? '/'))
    let query: SigningQuery
    try {
      query = parseSigningQuery(search)
    } catch (error) {
      if (error instanceof UnsignableQueryError)
        throw unsignableQuery(target, error.component, error.reason)
      throw error
    }

    let body: unknown = dispatchOptions.body
    let bytes: Buffer | undefined
    // A body streamed on unsigned is half read: if signing then fails, release its source.
    let releaseOnFailure: (() => Promise<void>) | undefined
    // A payload hash the caller set (UNSIGNED-PAYLOAD, or one computed ahead) is theirs to keep.
    if (headers['x-amz-content-sha256'] === undefined) {
      const prepared: PreparedBody = await prepareBody(body, limit, declaredLength(headers))
      if (prepared.kind === 'bytes') {
        bytes = prepared.bytes
        body = bytes
        if (prepared.contentType !== undefined) headers['content-type'] ??= prepared.contentType
      } else if (prepared.kind === 'oversized') {
        if (!allowUnsigned) {
          await prepared.release().catch(() => {})
          throw bodyTooLarge(target, limit, prepared.bytesSeen)
        }
        body = prepared.body
        releaseOnFailure = prepared.release
        headers['x-amz-content-sha256'] = UNSIGNED_PAYLOAD
      } else {
        headers['x-amz-content-sha256'] = UNSIGNED_PAYLOAD
      }
    }

    let signed: { headers: Headers }
    try {
      signed = await sign(target, {
        method: dispatchOptions.method,
        protocol: origin.protocol,
        hostname: origin.hostname,
        path,
        query,
        headers,
        body: bytes,
      })
    } catch (error) {
      await releaseOnFailure?.().catch(() => {})
      throw error
    }
    const mark: SignedMark = { service, region, listed: listed !== undefined }
    dispatch(
      {
        ...dispatchOptions,
        headers: signed.headers,
        body: body as never,
        // A redirect interceptor below the signer would resend these headers to wherever the
        // Location points (undici keeps x-amz-security-token across hosts): not below us.
        // Compose the redirect interceptor outside sigv4(), so each hop is checked and signed.
        maxRedirections: 0,
        [SIGNED]: mark,
      } as Dispatcher.DispatchOptions,
      handler,
    )
  }

  async function sign(
    target: SigningTarget,
    request: SigningRequest,
  ): Promise<{ headers: Headers }> {
    let instance: RequestSigner
    try {
      instance = (await signer()) as unknown as RequestSigner
    } catch (cause) {
      throw signingFailed(target, 'loading', cause)
    }
    try {
      return await instance.sign(request, { signingDate: new Date(clock()) })
    } catch (cause) {
      throw cause instanceof CredentialsFailure
        ? signingFailed(target, 'credentials', cause.cause)
        : signingFailed(target, 'signing', cause)
    }
  }

  return (dispatch) => (dispatchOptions, handler) => {
    signAndDispatch(dispatch, dispatchOptions, handler).catch((error: unknown) =>
      deliverError(handler, error instanceof Error ? error : new Error(String(error))),
    )
    return true
  }
}
