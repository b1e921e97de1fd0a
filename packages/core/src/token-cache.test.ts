import { PrivateLinkError } from '@privatelink/dns'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTokenCache, type TokenCacheOptions, type TokenCredentials } from './token-cache.js'

const LIFETIME_MS = 900_000
const MARGIN_MS = 60_000
const credentials: TokenCredentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }

/** A cache on an injected clock with a fake signer whose signings are counted and controllable. */
function setup(overrides: Partial<TokenCacheOptions> = {}) {
  const time = { now: 1_700_000_000_000 }
  const signings: Array<{ resolve: () => void; reject: (error: Error) => void }> = []
  let manual = false
  let failNext: Error | undefined
  let serial = 0
  const sign = vi.fn(async () => {
    const signedAt = time.now
    if (manual) await new Promise<void>((resolve, reject) => signings.push({ resolve, reject }))
    if (failNext !== undefined) {
      const error = failNext
      failNext = undefined
      throw error
    }
    serial++
    return { token: `token-${serial}`, signedAt, expiresAt: signedAt + LIFETIME_MS }
  })
  const signingError = (cause: unknown) =>
    new PrivateLinkError('ERR_TEST_SIGNING_FAILED', 'signing failed', { hint: 'test', cause })
  const cache = createTokenCache({
    sign,
    credentials,
    loadDefaultCredentials: () => Promise.reject(new Error('no default chain in tests')),
    clock: () => time.now,
    refreshMarginMs: MARGIN_MS,
    checkFresh: (life, now) =>
      now >= life.usableUntil
        ? new PrivateLinkError('ERR_TEST_EXPIRING', 'credentials expire too soon', { hint: 'test' })
        : undefined,
    signingError,
    ...overrides,
  })
  return {
    cache,
    sign,
    time,
    signings,
    holdSignings: () => {
      manual = true
    },
    failNext: (error: Error) => {
      failNext = error
    },
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

afterEach(() => {
  vi.useRealTimers()
})

describe('createTokenCache', () => {
  it('serves the cached token, then refreshes in the background past half its usable life', async () => {
    const { cache, sign, time } = setup()
    expect(await cache.getToken()).toBe('token-1')
    const start = time.now
    expect(cache.expiresAt()).toBe(start + LIFETIME_MS - MARGIN_MS)

    time.now = start + (LIFETIME_MS - MARGIN_MS) / 2 - 1
    expect(await cache.getToken()).toBe('token-1')
    expect(sign).toHaveBeenCalledTimes(1)

    // Past half its life: still served, while a new one is signed behind it.
    time.now = start + (LIFETIME_MS - MARGIN_MS) / 2
    expect(await cache.getToken()).toBe('token-1')
    await settle()
    expect(sign).toHaveBeenCalledTimes(2)
    expect(await cache.getToken()).toBe('token-2')
    expect(cache.stats()).toEqual({ signed: 2, cached: 3, waited: 1, refreshFailures: 0 })
  })

  it('waits for a new token once the cached one is inside the margin', async () => {
    const { cache, time } = setup()
    await cache.getToken()
    time.now += LIFETIME_MS - MARGIN_MS
    expect(await cache.getToken()).toBe('token-2')
    expect(cache.stats()).toMatchObject({ signed: 2, waited: 2 })
  })

  it('collapses concurrent callers onto one signing', async () => {
    const { cache, sign, signings, holdSignings } = setup()
    holdSignings()
    const callers = Array.from({ length: 10 }, () => cache.getToken())
    await settle()
    expect(signings).toHaveLength(1)
    signings[0]?.resolve()
    expect(await Promise.all(callers)).toEqual(Array(10).fill('token-1'))
    expect(sign).toHaveBeenCalledTimes(1)
    expect(cache.stats()).toMatchObject({ signed: 1, waited: 10 })
  })

  it("cuts a token's life to the credentials' expiration", async () => {
    const time0 = 1_700_000_000_000
    const expiration = new Date(time0 + 300_000)
    const { cache } = setup({ credentials: { ...credentials, expiration } })
    await cache.getToken()
    expect(cache.expiresAt()).toBe(expiration.getTime() - MARGIN_MS)
  })

  it('asks a provider to force-refresh credentials that lapse within twice the margin', async () => {
    const time0 = 1_700_000_000_000
    const provider = vi.fn(async (options?: { forceRefresh?: boolean }) => ({
      ...credentials,
      expiration: new Date(time0 + (options?.forceRefresh ? 3_600_000 : 2 * MARGIN_MS)),
    }))
    const { cache } = setup({ credentials: provider })
    await cache.getToken()
    expect(provider).toHaveBeenLastCalledWith({ forceRefresh: true })
    expect(cache.expiresAt()).toBe(time0 + LIFETIME_MS - MARGIN_MS)
  })

  it("throws the adapter's error when a fresh token is already unusable", async () => {
    const time0 = 1_700_000_000_000
    const { cache } = setup({
      credentials: { ...credentials, expiration: new Date(time0 + MARGIN_MS / 2) },
    })
    await expect(cache.getToken()).rejects.toMatchObject({ code: 'ERR_TEST_EXPIRING' })
  })

  it('retries a failed background refresh after 5 s, serving the valid token meanwhile', async () => {
    const onRefreshFailed = vi.fn()
    const { cache, sign, time, failNext } = setup({ onRefreshFailed })
    await cache.getToken()
    const start = time.now
    time.now = start + 500_000
    failNext(new Error('STS unreachable'))
    expect(await cache.getToken()).toBe('token-1')
    await settle()
    expect(cache.stats()).toMatchObject({ signed: 1, refreshFailures: 1 })
    expect(onRefreshFailed).toHaveBeenCalledWith(
      expect.objectContaining({ message: 'STS unreachable' }),
      start + LIFETIME_MS - MARGIN_MS - time.now,
    )

    time.now += 4_999
    expect(await cache.getToken()).toBe('token-1')
    await settle()
    expect(sign).toHaveBeenCalledTimes(2)

    time.now += 1
    expect(await cache.getToken()).toBe('token-1')
    await settle()
    expect(sign).toHaveBeenCalledTimes(3)
    expect(await cache.getToken()).toBe('token-2')
  })

  it('wraps a failure a caller waited for in the adapter error, and refresh() signs anew', async () => {
    const { cache, failNext } = setup()
    failNext(new Error('denied'))
    await expect(cache.getToken()).rejects.toMatchObject({ code: 'ERR_TEST_SIGNING_FAILED' })
    expect(await cache.getToken()).toBe('token-1')
    await cache.refresh()
    expect(await cache.getToken()).toBe('token-2')
    failNext(new Error('denied'))
    await expect(cache.refresh()).rejects.toMatchObject({ code: 'ERR_TEST_SIGNING_FAILED' })
    expect(cache.expiresAt()).toBeUndefined()
  })

  it('leaves no timers behind and keeps the token off enumerable properties', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'setImmediate'] })
    const { cache, time } = setup()
    await cache.getToken()
    time.now += 500_000
    await cache.getToken()
    await Promise.resolve()
    expect(vi.getTimerCount()).toBe(0)
    expect(JSON.stringify(cache)).not.toContain('token-')
  })
})
