/**
 * AWS SDK errors made safe to keep: the SDK attaches a hidden `$response` (and through it the
 * signed request: Authorization header, session token, signature). We keep name, message, code,
 * status and request ID, on a plain Error, with the same treatment down the cause chain.
 */

/** What is safe to keep of an AWS SDK error: no request, response, header or credential. */
export interface AwsErrorFacts {
  /** `UnauthorizedOperation`, `CredentialsProviderError`, or a socket code such as `ECONNREFUSED`. */
  name: string
  /** The error's message with secrets redacted, 500 characters at most. */
  message: string
  /** The HTTP status of the AWS response, when there was one. */
  httpStatus?: number
  /** The AWS request ID, for a support case or CloudTrail. */
  requestId?: string
  /** How many attempts the SDK made (its retries included). */
  attempts?: number
  /** `client` or `server`: who the SDK blames. */
  fault?: string
  /** UnauthorizedOperation's encoded authorization failure message (for sts decode-authorization-message). */
  encodedMessage?: string
}

const ENCODED = /\s*Encoded authorization failure message:\s*([A-Za-z0-9_\-+/=]+)/

// Backstops for text an error might repeat: key IDs, signatures, tokens, presigned query parts.
const SECRETS: [RegExp, string][] = [
  [/\b(?:AKIA|ASIA|AIDA|AROA|ABIA|ACCA)[A-Z0-9]{12,}\b/g, '[access key id]'],
  [/(Signature=)[0-9a-f]{16,}/gi, '$1[redacted]'],
  [/(X-Amz-(?:Security-Token|Signature|Credential)=)[^&\s"']+/gi, '$1[redacted]'],
  [/(Credential=)[^,\s"']+/g, '$1[redacted]'],
  [/(token["']?\s*[:=]\s*["']?)[^\s"',}]{16,}/gi, '$1[redacted]'],
  [/\b[A-Za-z0-9+/]{120,}={0,2}/g, '[redacted]'],
]

/** Replaces access key IDs, signatures, session tokens and presigned query parts in `text`. */
export function redact(text: string): string {
  let out = text
  for (const [pattern, replacement] of SECRETS) out = out.replace(pattern, replacement)
  return out
}

function field(value: unknown, key: string): unknown {
  try {
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)[key]
      : undefined
  } catch {
    return undefined
  }
}

/** The safe facts of an AWS SDK (or socket) error: name, redacted message, status, request ID. */
export function awsErrorFacts(error: unknown): AwsErrorFacts {
  const rawName = field(error, 'name')
  const code = field(error, 'code')
  const rawMessage = field(error, 'message')
  let message = typeof rawMessage === 'string' ? rawMessage : String(typeof error)
  let name = typeof rawName === 'string' && rawName !== '' ? rawName : 'Error'
  // Socket errors reach us as a bare Error (or TimeoutError) with a code: the code says more.
  if (
    (name === 'Error' || name === 'TimeoutError') &&
    typeof code === 'string' &&
    /^E[A-Z_]+$/.test(code)
  )
    name = code
  const facts: AwsErrorFacts = { name, message: '' }
  const encoded = ENCODED.exec(message)
  if (encoded !== null) {
    facts.encodedMessage = encoded[1] ?? ''
    message = message.replace(ENCODED, '').trim()
  }
  facts.message = redact(message).slice(0, 500)
  const metadata = field(error, '$metadata')
  const status = field(metadata, 'httpStatusCode')
  if (typeof status === 'number') facts.httpStatus = status
  const requestId = field(metadata, 'requestId')
  if (typeof requestId === 'string') facts.requestId = requestId
  const attempts = field(metadata, 'attempts')
  if (typeof attempts === 'number') facts.attempts = attempts
  const fault = field(error, '$fault')
  if (typeof fault === 'string') facts.fault = fault
  return facts
}

/**
 * A copy of `error` that holds no request or response object: a plain Error with the facts, its
 * stack frames, and a sanitised cause (three levels at most).
 */
export function sanitizedCause(error: unknown, depth = 0): Error | undefined {
  if (error === undefined || error === null) return undefined
  const facts = awsErrorFacts(error)
  const inner = depth < 3 ? sanitizedCause(field(error, 'cause'), depth + 1) : undefined
  const copy = new Error(facts.message, inner === undefined ? undefined : { cause: inner })
  copy.name = facts.name
  const stack = field(error, 'stack')
  const frames =
    typeof stack === 'string'
      ? stack
          .split('\n')
          .filter((line) => line.startsWith('    at '))
          .join('\n')
      : ''
  copy.stack = `${facts.name}: ${facts.message}${frames ? `\n${frames}` : ''}`
  const code = field(error, 'code')
  if (typeof code === 'string') Object.assign(copy, { code })
  const details: Record<string, unknown> = {}
  if (facts.httpStatus !== undefined) details['httpStatusCode'] = facts.httpStatus
  if (facts.requestId !== undefined) details['requestId'] = facts.requestId
  if (facts.attempts !== undefined) details['attempts'] = facts.attempts
  if (Object.keys(details).length > 0) Object.assign(copy, { $metadata: details })
  if (facts.fault !== undefined) Object.assign(copy, { $fault: facts.fault })
  return copy
}
