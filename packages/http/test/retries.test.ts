import { request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { API, type HttpLab, recordingTimers, startHttpLab } from './http-lab.js'

let env: HttpLab
beforeAll(async () => {
  env = await startHttpLab()
})
afterAll(() => env.close())
afterEach(() => env.restoreAll())

const zones = ['us-west-2a', 'us-west-2b', 'us-west-2c']
const acceptedAll = () => zones.reduce((sum, zone) => sum + env.accepted(zone), 0)
const count = (key: string) => env.target.counts.get(key) ?? 0

describe('retries on a retryable status', () => {
  it('20 GETs answered 503: 60 requests on one connection per zone, the body drained, with backoff', async () => {
    const { delays, timers } = recordingTimers()
    const dispatcher = env.dispatcherFor({ retry: { timers, random: () => 0.5 } })
    const requestsBefore = count('GET /storm')
    const connectionsBefore = acceptedAll()
    try {
      for (let i = 0; i < 20; i++) {
        const response = await request(`https://${API}/storm`, {
          dispatcher,
          headers: { 'x-respond-status': '503' },
        })
        expect(response.statusCode).toBe(503)
        await response.body.dump()
      }
      const requests = count('GET /storm') - requestsBefore
      const connections = acceptedAll() - connectionsBefore
      // Before: 60 requests on 65 new TLS connections (every retry destroyed its socket).
      expect({ requests, connections }).toEqual({ requests: 60, connections: 3 })
      // Full jitter with random 0.5: retry 1 waits 0.5 x 100 ms, retry 2 0.5 x 200 ms.
      expect(delays).toEqual(Array.from({ length: 20 }, () => [50, 100]).flat())
      expect(dispatcher.connectionsPerZone()).toEqual({
        'usw2-az1': 1,
        'usw2-az2': 1,
        'usw2-az3': 1,
      })
    } finally {
      await dispatcher.close()
    }
  })

  it('honours Retry-After in seconds and as an HTTP-date; a longer one than maxDelayMs reaches the caller', async () => {
    const { delays, timers } = recordingTimers()
    const dispatcher = env.dispatcherFor({ retry: { timers, random: () => 0, maxRetries: 1 } })
    const send = async (retryAfter: string) => {
      const response = await request(`https://${API}/later`, {
        dispatcher,
        headers: { 'x-respond-status': '503', 'x-respond-retry-after': retryAfter },
      })
      await response.body.dump()
      return response.statusCode
    }
    try {
      const before = count('GET /later')
      expect(await send('1')).toBe(503)
      expect(await send(new Date(env.clock.now + 2_000).toUTCString())).toBe(503)
      expect(delays).toEqual([1_000, 2_000])
      expect(count('GET /later') - before).toBe(4)
      // Two minutes is more than we wait unseen: one request, the 503 and its Retry-After to the caller.
      expect(await send('120')).toBe(503)
      expect(count('GET /later') - before).toBe(5)
      expect(delays).toEqual([1_000, 2_000])
    } finally {
      await dispatcher.close()
    }
  })

  it('a retry budget stops a storm from multiplying load, and successes refill it', async () => {
    const { timers } = recordingTimers()
    const dispatcher = env.dispatcherFor({
      retry: { timers, random: () => 0, budget: { capacity: 10, retryCost: 5 } },
    })
    const send = async (status: string) => {
      const response = await request(`https://${API}/budget`, {
        dispatcher,
        headers: { 'x-respond-status': status },
      })
      await response.body.dump()
      return response.statusCode
    }
    try {
      const before = count('GET /budget')
      // The first takes both retries (10 tokens), the next two get none.
      for (let i = 0; i < 3; i++) expect(await send('503')).toBe(503)
      expect(count('GET /budget') - before).toBe(5)
      // Five successes give five tokens back: one retry again.
      for (let i = 0; i < 5; i++) expect(await send('200')).toBe(200)
      expect(await send('503')).toBe(503)
      expect(count('GET /budget') - before).toBe(12)
    } finally {
      await dispatcher.close()
    }
  })

  it('a POST answered 503 is not retried', async () => {
    const dispatcher = env.dispatcherFor()
    try {
      const before = count('POST /pay')
      const response = await request(`https://${API}/pay`, {
        dispatcher,
        method: 'POST',
        body: '{}',
        headers: { 'x-respond-status': '503' },
      })
      await response.body.dump()
      expect(response.statusCode).toBe(503)
      expect(count('POST /pay') - before).toBe(1)
    } finally {
      await dispatcher.close()
    }
  })
})
