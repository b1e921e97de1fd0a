import { inspect } from 'node:util'
import { type KeyLookup, verifyPresignedUrl } from '@privatelink/lab'
import { createElastiCacheTokenProvider } from '@privatelink/redis'
import { describe, expect, it } from 'vitest'

const SIGNED_AT = Date.UTC(2015, 7, 30, 12, 36, 0)
const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
}
const keys: KeyLookup = {
  get: (id) =>
    id === credentials.accessKeyId
      ? {
          ...credentials,
          arn: 'arn:aws:iam::123456789012:user/test',
          account: '123456789012',
          userId: 'AIDA',
        }
      : undefined,
  isExpired: () => false,
}

describe('createElastiCacheTokenProvider', () => {
  it('signs the presigned connect URL without its scheme, as the AWS samples do (golden vector)', async () => {
    const provider = createElastiCacheTokenProvider({
      userId: 'app-user',
      cacheName: 'my-cache',
      region: 'us-east-1',
      credentials,
      clock: () => SIGNED_AT,
    })
    const token = await provider.getToken()
    expect(token).toBe(
      'my-cache/?Action=connect&User=app-user&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Felasticache%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=' +
        token.slice(-64),
    )
    // The lab's verifier (SigV4 written from the spec, not smithy) accepts it.
    const verified = verifyPresignedUrl(token, {
      region: 'us-east-1',
      service: 'elasticache',
      clock: () => SIGNED_AT + 60_000,
      store: keys,
      maxExpiresSeconds: 900,
    })
    expect(verified.ok).toBe(true)
    expect(token.slice(-64)).toBe(
      'b73b27ea0453555df31c722b5d78a08a653474c6a3195fac9babb78321d835fd',
    )
  })

  it('adds ResourceType=ServerlessCache for serverless caches and signs MemoryDB as memorydb', async () => {
    const serverless = createElastiCacheTokenProvider({
      userId: 'u',
      cacheName: 'sls',
      region: 'us-east-1',
      serverless: true,
      credentials,
      clock: () => SIGNED_AT,
    })
    expect(await serverless.getToken()).toContain('&ResourceType=ServerlessCache&')
    const memorydb = createElastiCacheTokenProvider({
      userId: 'u',
      cacheName: 'mdb',
      region: 'us-east-1',
      service: 'memorydb',
      credentials,
      clock: () => SIGNED_AT,
    })
    expect(await memorydb.getToken()).toContain('%2Fmemorydb%2Faws4_request')
  })

  it('caches, refreshes ahead in the background, and collapses concurrent signing', async () => {
    let now = SIGNED_AT
    let calls = 0
    const provider = createElastiCacheTokenProvider({
      userId: 'u',
      cacheName: 'c',
      region: 'us-east-1',
      credentials: async () => {
        calls++
        return credentials
      },
      clock: () => now,
    })
    const [a, b, c] = await Promise.all([
      provider.getToken(),
      provider.getToken(),
      provider.getToken(),
    ])
    expect(new Set([a, b, c]).size).toBe(1)
    expect(provider.stats().signed).toBe(1)
    expect(provider.expiresAt()).toBe(SIGNED_AT + 900_000 - 60_000)
    now += 60_000
    expect(await provider.getToken()).toBe(a)
    expect(provider.stats().signed).toBe(1)
    // Past half its usable life: served from the cache while a new one is signed.
    now += 400_000
    expect(await provider.getToken()).toBe(a)
    await new Promise((resolve) => setImmediate(resolve))
    await provider.getToken()
    expect(provider.stats().signed).toBe(2)
    // Past the margin: waits for a new token.
    now += 900_000
    expect(await provider.getToken()).not.toBe(a)
    expect(calls).toBe(3)
  })

  it('never outlives the credentials that signed it', async () => {
    const provider = createElastiCacheTokenProvider({
      userId: 'u',
      cacheName: 'c',
      region: 'us-east-1',
      credentials: {
        ...credentials,
        sessionToken: 'session',
        expiration: new Date(SIGNED_AT + 300_000),
      },
      clock: () => SIGNED_AT,
    })
    await provider.getToken()
    expect(provider.expiresAt()).toBe(SIGNED_AT + 300_000 - 60_000)
  })

  it('fails with ERR_REDIS_CREDENTIALS_EXPIRING when the credentials are about to expire', async () => {
    const provider = createElastiCacheTokenProvider({
      userId: 'u',
      cacheName: 'c',
      region: 'us-east-1',
      credentials: { ...credentials, expiration: new Date(SIGNED_AT + 30_000) },
      clock: () => SIGNED_AT,
    })
    await expect(provider.getToken()).rejects.toMatchObject({
      code: 'ERR_REDIS_CREDENTIALS_EXPIRING',
    })
  })

  it('keeps the token and the secret key out of inspect, JSON and errors', async () => {
    const provider = createElastiCacheTokenProvider({
      userId: 'u',
      cacheName: 'c',
      region: 'us-east-1',
      credentials,
      clock: () => SIGNED_AT,
    })
    const token = await provider.getToken()
    const shown = `${inspect(provider, { showHidden: true, depth: 5 })}${JSON.stringify(provider)}`
    expect(shown).not.toContain(token.slice(-64))
    expect(shown).not.toContain(credentials.secretAccessKey)
    const failing = createElastiCacheTokenProvider({
      userId: 'u',
      cacheName: 'c',
      region: 'us-east-1',
      credentials: async () => {
        throw new Error('no credentials here')
      },
    })
    await expect(failing.getToken()).rejects.toMatchObject({
      code: 'ERR_REDIS_TOKEN_SIGNING_FAILED',
      message: expect.stringContaining('no credentials here'),
    })
  })

  it('validates its options', () => {
    const base = { userId: 'u', cacheName: 'c', region: 'us-east-1' }
    for (const bad of [
      { ...base, userId: '' },
      { ...base, cacheName: 'master.c.abc123.use1.cache.amazonaws.com' },
      { ...base, region: undefined },
      { ...base, service: 'redis' },
      { ...base, refreshMarginMs: -1 },
      { ...base, credentials: { secretAccessKey: 'x' } },
    ])
      expect(() => createElastiCacheTokenProvider(bad as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
      )
  })
})
