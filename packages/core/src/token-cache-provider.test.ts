import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel'
import { inspect } from 'node:util'
import * as base from '@privatelink/base'
import { describe, expect, it } from 'vitest'
import * as core from './index.js'
import { createTokenProvider, type TokenProviderOptions } from './token-cache-provider.js'

const NOW = 1_700_000_000_000
const LIFETIME_MS = 900_000
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET }
const SIGNATURE = 'a'.repeat(64)

/** A provider on an injected clock, its signings counted, publishing on test channels of its own. */
function setup(overrides: Partial<TokenProviderOptions<{ user: string; host: string }>> = {}) {
  const time = { now: NOW }
  const id = Math.random().toString(36).slice(2)
  const names = {
    refreshed: `test:token-refreshed:${id}`,
    refreshFailed: `test:token-failed:${id}`,
  }
  const signedAt: number[] = []
  let failures = 0
  const provider = createTokenProvider({
    subject: { user: 'app', host: 'proxy.example' },
    label: 'TestTokenProvider { app@proxy.example }',
    given: { credentials, clock: () => time.now },
    loadDefaultCredentials: () => Promise.reject(new Error('no default chain in tests')),
    async sign(_credentials, now) {
      signedAt.push(now)
      if (failures > 0) {
        failures--
        // Shaped as the SDK's: the message repeats a signature, $response holds the request.
        throw Object.defineProperty(
          Object.assign(new Error(`refused: X-Amz-Signature=${SIGNATURE}`), {
            code: 'ExpiredToken',
          }),
          '$response',
          { enumerable: false, value: { headers: { authorization: SIGNATURE } } },
        )
      }
      return { token: `token-${signedAt.length}`, signedAt: now, expiresAt: now + LIFETIME_MS }
    },
    checkFresh: () => undefined,
    signingError: (reason, cause) =>
      new base.PrivateLinkError('ERR_TEST_SIGNING_FAILED', `signing failed: ${reason}`, {
        hint: 'test',
        cause,
      }),
    channels: { refreshed: channel(names.refreshed), refreshFailed: channel(names.refreshFailed) },
    ...overrides,
  })
  return { provider, time, names, signedAt, failNext: () => failures++ }
}

/** What `name` receives while `run` runs. */
async function published(name: string, run: () => Promise<unknown>): Promise<unknown[]> {
  const messages: unknown[] = []
  const listener = (message: unknown) => messages.push(message)
  subscribe(name, listener)
  try {
    await run()
    await new Promise<void>((resolve) => setImmediate(resolve))
  } finally {
    unsubscribe(name, listener)
  }
  return messages
}

function refusal(given: TokenProviderOptions<object>['given']): base.PrivateLinkError {
  try {
    setup({ given })
  } catch (error) {
    if (base.PrivateLinkError.isInstance(error)) return error
    throw error
  }
  throw new Error('accepted')
}

describe('createTokenProvider', () => {
  it("is the subject's fields and the cache's methods; inspect shows the label only", async () => {
    const { provider } = setup()
    expect(provider).toMatchObject({ user: 'app', host: 'proxy.example' })
    expect(await provider.getToken()).toBe('token-1')
    expect(inspect(provider, { depth: 5 })).toBe('TestTokenProvider { app@proxy.example }')
    expect(JSON.stringify(provider)).not.toContain('token-1')
    expect(provider.stats()).toEqual({ signed: 1, cached: 0, waited: 1, refreshFailures: 0 })
  })

  it('signs with the clock read once the credentials are resolved', async () => {
    const { provider, time, signedAt } = setup()
    time.now = NOW + 1234
    await provider.getToken()
    expect(signedAt).toEqual([NOW + 1234])
  })

  it('publishes each signing with the subject, validForMs and signMs', async () => {
    const { provider, names } = setup()
    const messages = await published(names.refreshed, () => provider.getToken())
    expect(messages).toEqual([
      {
        user: 'app',
        host: 'proxy.example',
        validForMs: LIFETIME_MS - 60_000,
        signMs: expect.any(Number),
      },
    ])
  })

  it('publishes a failed background refresh with redacted facts, the token still served', async () => {
    const { provider, time, names, failNext } = setup()
    await provider.getToken()
    time.now = NOW + LIFETIME_MS / 2
    failNext()
    const messages = await published(names.refreshFailed, async () => {
      expect(await provider.getToken()).toBe('token-1')
    })
    expect(messages).toEqual([
      {
        user: 'app',
        host: 'proxy.example',
        code: 'ExpiredToken',
        message: 'refused: X-Amz-Signature=[redacted]',
        tokenValidForMs: LIFETIME_MS / 2 - 60_000,
      },
    ])
    expect(provider.stats().refreshFailures).toBe(1)
  })

  it("hands the adapter's error a redacted reason and a sanitised cause, never the SDK's error", async () => {
    const { provider, failNext } = setup()
    failNext()
    const error = await provider.getToken().catch((caught: unknown) => caught)
    expect(error).toMatchObject({
      code: 'ERR_TEST_SIGNING_FAILED',
      message: 'signing failed: refused: X-Amz-Signature=[redacted]',
    })
    const shown = inspect(error, { depth: 10, showHidden: true })
    expect(shown).not.toContain(SIGNATURE)
    expect(shown).not.toContain('$response')
  })

  it('checks clock, refreshMarginMs and credentials, naming each, never echoing a secret', () => {
    expect(refusal({ clock: 'now' }).details['option']).toBe('clock')
    expect(refusal({ refreshMarginMs: 600_000 }).details['option']).toBe('refreshMarginMs')
    expect(refusal({ refreshMarginMs: 1.5 }).details['option']).toBe('refreshMarginMs')
    const error = refusal({ credentials: SECRET })
    expect(error.details).toMatchObject({
      option: 'credentials',
      received: `a string of ${SECRET.length} characters`,
    })
    expect(JSON.stringify(error)).not.toContain(SECRET)
  })

  it("throws base's PrivateLinkError, which core re-exports as the same class", () => {
    expect(core.PrivateLinkError).toBe(base.PrivateLinkError)
    expect(core.sanitizedCause).toBe(base.sanitizedCause)
    expect(refusal({ clock: 1 })).toBeInstanceOf(core.PrivateLinkError)
  })
})
