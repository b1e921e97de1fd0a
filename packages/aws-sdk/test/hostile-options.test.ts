import { awsServiceEndpoint, createAwsRequestHandler } from '@privatelink/aws-sdk'
import type { Endpoint } from '@privatelink/core'
import { describe, expect, it } from 'vitest'

// Issue 24 item 9: no input, however hostile, escapes as a raw TypeError.

const endpoint = (): Endpoint => ({
  id: 'vpce-0123456789abcdef0',
  region: 'us-west-2',
  serviceName: 'com.amazonaws.us-west-2.secretsmanager',
  dnsName: 'vpce-0123456789abcdef0-abcdefgh.secretsmanager.us-west-2.vpce.amazonaws.com',
  zones: [{ azName: 'us-west-2a', azId: 'usw2-az1', addresses: ['10.0.1.5'] }],
})
const revoked = () => {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}
const throwing = () =>
  Object.defineProperty({}, 'region', {
    enumerable: true,
    get() {
      throw new TypeError('getter threw')
    },
  })

/** The code and option of what `make` throws (or 'accepted'), never a raw TypeError. */
const refusal = (make: () => unknown) => {
  try {
    const made = make() as { destroy?: () => void }
    made?.destroy?.()
  } catch (error) {
    const typed = error as { code?: string; details?: { option?: string }; name: string }
    return `${typed.code ?? typed.name} ${typed.details?.option ?? ''}`.trim()
  }
  return 'accepted'
}

describe('createAwsRequestHandler with hostile options', () => {
  const handler = (options: unknown) => () =>
    createAwsRequestHandler({ locality: null, profile: 'lambda', ...(options as object) } as never)

  it('an endpoint lacking region: ERR_INVALID_OPTION naming it, at the call', () => {
    const { region: _, ...noRegion } = endpoint()
    const unknown = { ...noRegion, serviceName: undefined }
    expect(refusal(handler({ endpoint: unknown }))).toBe('ERR_INVALID_OPTION endpoint.region')
    expect(refusal(handler({ endpoints: { secretsmanager: unknown } }))).toBe(
      'ERR_INVALID_OPTION endpoints.secretsmanager.region',
    )
    // An AWS service name carries the service's region: that is enough to serve its names.
    expect(refusal(handler({ endpoint: noRegion }))).toBe('accepted')
  })

  it('a revoked Proxy anywhere: ERR_INVALID_OPTION naming its path', () => {
    expect(refusal(() => createAwsRequestHandler(revoked() as never))).toBe(
      'ERR_INVALID_OPTION options',
    )
    expect(refusal(handler({ endpoint: revoked() }))).toBe('ERR_INVALID_OPTION options.endpoint')
    expect(refusal(handler({ endpoints: { secretsmanager: revoked() } }))).toBe(
      'ERR_INVALID_OPTION options.endpoints.secretsmanager',
    )
    expect(refusal(handler({ endpoints: { secretsmanager: endpoint() }, retry: revoked() }))).toBe(
      'ERR_INVALID_OPTION options.retry',
    )
    expect(
      refusal(handler({ endpoints: { secretsmanager: endpoint() }, hostnames: revoked() })),
    ).toBe('ERR_INVALID_OPTION options.hostnames')
  })

  it('a ca that is not PEM text: ERR_INVALID_OPTION naming it', () => {
    for (const ca of [{ pem: 'x' }, 5, [null]])
      expect(refusal(handler({ endpoint: endpoint(), ca }))).toBe('ERR_INVALID_OPTION ca')
  })

  it('a getter that throws: ERR_INVALID_OPTION naming it', () => {
    const hostnames = Object.defineProperty({}, 's3', {
      enumerable: true,
      get() {
        throw new TypeError('getter threw')
      },
    })
    expect(
      refusal(handler({ endpoints: { s3: endpoint(), secretsmanager: endpoint() }, hostnames })),
    ).toBe('ERR_INVALID_OPTION options.hostnames.s3')
    const options = Object.assign(throwing(), {
      endpoints: { secretsmanager: endpoint() },
      locality: null,
      profile: 'lambda',
    })
    expect(refusal(() => createAwsRequestHandler(options as never))).toBe(
      'ERR_INVALID_OPTION options.region',
    )
  })

  it('awsServiceEndpoint: a revoked Proxy or a throwing getter is ERR_INVALID_OPTION', () => {
    expect(refusal(() => awsServiceEndpoint(revoked() as never))).toBe('ERR_INVALID_OPTION options')
    expect(
      refusal(() => awsServiceEndpoint({ service: 'kms', endpoint: revoked() } as never)),
    ).toBe('ERR_INVALID_OPTION options.endpoint')
    expect(
      refusal(() =>
        awsServiceEndpoint(
          Object.assign(throwing(), { service: 'kms', endpoint: endpoint() }) as never,
        ),
      ),
    ).toBe('ERR_INVALID_OPTION options.region')
  })
})
