import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { setTimeout as sleep } from 'node:timers/promises'
import { PrivateLinkError } from '@privatelink/core'
import { type AwsCredentials, createIamTokenProvider, type IamTokenProvider } from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { addCredentials, addToken, captureError } from './support/capture.js'
import { startApp } from './support/clients.js'
import { type Stack, startStack } from './support/stack.js'
import { record } from './support/summary.js'

// Issue 15, token and credential rotation under load across 2 simulated hours. Only Date is
// faked: the lab clock (token and session expiry), rds-signer's and smithy's X-Amz-Date and both
// token providers read it; sockets and timers stay real. Load runs in real time while the clock
// moves a minute per step.
const MINUTE = 60_000
const HOURS = 2
const STEP_REAL_MS = Number(process.env['RELIABILITY_ROTATION_STEP_MS'] ?? 80)
// A token is served until 1 minute (refreshMarginMs) before its 15 minutes end.
const TOKEN_USABLE_MS = 14 * MINUTE

let stack: Stack
beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(Date.now())
  stack = await startStack()
  addCredentials('lab long-term key', stack.lab.aws.credentials)
})
afterAll(async () => {
  await stack?.close()
  vi.useRealTimers()
})

/** Counts messages on a channel while a test runs. */
function count(name: string) {
  const messages: unknown[] = []
  const listener = (message: unknown) => messages.push(message)
  subscribe(name, listener)
  return { messages, stop: () => unsubscribe(name, listener) }
}

