import { PrivateLinkError, sanitizedCause } from '@privatelink/core'

/** Where a request was going: named in every SigV4 error, so a failure points at a call site. */
export interface SigningTarget {
  service: string
  region: string
  host: string
}

// Credentials never reach these errors: only the target, sizes and the cause's own error.

const failureHints = {
  credentials:
    'Check that the credential provider returns credentials (an expired SSO session, a missing role or no network path to STS / IMDS are the usual causes).',
  signing:
    'Check that the credentials have an accessKeyId and a secretAccessKey, and that the request headers are valid.',
  loading:
    'The signer is imported on the first signed request: check that @smithy/signature-v4 and @smithy/hash-node (dependencies of @privatelink/http) are installed, and that a bundler did not leave them out.',
}

export function signingFailed(
  target: SigningTarget,
  stage: keyof typeof failureHints,
  cause: unknown,
): PrivateLinkError {
  const where = `${target.host} with SigV4 (service ${target.service}, region ${target.region})`
  const why =
    stage === 'credentials'
      ? ': the credential provider failed'
      : stage === 'loading'
        ? ': the signer could not be loaded'
        : ''
  return new PrivateLinkError('ERR_SIGV4_FAILED', `Could not sign the request to ${where}${why}`, {
    hint: failureHints[stage],
    details: { ...target, stage },
    // A provider's error is often the AWS SDK's (STS, SSO): its hidden $response holds the signed
    // request (Authorization, session token). Keep only its facts, as every package does.
    cause: sanitizedCause(cause),
  })
}

export function bodyTooLarge(
  target: SigningTarget,
  limit: number,
  bytesSeen: number,
): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_SIGV4_BODY_TOO_LARGE',
    `The request body to ${target.host} is larger than maxBufferedBodyBytes (${limit} bytes): SigV4 must hash it before sending and will not buffer more (service ${target.service}, region ${target.region})`,
    {
      hint: 'Raise maxBufferedBodyBytes, pass the body as a string or bytes, or set unsignedPayload: true if the service accepts UNSIGNED-PAYLOAD (Amazon S3 does; API Gateway and most services do not).',
      details: { ...target, maxBufferedBodyBytes: limit, bytesSeen },
    },
  )
}

export function unsignableQuery(
  target: SigningTarget,
  component: string,
  reason: 'not-utf8' | 'reserved-key',
): PrivateLinkError {
  const why =
    reason === 'not-utf8'
      ? `has percent-escapes that are not UTF-8 ('${component}')`
      : `has the key '${component}', which @smithy/signature-v4 drops from the canonical query`
  return new PrivateLinkError(
    'ERR_SIGV4_INVALID_QUERY',
    `The query of a request to ${target.host} ${why}; SigV4 cannot sign it (service ${target.service}, region ${target.region})`,
    {
      hint:
        reason === 'not-utf8'
          ? "Percent-encode query keys and values from their UTF-8 bytes (encodeURIComponent, URLSearchParams or the URL class do); '%' as data is '%25'."
          : 'Rename the query parameter: a request with it would be refused with a signature mismatch.',
      details: { ...target, component, reason },
    },
  )
}

/** Why a request was not signed: it would travel in clear text, or to a host it was not meant for. */
export type UnsafeTargetReason = 'plaintext' | 'other-host' | 'passthrough'

const unsafeHints: Record<UnsafeTargetReason, string> = {
  plaintext:
    'SigV4 never signs an http:// request: the Authorization header and the session token would cross the network in clear text (a redirect to http:// ends here too). Use https://.',
  'other-host':
    "Without 'hosts', a sigv4() signer signs only for the first host it signed for (a redirect to another host would hand it your access key ID and session token); with 'hosts', only for the hosts listed. Make one signer per host, or list every host that may receive your signed requests (redirect targets included) in sigv4's 'hosts'.",
  passthrough:
    "A signed request leaves through passthrough (a plain Agent, the public path) only for a host listed in sigv4's 'hosts': with fetch, a redirect to another host is a new request that would otherwise be signed for it. List the host in 'hosts' if it is meant to receive your signed requests.",
}

/**
 * A request SigV4 refuses to sign or send: plaintext, or another host than the one signed for.
 * `location` is origin and path only: a query may carry presigned parts.
 */
export function unsafeTarget(
  target: SigningTarget,
  reason: UnsafeTargetReason,
  location: string,
  signedFor?: string,
): PrivateLinkError {
  const why =
    reason === 'plaintext'
      ? 'it is plaintext HTTP'
      : reason === 'other-host'
        ? `its host is not the one signed for${signedFor === undefined ? '' : ` (${signedFor})`}`
        : 'it would leave through passthrough to a host not listed in hosts'
  return new PrivateLinkError(
    'ERR_SIGV4_UNSAFE_TARGET',
    `Refusing to send a SigV4-signed request to ${location}: ${why} (service ${target.service}, region ${target.region})`,
    {
      hint: unsafeHints[reason],
      details: {
        ...target,
        location,
        reason,
        ...(signedFor === undefined ? {} : { signedFor }),
      },
    },
  )
}

/** `origin + path` without the query (which may carry X-Amz-Signature or a token). */
export function locationOf(origin: URL, path: unknown): string {
  const text = String(path ?? '/')
  const end = text.search(/[?#]/)
  return `${origin.origin}${end === -1 ? text : text.slice(0, end)}`
}
