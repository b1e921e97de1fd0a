import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types'
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  type AwsCredentials,
  type AwsCredentialsProvider,
  credentialSource,
  credentialsOption,
} from './credentials.js'
import { PrivateLinkError } from './errors.js'

const NOW = 1_700_000_000_000
const key = (id: string, expiresAt?: number): AwsCredentials => ({
  accessKeyId: `ASIA${id}`,
  secretAccessKey: `secret-${id}`,
  ...(expiresAt === undefined ? {} : { expiration: new Date(expiresAt) }),
})
const noDefault = () => Promise.reject(new Error('no default chain here'))

function refusal(value: unknown): PrivateLinkError {
  try {
    credentialsOption('credentials', value)
  } catch (error) {
    if (PrivateLinkError.isInstance(error)) return error
    throw error
  }
  throw new Error('accepted')
}

describe('AwsCredentials and AwsCredentialsProvider', () => {
  it("are the SDK's identity types: what any SDK provider returns or is fits as it is", () => {
    expectTypeOf<AwsCredentialIdentity>().toEqualTypeOf<AwsCredentials>()
    expectTypeOf<AwsCredentialIdentityProvider>().toExtend<AwsCredentialsProvider>()
    // A provider written against either adapter's old type still fits.
    expectTypeOf<
      (options?: { forceRefresh?: boolean }) => Promise<AwsCredentials>
    >().toExtend<AwsCredentialsProvider>()
  })
})

describe('credentialsOption', () => {
  it('accepts credentials, a provider and undefined, as they are', () => {
    const fixed = key('A')
    const provider = async () => fixed
    expect(credentialsOption('credentials', fixed)).toBe(fixed)
    expect(credentialsOption('credentials', provider)).toBe(provider)
    expect(credentialsOption('credentials', undefined)).toBeUndefined()
  })

  it('refuses a string, a number or an object without accessKeyId, describing it by type only', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
    for (const [value, received] of [
      [secret, `a string of ${secret.length} characters`],
      [42, 'a number'],
      [null, 'null'],
      [{ secretAccessKey: secret }, 'an object'],
    ] as const) {
      const error = refusal(value)
      expect(error.code).toBe('ERR_INVALID_OPTION')
      expect(error.details).toMatchObject({ option: 'credentials', received })
      expect(JSON.stringify(error)).not.toContain(secret)
    }
  })

  it('names a revoked Proxy, and a throwing accessKeyId getter by its path', () => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    expect(refusal(proxy).details['option']).toBe('credentials')
    const getter = {
      get accessKeyId(): string {
        throw new TypeError('no')
      },
    }
    expect(refusal(getter).details['option']).toBe('credentials.accessKeyId')
  })
})

describe('credentialSource', () => {
  it('hands fixed credentials back as they are, and never loads the default chain for them', async () => {
    const fixed = key('F')
    let loads = 0
    const source = credentialSource({
      credentials: fixed,
      loadDefault: () => {
        loads++
        return noDefault()
      },
    })
    expect(await source()).toBe(fixed)
    expect(loads).toBe(0)
  })

  it('asks a provider again with forceRefresh when its credentials lapse within minValidityMs', async () => {
    const calls: unknown[] = []
    const provider = async (options?: { forceRefresh?: boolean }) => {
      calls.push(options)
      return options?.forceRefresh === true ? key('NEW', NOW + 3_600_000) : key('OLD', NOW + 60_000)
    }
    const source = credentialSource({
      credentials: provider,
      loadDefault: noDefault,
      clock: () => NOW,
      minValidityMs: 120_000,
    })
    expect((await source()).accessKeyId).toBe('ASIANEW')
    expect(calls).toEqual([undefined, { forceRefresh: true }])
  })

  it('keeps credentials that outlive minValidityMs; by default only expired ones are refreshed', async () => {
    const calls: unknown[] = []
    const provider = async (options?: { forceRefresh?: boolean }) => {
      calls.push(options)
      return key('P', NOW + 60_000)
    }
    const longEnough = credentialSource({
      credentials: provider,
      loadDefault: noDefault,
      clock: () => NOW,
    })
    await longEnough()
    expect(calls).toEqual([undefined])
    const expired = credentialSource({
      credentials: provider,
      loadDefault: noDefault,
      clock: () => NOW + 60_000,
    })
    await expired()
    expect(calls).toEqual([undefined, undefined, { forceRefresh: true }])
  })

  it('loads the default chain once, and tries again after a failed load', async () => {
    let loads = 0
    const source = credentialSource({
      credentials: undefined,
      loadDefault: async () => {
        loads++
        if (loads === 1) throw new Error('@aws-sdk/credential-providers is not installed')
        return async () => key('D')
      },
    })
    await expect(source()).rejects.toThrow('not installed')
    expect((await source()).accessKeyId).toBe('ASIAD')
    expect((await source()).accessKeyId).toBe('ASIAD')
    expect(loads).toBe(2)
  })
})
