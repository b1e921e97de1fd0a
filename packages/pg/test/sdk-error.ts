import { inspect } from 'node:util'

/** What an AWS SDK error carries besides its message: a hidden $response with the signed request. */
export const LEAKED = {
  // Real session tokens are several hundred base64 characters.
  sessionToken: `FwoGZXIvYXdzEFAKE${'U2Vzc2lvblRva2VuRm9yVGVzdHNPbmx5'.repeat(8)}`,
  signature: '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
  accessKeyId: 'ASIAFAKEKEYFORTESTS1',
}

/**
 * An error shaped like the SDK's (name, $fault, $metadata, non-enumerable $response holding the
 * request's Authorization header and session token), with `message` as the service's text.
 */
export function sdkShapedError(name: string, message: string): Error {
  const error = Object.assign(new Error(message), {
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 403, requestId: 'req-0123', attempts: 1 },
  })
  const authorization = `AWS4-HMAC-SHA256 Credential=${LEAKED.accessKeyId}/20260115/us-west-2/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=${LEAKED.signature}`
  Object.defineProperty(error, '$response', {
    enumerable: false,
    value: {
      statusCode: 403,
      headers: { 'x-amzn-requestid': 'req-0123' },
      request: {
        headers: { authorization, 'x-amz-security-token': LEAKED.sessionToken },
      },
    },
  })
  return error
}

/** Everything util.inspect can reach, hidden fields and the whole cause chain included. */
export function everythingShown(value: unknown): string {
  return inspect(value, { showHidden: true, depth: Number.POSITIVE_INFINITY })
}

/** True when `text` holds any part of the fake credentials of sdkShapedError. */
export const leaks = (text: string): boolean =>
  Object.values(LEAKED).some((secret) => text.includes(secret))
