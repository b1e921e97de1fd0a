import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { inspect } from 'node:util'
import { PrivateLinkError } from '@privatelink/core'
import { type AwsCredentials, createIamTokenProvider } from '@privatelink/pg'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { everythingShown, LEAKED, leaks, sdkShapedError } from './sdk-error.js'

const HOST = 'app-db.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com'
const START = Date.UTC(2026, 0, 15, 12, 0, 0)
const MINUTE = 60_000

// rds-signer stamps X-Amz-Date from Date, so simulated time moves Date (and nothing else).
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(START)
})
afterEach(() => {
  vi.useRealTimers()
})

const key = (suffix: string, expiration?: number): AwsCredentials => ({
  accessKeyId: `ASIATESTKEY${suffix}`,
  secretAccessKey: 'c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ',
  sessionToken: `session-${suffix}`,
  ...(expiration === undefined ? {} : { expiration: new Date(expiration) }),
})

const claims = (token: string) => {
  const query = new URLSearchParams(token.slice(token.indexOf('?') + 1))
  const date = query.get('X-Amz-Date')!
  const signed = Date.UTC(
    Number(date.slice(0, 4)),
    Number(date.slice(4, 6)) - 1,
    Number(date.slice(6, 8)),
    Number(date.slice(9, 11)),
    Number(date.slice(11, 13)),
    Number(date.slice(13, 15)),
  )
  return {
    authority: token.slice(0, token.indexOf('/')),
    user: query.get('DBUser'),
    key: query.get('X-Amz-Credential')!.split('/')[0],
    region: query.get('X-Amz-Credential')!.split('/')[2],
    signed,
    expires: signed + Number(query.get('X-Amz-Expires')) * 1000,
  }
}

