import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { awsErrorFacts, redact, sanitizedCause } from './aws-error.js'

const SESSION_TOKEN = `IQoJb3JpZ2luX2VjE${'A'.repeat(150)}`
const SIGNATURE = 'f'.repeat(64)

/** Shaped as the SDK throws it: a hidden $response whose request holds what was signed. */
function sdkError(message: string, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause })
  error.name = 'UnauthorizedOperation'
  Object.assign(error, {
    $fault: 'client',
    $metadata: { httpStatusCode: 403, requestId: 'req-1', attempts: 2 },
  })
  Object.defineProperty(error, '$response', {
    enumerable: false,
    value: {
      request: {
        headers: {
          authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-west-2/ec2/aws4_request, Signature=${SIGNATURE}`,
          'x-amz-security-token': SESSION_TOKEN,
        },
      },
    },
  })
  return error
}

describe('awsErrorFacts', () => {
  it('keeps name, status, request ID, attempts and fault; splits off the encoded message', () => {
    const facts = awsErrorFacts(
      sdkError('You are not authorized. Encoded authorization failure message: abc123_-+/='),
    )
    expect(facts).toEqual({
      name: 'UnauthorizedOperation',
      message: 'You are not authorized.',
      httpStatus: 403,
      requestId: 'req-1',
      attempts: 2,
      fault: 'client',
      encodedMessage: 'abc123_-+/=',
    })
  })

  it('names a bare socket error by its code, and reads a hostile value without throwing', () => {
    expect(awsErrorFacts(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })).name).toBe(
      'ECONNREFUSED',
    )
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom')
        },
      },
    )
    expect(awsErrorFacts(hostile)).toEqual({ name: 'Error', message: 'object' })
  })
})

describe('redact', () => {
  it('replaces key IDs, signatures, tokens and presigned query parts', () => {
    const text = `AKIAIOSFODNN7EXAMPLE X-Amz-Signature=${SIGNATURE}&X-Amz-Security-Token=${SESSION_TOKEN} token="${SESSION_TOKEN}"`
    const shown = redact(text)
    expect(shown).not.toContain('AKIAIOSFODNN7EXAMPLE')
    expect(shown).not.toContain(SIGNATURE)
    expect(shown).not.toContain(SESSION_TOKEN.slice(0, 40))
  })
})

describe('sanitizedCause', () => {
  it('is a plain copy with the facts: no $response anywhere down the cause chain', () => {
    const inner = sdkError(`inner with Signature=${SIGNATURE}`)
    const copy = sanitizedCause(sdkError('outer', inner))
    expect(copy).toBeInstanceOf(Error)
    expect(copy).toMatchObject({
      name: 'UnauthorizedOperation',
      message: 'outer',
      $fault: 'client',
      $metadata: { httpStatusCode: 403, requestId: 'req-1', attempts: 2 },
    })
    expect((copy?.cause as Error | undefined)?.message).toBe('inner with Signature=[redacted]')
    const shown = inspect(copy, { depth: 10, showHidden: true })
    expect(shown).not.toContain('$response')
    expect(shown).not.toContain(SIGNATURE)
    expect(shown).not.toContain(SESSION_TOKEN.slice(0, 40))
  })

  it('stops three causes down, and is undefined for nothing', () => {
    let error: unknown = new Error('0')
    for (let level = 1; level <= 6; level++) error = new Error(String(level), { cause: error })
    let depth = 0
    for (let at = sanitizedCause(error); at !== undefined; at = at.cause as Error | undefined)
      depth++
    expect(depth).toBe(4)
    expect(sanitizedCause(undefined)).toBeUndefined()
    expect(sanitizedCause(null)).toBeUndefined()
  })
})
