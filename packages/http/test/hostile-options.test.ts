import type { Endpoint } from '@privatelink/core'
import { createEndpointDispatcher, privateApiGateway, sigv4 } from '@privatelink/http'
import { describe, expect, it } from 'vitest'

// Issue 24 item 9: an option holding a revoked Proxy or a getter that throws is ERR_INVALID_OPTION
// at the call, naming it, never a raw TypeError.

const endpoint = (): Endpoint => ({
  id: 'vpce-0123456789abcdef0',
  region: 'us-west-2',
  dnsName: 'vpce-0123456789abcdef0-abcdefgh.execute-api.us-west-2.vpce.amazonaws.com',
  zones: [{ azName: 'us-west-2a', azId: 'usw2-az1', addresses: ['10.0.1.5'] }],
})
const revoked = () => {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}
const withThrowingGetter = (name: string, rest: object) =>
  Object.defineProperty({ ...rest }, name, {
    enumerable: true,
    get() {
      throw new TypeError('getter threw')
    },
  })

const refusal = (make: () => unknown) => {
  try {
    const made = make() as { destroy?: () => Promise<void>; dispatcher?: { destroy(): unknown } }
    made?.destroy?.()
  } catch (error) {
    const typed = error as { code?: string; details?: { option?: string }; name: string }
    return `${typed.code ?? typed.name} ${typed.details?.option ?? ''}`.trim()
  }
  return 'accepted'
}

const base = { locality: null, profile: 'lambda' as const }
const credentials = { accessKeyId: 'AKIDHOSTILE', secretAccessKey: 'hostile/secret' }

describe('hostile option values', () => {
  it('createEndpointDispatcher', () => {
    const make = (options: unknown) => () => createEndpointDispatcher(options as never)
    expect(refusal(make(revoked()))).toBe('ERR_INVALID_OPTION options')
    expect(refusal(make({ ...base, endpoint: revoked() }))).toBe(
      'ERR_INVALID_OPTION options.endpoint',
    )
    expect(refusal(make({ ...base, endpoint: endpoint(), retry: revoked() }))).toBe(
      'ERR_INVALID_OPTION options.retry',
    )
    expect(refusal(make({ ...base, endpoint: endpoint(), retry: { budget: revoked() } }))).toBe(
      'ERR_INVALID_OPTION options.retry.budget',
    )
    expect(refusal(make({ ...base, endpoint: endpoint(), origins: [revoked()] }))).toBe(
      'ERR_INVALID_OPTION options.origins[0]',
    )
    expect(
      refusal(make(withThrowingGetter('passthrough', { ...base, endpoint: endpoint() }))),
    ).toBe('ERR_INVALID_OPTION options.passthrough')
  })

  it('sigv4', () => {
    const make = (options: unknown) => () => sigv4(options as never)
    expect(refusal(make(revoked()))).toBe('ERR_INVALID_OPTION options')
    expect(refusal(make({ region: 'us-west-2', credentials: revoked() }))).toBe(
      'ERR_INVALID_OPTION options.credentials',
    )
    expect(refusal(make(withThrowingGetter('region', { credentials })))).toBe(
      'ERR_INVALID_OPTION options.region',
    )
    expect(refusal(make({ region: 'us-west-2', credentials, hosts: revoked() }))).toBe(
      'ERR_INVALID_OPTION options.hosts',
    )
  })

  it('wrong types: a non-string sessionToken or ca is ERR_INVALID_OPTION naming it', () => {
    expect(
      refusal(() =>
        sigv4({ region: 'us-west-2', credentials: { ...credentials, sessionToken: 5 } } as never),
      ),
    ).toBe('ERR_INVALID_OPTION credentials.sessionToken')
    for (const ca of [5, {}, [5], ['']])
      expect(
        refusal(() => createEndpointDispatcher({ ...base, endpoint: endpoint(), ca } as never)),
      ).toBe('ERR_INVALID_OPTION ca')
  })

  it('privateApiGateway', () => {
    const api = { apiId: 'a1b2c3d4e5', stage: 'prod', region: 'us-west-2' }
    const make = (options: unknown) => () => privateApiGateway(options as never)
    expect(refusal(make(revoked()))).toBe('ERR_INVALID_OPTION options')
    expect(refusal(make({ ...api, endpoint: revoked() }))).toBe(
      'ERR_INVALID_OPTION options.endpoint',
    )
    expect(refusal(make({ ...api, vpceDnsName: endpoint().dnsName, dispatcher: revoked() }))).toBe(
      'ERR_INVALID_OPTION options.dispatcher',
    )
    expect(refusal(make(withThrowingGetter('stage', { ...api, endpoint: endpoint() })))).toBe(
      'ERR_INVALID_OPTION options.stage',
    )
  })
})