/** Lets a background refresh (credentials, import, signing) finish. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe('createIamTokenProvider', () => {
  it('signs for the proxy host, port, user and region', async () => {
    const provider = createIamTokenProvider({
      hostname: HOST,
      username: 'app_user',
      region: 'us-west-2',
      credentials: key('A'),
    })
    const token = await provider.getToken()
    expect(claims(token)).toMatchObject({
      authority: `${HOST}:5432`,
      user: 'app_user',
      key: 'ASIATESTKEYA',
      region: 'us-west-2',
      signed: START,
      expires: START + 15 * MINUTE,
    })
  })

  it('across 2 simulated hours: every token handed out is valid, and only the first call waits', async () => {
    let issued = 0
    let current: AwsCredentials | undefined
    // Like the SDK's providers: one-hour sessions, renewed 5 minutes before they expire.
    const credentials = async () => {
      if (current === undefined || current.expiration!.getTime() - Date.now() < 5 * MINUTE)
        current = key(String(++issued), Date.now() + 60 * MINUTE)
      return current
    }
    const provider = createIamTokenProvider({
      hostname: HOST,
      username: 'app_user',
      region: 'us-west-2',
      credentials,
    })
    let connects = 0
    for (let t = 0; t <= 120 * MINUTE; t += 37_000) {
      vi.setSystemTime(START + t)
      const token = await provider.getToken()
      connects++
      const { signed, expires } = claims(token)
      // Valid now and for at least the margin; its credentials too.
      expect(Date.now()).toBeGreaterThanOrEqual(signed)
      expect(expires - Date.now()).toBeGreaterThanOrEqual(60_000)
      expect(current!.expiration!.getTime() - Date.now()).toBeGreaterThan(60_000)
      await settle()
    }
    const stats = provider.stats()
    expect(connects).toBeGreaterThan(190)
    expect(stats.waited).toBe(1)
    expect(stats.cached).toBe(connects - 1)
    // A token is renewed once past half its (15 min - margin) life: about every 7 minutes.
    expect(stats.signed).toBeGreaterThanOrEqual(16)
    expect(stats.signed).toBeLessThanOrEqual(20)
    expect(issued).toBeGreaterThanOrEqual(2)
  })

  it('credentials that expire before the token shorten its life', async () => {
    const provider = createIamTokenProvider({
      hostname: HOST,
      username: 'app_user',
      region: 'us-west-2',
      credentials: key('S', START + 5 * MINUTE),
    })
    await provider.getToken()
    expect(provider.expiresAt()).toBe(START + 5 * MINUTE - 60_000)
    const long = createIamTokenProvider({
      hostname: HOST,
      username: 'app_user',
      region: 'us-west-2',
      credentials: key('L', START + 60 * MINUTE),
    })
    await long.getToken()
    expect(long.expiresAt()).toBe(START + 15 * MINUTE - 60_000)
  })

  it('asks the credential provider to refresh credentials that would lapse within the margin', async () => {
    const calls: unknown[] = []
    const credentials = async (options?: { forceRefresh?: boolean }) => {
      calls.push(options)
      return options?.forceRefresh ? key('NEW', START + 60 * MINUTE) : key('OLD', START + 90_000)
    }
    const provider = createIamTokenProvider({
      hostname: HOST,
      username: 'u',
      region: 'us-west-2',
      credentials,
    })
    expect(claims(await provider.getToken()).key).toBe('ASIATESTKEYNEW')
    expect(calls).toEqual([undefined, { forceRefresh: true }])
  })

  it('collapses concurrent refreshes into one signing', async () => {
    let resolveCredentials!: (value: AwsCredentials) => void
    let calls = 0
    const credentials = () => {
      calls++
      return new Promise<AwsCredentials>((resolve) => {
        resolveCredentials = resolve
      })
    }
    const provider = createIamTokenProvider({
      hostname: HOST,
      username: 'u',
      region: 'us-west-2',
      credentials,
    })
    const pending = Array.from({ length: 8 }, () => provider.getToken())
    await settle()
    resolveCredentials(key('C'))
    const tokens = await Promise.all(pending)
    expect(new Set(tokens).size).toBe(1)
    expect(calls).toBe(1)
    expect(provider.stats()).toMatchObject({ signed: 1, waited: 8 })
  })

  it('a failed background refresh keeps serving the valid token and is published, without secrets', async () => {
    let fail = false
    const credentials = async () => {
      if (fail) throw Object.assign(new Error('STS unavailable'), { name: 'ServiceUnavailable' })
      return key('F')
    }
    const provider = createIamTokenProvider({
      hostname: HOST,
      username: 'u',
      region: 'us-west-2',
      credentials,
    })
    const first = await provider.getToken()
    const published: Record<string, unknown>[] = []
    const listener = (message: unknown) => published.push(message as Record<string, unknown>)
    subscribe('privatelink:pg:token-refresh-failed', listener)
    try {
      fail = true
      vi.setSystemTime(START + 10 * MINUTE)
      expect(await provider.getToken()).toBe(first)
      await settle()
      expect(published).toHaveLength(1)
      expect(published[0]).toMatchObject({
        hostname: HOST,
        username: 'u',
        code: 'ServiceUnavailable',
      })
      expect(published[0]!['tokenValidForMs']).toBe(4 * MINUTE)
      expect(JSON.stringify(published)).not.toContain('X-Amz')
      expect(JSON.stringify(published)).not.toContain('c2VjcmV0')
      // Still valid: still served; past the margin, a caller waits and gets the typed error.
      expect(await provider.getToken()).toBe(first)
      vi.setSystemTime(START + 14 * MINUTE + 1)
      const error = await provider.getToken().catch((e: unknown) => e)
      expect(PrivateLinkError.isInstance(error) && error.code).toBe('ERR_PG_TOKEN_SIGNING_FAILED')
      expect((error as Error).message).not.toContain('X-Amz')
      fail = false
      expect(claims(await provider.getToken()).signed).toBe(START + 14 * MINUTE) // X-Amz-Date has whole seconds
    } finally {
      unsubscribe('privatelink:pg:token-refresh-failed', listener)
    }
    expect(provider.stats().refreshFailures).toBeGreaterThanOrEqual(1)
  })

  it('an AWS SDK error while signing is kept without its request: no session token or signature reachable', async () => {
    // The message repeats the request's key and signature, as some SDK messages do.
    const failure = sdkShapedError(
      'InvalidClientTokenId',
      `The security token included in the request is invalid (Credential=${LEAKED.accessKeyId}/20260115, Signature=${LEAKED.signature})`,
    )
    const provider = createIamTokenProvider({
      hostname: HOST,
      username: 'u',
      region: 'us-west-2',
      credentials: async () => {
        throw failure
      },
    })
    const waited = await provider.getToken().catch((e: unknown) => e)
    const refreshed = await provider.refresh().catch((e: unknown) => e)
    for (const error of [waited, refreshed]) {
      expect(PrivateLinkError.isInstance(error) && error.code).toBe('ERR_PG_TOKEN_SIGNING_FAILED')
      const shown = everythingShown(error)
      expect(shown).toContain('InvalidClientTokenId')
      expect(shown).toContain('req-0123')
      expect(leaks(shown)).toBe(false)
      expect(leaks(JSON.stringify(error))).toBe(false)
    }
  })

  it("a failed background refresh publishes no part of the SDK error's request", async () => {
    let fail = false
    const provider = createIamTokenProvider({
      hostname: HOST,
      username: 'u',
      region: 'us-west-2',
      credentials: async () => {
        if (fail) throw sdkShapedError('ExpiredToken', `token ${LEAKED.sessionToken} expired`)
        return key('P')
      },
    })
    await provider.getToken()
    const published: unknown[] = []
    const listener = (message: unknown) => published.push(message)
    subscribe('privatelink:pg:token-refresh-failed', listener)
    try {
      fail = true
      vi.setSystemTime(START + 10 * MINUTE)
      await provider.getToken()
      await settle()
    } finally {
      unsubscribe('privatelink:pg:token-refresh-failed', listener)
    }
    expect(published).toHaveLength(1)
    expect(published[0]).toMatchObject({ code: 'ExpiredToken' })
    expect(leaks(everythingShown(published))).toBe(false)
  })

  it('refresh() replaces the token at once (after an authentication failure)', async () => {
    const provider = createIamTokenProvider({
      hostname: HOST,
      username: 'u',
      region: 'us-west-2',
      credentials: key('R'),
    })
    const first = await provider.getToken()
    vi.setSystemTime(START + 1_000)
    await provider.refresh()
    const second = await provider.getToken()
    expect(second).not.toBe(first)
    expect(provider.stats().signed).toBe(2)
  })

  it('never shows a token or a key in inspect output', async () => {
    const provider = createIamTokenProvider({
      hostname: HOST,
      username: 'u',
      region: 'us-west-2',
      credentials: key('I'),
    })
    await provider.getToken()
    const shown = inspect(provider, { depth: 10, showHidden: true })
    expect(shown).toContain(HOST)
    expect(shown).not.toContain('X-Amz')
    expect(shown).not.toContain('ASIATESTKEY')
    expect(JSON.stringify(provider)).not.toContain('X-Amz')
  })

  it.each([
    ['hostname', { hostname: '' }],
    ['username', { username: 42 }],
    ['region', { region: undefined }],
    ['port', { port: 70_000 }],
    ['refreshMarginMs', { refreshMarginMs: -1 }],
    ['clock', { clock: 'now' }],
    ['credentials', { credentials: { secretAccessKey: 'x' } }],
  ])('refuses a bad %s with ERR_INVALID_OPTION', (option, bad) => {
    const options = { hostname: HOST, username: 'u', region: 'us-west-2', ...bad }
    const error = (() => {
      try {
        createIamTokenProvider(options as never)
      } catch (e) {
        return e as PrivateLinkError
      }
    })()
    expect(error?.code).toBe('ERR_INVALID_OPTION')
    expect(error?.details['option']).toBe(option)
    expect(JSON.stringify(error)).not.toContain('"x"')
  })
})
