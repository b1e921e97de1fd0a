import type { PrivateLinkError } from '@privatelink/core'
import { errors, request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { API, type HttpLab, recordingTimers, startHttpLab } from './http-lab.js'

let env: HttpLab
beforeAll(async () => {
  env = await startHttpLab()
})
afterAll(() => env.close())
afterEach(() => env.restoreAll())

const count = (key: string) => env.target.counts.get(key) ?? 0

/** The target holds requests for `path` until released; `seen` resolves when the first arrives. */
function hold(path: string) {
  let release = () => {}
  const released = new Promise<void>((resolve) => (release = resolve))
  let seen = () => {}
  const arrived = new Promise<void>((resolve) => (seen = resolve))
  env.target.onBody = async (_method, requestPath) => {
    if (requestPath !== path) return
    seen()
    await released
  }
  return { arrived, release }
}

describe("the caller's abort", () => {
  it('abort(reason) is never retried and surfaces as the reason itself', async () => {
    const dispatcher = env.dispatcherFor()
    const held = hold('/slow')
    try {
      const controller = new AbortController()
      const reason = new Error('the user went away')
      const pending = request(`https://${API}/slow`, { dispatcher, signal: controller.signal })
      await held.arrived
      controller.abort(reason)
      await expect(pending).rejects.toBe(reason)
      expect(count('GET /slow')).toBe(1)
    } finally {
      held.release()
      await dispatcher.close()
    }
  })

  it('AbortSignal.timeout() surfaces as its TimeoutError, not as a lost connection', async () => {
    const dispatcher = env.dispatcherFor()
    const held = hold('/slower')
    try {
      const error = (await request(`https://${API}/slower`, {
        dispatcher,
        signal: AbortSignal.timeout(200),
      }).catch((e: Error) => e)) as DOMException
      expect(error.name).toBe('TimeoutError')
      expect(count('GET /slower')).toBe(1)
    } finally {
      held.release()
      await dispatcher.close()
    }
  })
})

describe("undici's errors are kept when the failure is final", () => {
  it('a GET whose headers never come fails with UND_ERR_HEADERS_TIMEOUT after trying every zone', async () => {
    const { timers } = recordingTimers()
    const dispatcher = env.dispatcherFor({ retry: { timers } })
    const held = hold('/no-headers')
    try {
      const before = count('GET /no-headers')
      // A per-request deadline (undici's own option), so this test does not wait five minutes.
      const error = await request(`https://${API}/no-headers`, {
        dispatcher,
        headersTimeout: 200,
      }).catch((e: Error) => e)
      expect(error).toBeInstanceOf(errors.HeadersTimeoutError)
      expect(error).toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' })
      expect(count('GET /no-headers') - before).toBe(3)
    } finally {
      held.release()
      await dispatcher.close()
    }
  })

  it('a GET whose connection dies on every zone fails with UND_ERR_SOCKET', async () => {
    const { timers } = recordingTimers()
    const dispatcher = env.dispatcherFor({ retry: { timers } })
    try {
      const before = count('GET /dies')
      const error = await request(`https://${API}/dies`, {
        dispatcher,
        headers: { 'x-respond-destroy': '1' },
      }).catch((e: Error) => e)
      expect(error).toBeInstanceOf(errors.SocketError)
      expect(error).toMatchObject({ code: 'UND_ERR_SOCKET' })
      expect(count('GET /dies') - before).toBe(3)
    } finally {
      await dispatcher.close()
    }
  })

  it('a POST that lost its connection after it was written: ERR_CONNECTION_LOST, never replayed', async () => {
    const dispatcher = env.dispatcherFor()
    try {
      const before = count('POST /charge')
      const error = (await request(`https://${API}/charge`, {
        dispatcher,
        method: 'POST',
        body: '{"amount":1}',
        headers: { 'x-respond-destroy': '1' },
      }).catch((e: PrivateLinkError) => e)) as PrivateLinkError
      expect(error.code).toBe('ERR_CONNECTION_LOST')
      expect(error.hint).toMatch(/idempotency key/)
      expect(error.cause).toBeInstanceOf(errors.SocketError)
      expect(count('POST /charge') - before).toBe(1)
    } finally {
      await dispatcher.close()
    }
  })

  it('a POST that timed out waiting for headers keeps UND_ERR_HEADERS_TIMEOUT, never replayed', async () => {
    const dispatcher = env.dispatcherFor()
    const held = hold('/slow-post')
    try {
      const before = count('POST /slow-post')
      const error = await request(`https://${API}/slow-post`, {
        dispatcher,
        method: 'POST',
        body: '{}',
        headersTimeout: 200,
      }).catch((e: Error) => e)
      expect(error).toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' })
      expect(count('POST /slow-post') - before).toBe(1)
    } finally {
      held.release()
      await dispatcher.close()
    }
  })
})