describe('rotation under load, 2 simulated hours', () => {
  it('one-hour STS sessions, 15-minute IAM tokens: 0 auth failures, signing off the hot path', async ({
    task,
  }) => {
    const { lab, proxy, cache } = stack
    let sessions = 0
    let current: AwsCredentials | undefined
    // One-hour sessions from the lab's STS, renewed 5 minutes before they lapse (as the SDK does).
    const credentials = async () => {
      if (current === undefined || current.expiration!.getTime() - Date.now() < 5 * MINUTE) {
        sessions++
        current = lab.aws.issueSession(3600)
        addCredentials(`STS session ${sessions}`, current)
      }
      return current
    }
    const signer = createIamTokenProvider({
      hostname: proxy.proxyHost,
      username: 'app_user',
      region: lab.region,
      credentials,
    })
    const calls: { at: number; waited: boolean }[] = []
    // The pool's provider, seen through a wrapper that remembers each token for the secret scan.
    const tokens: IamTokenProvider = {
      hostname: signer.hostname,
      port: signer.port,
      username: signer.username,
      region: signer.region,
      getToken: async () => {
        const waitedBefore = signer.stats().waited
        const at = Date.now()
        const token = await signer.getToken()
        calls.push({ at, waited: signer.stats().waited > waitedBefore })
        addToken('pg IAM token', token)
        return token
      },
      refresh: () => signer.refresh(),
      expiresAt: () => signer.expiresAt(),
      stats: () => signer.stats(),
    }
    // Steady state starts after the first token: that one signing is the only wait allowed.
    await tokens.getToken()
    // Open Redis connections re-AUTH every 5 simulated minutes with a current token (ElastiCache's
    // 12-hour rule, scaled down so 2 hours see 24 of them); the check runs every 25 ms of real time.
    const app = startApp(stack, {
      credentials,
      tokenProvider: tokens,
      poolMax: 8,
      redis: { reauthAfterMs: 5 * MINUTE, reauthCheckIntervalMs: 25 },
    })
    const redisSigned = count('privatelink:redis:token-refreshed')
    const redisAuth = count('privatelink:redis:auth')
    const pgRetries = count('privatelink:pg:auth-retry')
    const failures: string[] = []
    let completed = 0
    let newPgConnections = 0
    let running = true
    const onError = (kind: string) => (error: unknown) => {
      captureError(error)
      failures.push(
        `${kind} ${PrivateLinkError.isInstance(error) ? error.code : (error as Error).message}`,
      )
    }
    // pg: every 20th checkout is destroyed after use, so new connections (new tokens) keep coming.
    const pgLoops = Array.from({ length: 16 }, async (_, worker) => {
      let n = 0
      while (running) {
        try {
          const client = await app.pool.connect()
          const renew = ++n % 20 === 0
          try {
            await client.query('SELECT $1::int AS n', [n])
          } finally {
            client.release(renew)
          }
          if (renew) newPgConnections++
          completed++
        } catch (error) {
          onError(`pg worker ${worker}`)(error)
        }
        await sleep(Math.random() * 5)
      }
    })
    const redis = app.redis
    const redisLoops = Array.from({ length: redis === undefined ? 0 : 16 }, async (_, worker) => {
      let n = 0
      while (running) {
        try {
          await redis!.set(`privatelink:reliability:rotation:${worker}`, String(++n))
          completed++
        } catch (error) {
          onError(`redis worker ${worker}`)(error)
        }
        await sleep(Math.random() * 5)
      }
    })
    const start = Date.now()
    try {
      for (let minute = 1; minute <= HOURS * 60; minute++) {
        await sleep(STEP_REAL_MS)
        vi.setSystemTime(start + minute * MINUTE)
      }
      await sleep(200)
    } finally {
      running = false
      await Promise.all([...pgLoops, ...redisLoops])
      redisSigned.stop()
      redisAuth.stop()
      pgRetries.stop()
      app.inspectAll()
      await app.close()
    }
    const pgStats = signer.stats()
    // Signing on the hot path: a getToken() that waited although the previous call was recent
    // enough for a background refresh to have kept a token ready (only an idle gap longer than a
    // token's usable life excuses a wait: no timer refreshes an unused provider, by design).
    const hotPathSigning = calls.filter(
      (call, i) => i > 0 && call.waited && call.at - calls[i - 1]!.at < TOKEN_USABLE_MS,
    )
    const maxGapMs = Math.max(
      0,
      ...calls.map((call, i) => (i === 0 ? 0 : call.at - calls[i - 1]!.at)),
    )
    const proxyStats = proxy.stats()
    const cacheStats = cache?.stats()
    const redisAuthFailures = redisAuth.messages.filter((m) => (m as { ok?: boolean }).ok !== true)
    const authFailures =
      Object.values(proxyStats.refused).reduce((a, b) => a + (b ?? 0), 0) +
      Object.values(cacheStats?.refused ?? {}).reduce((a, b) => a + (b ?? 0), 0) +
      pgRetries.messages.length +
      redisAuthFailures.length
    record(task, {
      scenario: `rotation: ${HOURS} simulated hours, pg + Redis under load`,
      load: completed,
      faults: newPgConnections + (cacheStats?.reauthenticated ?? 0),
      badInputs: 0,
      failures: failures.length + authFailures + hotPathSigning.length,
      secrets: 0,
      notes: `${sessions} STS sessions; pg: ${proxyStats.authenticated} connections authenticated, ${pgStats.signed} tokens signed, ${calls.length} getToken() calls, ${pgStats.waited} waited for signing (the first, plus ${hotPathSigning.length} on the hot path; longest gap between calls ${Math.round(maxGapMs / 1000)} s); redis: ${cacheStats?.authenticated ?? '-'} AUTHs (${cacheStats?.reauthenticated ?? '-'} re-AUTHs on open connections), ${redisSigned.messages.length} tokens signed; ${authFailures} auth failures`,
    })
    expect(failures).toEqual([])
    expect(proxyStats.refused).toEqual({})
    expect(cacheStats?.refused ?? {}).toEqual({})
    expect(pgRetries.messages).toEqual([])
    expect(redisAuthFailures).toEqual([])
    expect(sessions).toBeGreaterThanOrEqual(2)
    // Signing never on the hot path: tokens are signed about twice per 15 minutes (refresh past
    // half life), not once per connection, and no connection waits for one in steady state.
    expect(hotPathSigning.map((call) => new Date(call.at).toISOString())).toEqual([])
    expect(pgStats.signed).toBeLessThanOrEqual(HOURS * 12)
    expect(proxyStats.authenticated).toBeGreaterThan(pgStats.signed)
    if (redis !== undefined) {
      expect(redisSigned.messages.length).toBeLessThanOrEqual(HOURS * 12)
      // Re-AUTH with rotated tokens ran across the sessions (every 5 simulated minutes, give or
      // take a step), each refused one would be an auth failure above.
      expect(cacheStats!.reauthenticated).toBeGreaterThanOrEqual(HOURS * 6)
    }
  })
})
