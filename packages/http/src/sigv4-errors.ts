import { PrivateLinkError } from '@privatelink/core'

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
    cause,
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
