import { inspect } from 'node:util'
import { sigv4 } from '@privatelink/http'
import type { Dispatcher } from 'undici'
import { describe, expect, it } from 'vitest'

// Issue 24 item 6: an AWS SDK error kept as `cause` must not carry the request it signed. A
// credential provider that calls STS (fromTemporaryCredentials) fails with the SDK's error, whose
// hidden $response holds the signed STS request: its Authorization header and session token.

const SESSION_TOKEN = 'FwoGZXIvYXdzEXAMPLE-session-token-of-the-caller-0123456789'
const SIGNATURE = 'Signature=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0'

/** Shaped as @smithy's ServiceException: $metadata, $fault, and a non-enumerable $response. */
function stsError(): Error {
  const error = Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), {
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: { httpStatusCode: 403, requestId: 'req-0001', attempts: 1 },
  })
  Object.defineProperty(error, '$response', {
    enumerable: false,
    value: {
      statusCode: 403,
      headers: { 'x-amzn-requestid': 'req-0001' },
      request: {
        headers: {
          authorization: `AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20260101/us-west-2/sts/aws4_request, SignedHeaders=host, ${SIGNATURE}`,
          'x-amz-security-token': SESSION_TOKEN,
        },
      },
    },
  })
  return error
}

function signOnce(credentials: () => Promise<never>): Promise<Error> {
  return new Promise((resolve) => {
    const dispatch = sigv4({ region: 'us-west-2', credentials })(() => true)
    dispatch({ origin: 'https://api.example.com', method: 'GET', path: '/' }, {
      onResponseError: (_controller: unknown, error: Error) => resolve(error),
    } as unknown as Dispatcher.DispatchHandler)
  })
}

describe('sigv4: a credential provider failing with an AWS SDK error', () => {
  it('keeps its facts as cause, never its $response (session token, signature)', async () => {
    const error = await signOnce(async () => {
      throw stsError()
    })
    expect(error).toMatchObject({ code: 'ERR_SIGV4_FAILED', details: { stage: 'credentials' } })
    expect(error.cause).toMatchObject({
      name: 'AccessDenied',
      message: 'User is not authorized to perform: sts:AssumeRole',
      $metadata: { httpStatusCode: 403, requestId: 'req-0001' },
    })
    const everything = inspect(error, { showHidden: true, depth: null })
    expect(everything).not.toContain(SESSION_TOKEN)
    expect(everything).not.toContain(SIGNATURE)
    expect(everything).not.toContain('$response')
  })

  it('an AWS SDK error nested as the cause of the provider error is sanitised too', async () => {
    const error = await signOnce(async () => {
      throw new Error('Could not load credentials from any providers', { cause: stsError() })
    })
    const everything = inspect(error, { showHidden: true, depth: null })
    expect(everything).toContain('AccessDenied')
    expect(everything).not.toContain(SESSION_TOKEN)
    expect(everything).not.toContain(SIGNATURE)
  })
})
