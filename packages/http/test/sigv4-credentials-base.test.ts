import { inspect } from 'node:util'
import type { AwsCredentials as BaseCredentials } from '@privatelink/base'
import { type AwsCredentials, type SigV4Options, sigv4 } from '@privatelink/http'
import type { Dispatcher } from 'undici'
import { describe, expect, expectTypeOf, it } from 'vitest'

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY'
const expired = {
  accessKeyId: 'ASIAEXPIREDEXAMPLE00',
  secretAccessKey: 'expired-secret-access-key-0000000000000',
  sessionToken: 'expired-session-token',
  expiration: new Date(NOW - 1_000),
}
const fresh = {
  accessKeyId: 'ASIAFRESHEXAMPLE0000',
  secretAccessKey: 'fresh-secret-access-key-00000000000000',
  sessionToken: 'fresh-session-token',
  expiration: new Date(NOW + 3_600_000),
}

/** Signs one request through the interceptor; resolves with what it hands the next dispatcher. */
function signOnce(credentials: SigV4Options['credentials']): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const next = (options: Dispatcher.DispatchOptions) => {
      resolve(options.headers as Record<string, string>)
      return true
    }
    const dispatch = sigv4({ region: 'us-west-2', credentials, clock: () => NOW })(next)
    dispatch({ origin: 'https://api.example.com', method: 'GET', path: '/orders' }, {
      onResponseError: (_controller: unknown, error: Error) => reject(error),
    } as unknown as Dispatcher.DispatchHandler)
  })
}

function refusal(credentials: unknown): Error {
  try {
    sigv4({ region: 'us-west-2', credentials: credentials as never })
  } catch (error) {
    return error as Error
  }
  throw new Error('sigv4 accepted the credentials')
}

describe("sigv4's credentials through base (credentialsOption, credentialSource)", () => {
  it('a provider whose credentials expired (by the clock) is asked again with forceRefresh', async () => {
    const calls: unknown[] = []
    const provider = async (options?: { forceRefresh?: boolean }) => {
      calls.push(options)
      return options?.forceRefresh === true ? fresh : expired
    }
    const headers = await signOnce(provider)
    expect(calls).toEqual([undefined, { forceRefresh: true }])
    expect(headers['authorization']).toContain(`Credential=${fresh.accessKeyId}/20260115/`)
    expect(headers['x-amz-security-token']).toBe(fresh.sessionToken)
  })

  it('fixed credentials and a provider with unexpired ones are used as given', async () => {
    const calls: unknown[] = []
    const provider = async (options?: unknown) => {
      calls.push(options)
      return fresh
    }
    expect((await signOnce(provider))['authorization']).toContain(fresh.accessKeyId)
    expect(calls).toEqual([undefined])
    expect((await signOnce(fresh))['authorization']).toContain(fresh.accessKeyId)
  })

  it.each([
    ['a secret key as a string', SECRET, `a string of ${SECRET.length} characters`],
    ['an object with no accessKeyId', { secretAccessKey: SECRET }, 'an object'],
    ['an object with no secretAccessKey', { accessKeyId: 'AKIDEXAMPLE' }, 'an object'],
    ['nothing', undefined, 'undefined'],
  ])('refuses %s, described by type, the secret never shown', (_, given, received) => {
    const error = refusal(given)
    expect(error).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      details: { option: 'credentials', received },
    })
    const shown = `${error.message} ${JSON.stringify(error)} ${inspect(error, { showHidden: true, depth: 8 })}`
    expect(shown).not.toContain(SECRET.slice(0, 16))
  })

  it('a session token of the wrong type is described by type', () => {
    const error = refusal({ ...fresh, sessionToken: 42 })
    expect(error).toMatchObject({
      details: { option: 'credentials.sessionToken', received: 'a number' },
    })
  })

  // Checked by `pnpm typecheck`: providers and credentials users already pass still fit.
  it('keeps the public types compatible', () => {
    expectTypeOf<AwsCredentials>().toEqualTypeOf<BaseCredentials>()
    // The shape the old interface described.
    interface OldCredentials {
      accessKeyId: string
      secretAccessKey: string
      sessionToken?: string
      expiration?: Date
    }
    expectTypeOf<OldCredentials>().toMatchTypeOf<SigV4Options['credentials']>()
    expectTypeOf<AwsCredentials>().toMatchTypeOf<OldCredentials>()
    expectTypeOf<() => Promise<OldCredentials>>().toMatchTypeOf<SigV4Options['credentials']>()
    // The SDK's AwsCredentialIdentityProvider (fromNodeProviderChain(), fromTemporaryCredentials).
    type SdkProvider = (identityProperties?: Record<string, unknown>) => Promise<AwsCredentials>
    expectTypeOf<SdkProvider>().toMatchTypeOf<SigV4Options['credentials']>()
    expectTypeOf<(options?: { forceRefresh?: boolean }) => Promise<AwsCredentials>>().toMatchTypeOf<
      SigV4Options['credentials']
    >()
    // @ts-expect-error a bare string is not credentials
    const wrong = () => sigv4({ region: 'us-west-2', credentials: 'AKIDEXAMPLE' })
    expect(wrong).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
  })
})
