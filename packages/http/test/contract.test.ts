import { once } from 'node:events'
import type { PrivateLinkError } from '@privatelink/core'
import { type Dispatcher, errors, fetch, request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { API, type HttpLab, startHttpLab } from './http-lab.js'

let env: HttpLab
beforeAll(async () => {
  env = await startHttpLab()
})
afterAll(() => env.close())
afterEach(() => env.restoreAll())

// An interceptor that awaits before dispatching, as sigv4() and most auth interceptors do: an
// error thrown by dispatch() would escape as an unhandled rejection and the request never settle.
const awaitingInterceptor: Dispatcher.DispatcherComposeInterceptor =
  (dispatch) => (options, handler) => {
    void (async () => {
      await Promise.resolve()
      dispatch(options, handler)
    })()
    return true
  }

describe("undici's Dispatcher contract", () => {
  it('errors reach handler.onError: an async interceptor sees a refused origin, a closed and a destroyed dispatcher', async () => {
    const rejections: unknown[] = []
    const onRejection = (reason: unknown) => rejections.push(reason)
    process.on('unhandledRejection', onRejection)
    try {
      const dispatcher = env.dispatcherFor()
      const composed = dispatcher.compose(awaitingInterceptor)
      const unpinned = await request('https://example.com/', { dispatcher: composed }).catch(
        (error: PrivateLinkError) => error,
      )
      expect(unpinned).toMatchObject({ code: 'ERR_ORIGIN_NOT_PINNED' })

      expect(dispatcher.closed).toBe(false)
      await dispatcher.close()
      expect(dispatcher.closed).toBe(true)
      const afterClose = await request(`https://${API}/`, { dispatcher: composed }).catch(
        (error: Error) => error,
      )
      expect(afterClose).toBeInstanceOf(errors.ClientClosedError)
      expect(afterClose).toMatchObject({ code: 'UND_ERR_CLOSED' })

      const other = env.dispatcherFor()
      await other.destroy()
      expect(other.destroyed).toBe(true)
      const afterDestroy = await request(`https://${API}/`, {
        dispatcher: other.compose(awaitingInterceptor),
      }).catch((error: Error) => error)
      expect(afterDestroy).toBeInstanceOf(errors.ClientDestroyedError)
      expect(afterDestroy).toMatchObject({ code: 'UND_ERR_DESTROYED' })
      // Returns false like undici's own dispatchers, never throws.
      const direct = other.dispatch({ origin: `https://${API}`, path: '/', method: 'GET' }, {
        onError: () => {},
      } as unknown as Dispatcher.DispatchHandler)
      expect(direct).toBe(false)
    } finally {
      process.off('unhandledRejection', onRejection)
    }
    expect(rejections).toEqual([])
  })

  it('a 302 to another host makes fetch reject cleanly with the typed error, through an async interceptor too', async () => {
    const dispatcher = env.dispatcherFor()
    try {
      const error = (await fetch(`https://${API}/moved`, {
        dispatcher: dispatcher.compose(awaitingInterceptor),
        headers: {
          'x-respond-status': '302',
          'x-respond-location': 'https://example.com/elsewhere',
        },
      }).catch((e: TypeError) => e)) as TypeError
      expect(error).toBeInstanceOf(TypeError)
      expect(error.cause).toMatchObject({
        code: 'ERR_ORIGIN_NOT_PINNED',
        details: { origin: 'https://example.com' },
      })
      // Still usable afterwards.
      expect((await fetch(`https://${API}/after`, { dispatcher })).status).toBe(200)
    } finally {
      await dispatcher.close()
    }
  })

  it("returns false when the pool is full and emits 'drain' once it has room", async () => {
    const dispatcher = env.dispatcherFor({ connections: 1 })
    const drained = once(dispatcher, 'drain')
    const results: number[] = []
    const send = (path: string) =>
      new Promise<boolean>((resolve, reject) => {
        const ready = dispatcher.dispatch({ origin: `https://${API}`, path, method: 'GET' }, {
          onConnect() {},
          onHeaders(statusCode: number) {
            results.push(statusCode)
            return true
          },
          onData: () => true,
          onComplete: () => resolve(ready),
          onError: reject,
        } as unknown as Dispatcher.DispatchHandler)
      })
    try {
      const first = dispatcher.dispatch({ origin: `https://${API}`, path: '/one', method: 'GET' }, {
        onConnect() {},
        onHeaders: () => true,
        onData: () => true,
        onComplete() {},
        onError() {},
      } as unknown as Dispatcher.DispatchHandler)
      // The only connection is taken: undici's contract says the caller should wait for 'drain'.
      const second = send('/two')
      expect(first).toBe(true)
      expect(await second).toBe(false)
      expect(results).toEqual([200])
      const [origin, targets] = (await drained) as [URL, Dispatcher[]]
      expect(origin.origin).toBe(`https://${API}`)
      expect(targets[0]).toBe(dispatcher)
    } finally {
      await dispatcher.close()
    }
  })

  it("forwards 'connect', 'disconnect' and 'connectionError' with itself first in targets", async () => {
    const dispatcher = env.dispatcherFor({ keepAliveTimeoutMs: 60_000 })
    const seen: string[] = []
    for (const event of ['connect', 'disconnect', 'connectionError'] as const) {
      dispatcher.on(event as 'connect', (_origin: URL, targets: readonly Dispatcher[]) => {
        expect(targets[0]).toBe(dispatcher)
        seen.push(event)
      })
    }
    try {
      await (await request(`https://${API}/events`, { dispatcher })).body.dump()
      expect(seen).toEqual(['connect'])
      env.target.closeIdle()
      await new Promise((resolve) => dispatcher.once('disconnect', resolve))
      expect(seen).toEqual(['connect', 'disconnect'])

      for (const zone of env.lab.endpoint.zones) await env.lab.zone(zone.azName).fail('refuse')
      const error = await request(`https://${API}/nowhere`, { dispatcher }).catch(
        (e: PrivateLinkError) => e,
      )
      expect(error).toMatchObject({ code: 'ERR_ENDPOINT_UNREACHABLE' })
      expect(seen).toEqual(['connect', 'disconnect', 'connectionError'])
    } finally {
      await dispatcher.close()
    }
  })
})
