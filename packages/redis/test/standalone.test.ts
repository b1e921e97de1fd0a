import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createRequire } from 'node:module'
import { format } from 'node:util'
import { PrivateLinkError } from '@privatelink/core'
import type { LabZone } from '@privatelink/lab'
import {
  type CreateRedisOptions,
  createElastiCacheTokenProvider,
  createRedis,
} from '@privatelink/redis'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { counters, load, ready, type StandaloneLab, startStandaloneLab, until } from './setup.js'

const redisUrl = inject('redisUrl')

let env: StandaloneLab
const clients: Redis[] = []

function client(overrides: Partial<CreateRedisOptions> = {}): Redis {
  const { lab, front, clock } = env
  const redis = createRedis({
    endpoint: lab.endpoint,
    servername: front.hostname,
    tls: { ca: lab.ca.certificatePem },
    auth: {
      iam: {
        userId: 'app-user',
        cacheName: 'lab-cache',
        region: lab.region,
        credentials: lab.aws.credentials,
      },
    },
    locality: { source: 'options', azId: lab.endpoint.zones[0]!.azId! },
    clock: () => clock.now,
    connectorOptions: { healthCheck: { intervalMs: 300, timeoutMs: 300 } },
    maxRetriesPerRequest: null,
    ...overrides,
  })
  redis.on('error', () => {})
  clients.push(redis)
  return redis
}

/** The typed error a client ends with, or the first one it reports. */
function firstError(redis: Redis): Promise<PrivateLinkError> {
  return new Promise((resolve) =>
    redis.on('error', (error) => {
      if (PrivateLinkError.isInstance(error)) resolve(error)
    }),
  )
}

const accepted = (zone: number) => {
  const name = env.lab.endpoint.zones[zone]!.azName
  return env.lab.zone(name).stats()['redis']!.accepted
}

const active = (zone: number) => {
  const name = env.lab.endpoint.zones[zone]!.azName
  return env.lab.zone(name).stats()['redis']!.active
}

describe.skipIf(redisUrl === '')('createRedis through the endpoint', () => {
  beforeAll(async () => {
    env = await startStandaloneLab(redisUrl)
  })
  afterEach(async () => {
    vi.useRealTimers()
    for (const redis of clients.splice(0)) redis.disconnect()
    for (const zone of env.lab.endpoint.zones) await env.lab.zone(zone.azName).restore()
  })
  afterAll(() => env?.close())

  it('GET/SET through each zone, authenticated with IAM over TLS', async () => {
    const authenticatedIn: unknown[] = []
    const listener = (event: unknown) => authenticatedIn.push((event as { zone: unknown }).zone)
    subscribe('privatelink:redis:auth', listener)
    try {
      for (const [index, zone] of env.lab.endpoint.zones.entries()) {
        const before = accepted(index)
        const redis = client({ locality: { source: 'options', azId: zone.azId! } })
        await redis.set(`privatelink:redis:zone:${index}`, zone.azName)
        expect(await redis.get(`privatelink:redis:zone:${index}`)).toBe(zone.azName)
        expect(accepted(index)).toBeGreaterThan(before)
      }
    } finally {
      unsubscribe('privatelink:redis:auth', listener)
    }
    expect(authenticatedIn).toEqual(env.lab.endpoint.zones.map((zone) => zone.azId))
    expect(env.front.stats().authenticated).toBeGreaterThanOrEqual(3)
  })

  it('HELLO 3 after AUTH: ioredis 6 speaks RESP3 on the authenticated connection', async () => {
    const redis = client({ protocol: 3 })
    await redis.hset('privatelink:redis:hash', 'a', '1')
    expect(await redis.hgetall('privatelink:redis:hash')).toEqual({ a: '1' })
  })

  it('keeps every command working when the own zone refuses new connections and the open one drops', async () => {
    const redis = client()
    await ready(redis)
    const traffic = load(redis, 8, 'privatelink:redis:refuse')
    await until(() => traffic.stats().completed >= 20)
    const own = env.lab.endpoint.zones[0]!.azName
    traffic.markFault()
    await env.lab.zone(own).fail('refuse')
    await env.lab.zone(own).fail('reset')
    await until(() => traffic.stats().completedAfterFault >= 200)
    await traffic.stop()
    expect(traffic.failures).toEqual([])
    expect(accepted(1) + accepted(2)).toBeGreaterThan(0)
  })

  it('moves to another zone when the own zone is blackholed under load: 0 failed commands', async () => {
    const redis = client()
    await ready(redis)
    const traffic = load(redis, 8, 'privatelink:redis:blackhole')
    await until(() => traffic.stats().completed >= 20)
    const own = env.lab.endpoint.zones[0]!.azName
    const otherBefore = accepted(1) + accepted(2)
    traffic.markFault()
    await env.lab.zone(own).fail('blackhole')
    // Health checks (300 ms, 2 failures) eject the zone; its sockets are closed and ioredis resends.
    await until(() => traffic.stats().completedAfterFault >= 200)
    await traffic.stop()
    expect(traffic.failures).toEqual([])
    expect(traffic.stats().completedAfterFault).toBeGreaterThanOrEqual(200)
    expect(accepted(1) + accepted(2)).toBeGreaterThan(otherBefore)
  })

  it('returns to the own zone once it is readmitted, under constant load: the connection elsewhere drains, 0 failed commands, none resent', async () => {
    // Health checks run on setInterval: each poll below fires one round (real I/O). The ejection
    // runs on the lab clock, so it ends when the test moves the clock, not after a wait.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const start = env.clock.now
    const redis = client({
      connectorOptions: { clock: () => env.clock.now, healthCheck: { timeoutMs: 300 } },
    })
    await ready(redis)
    const own = env.lab.zone(env.lab.endpoint.zones[0]!.azName)
    const inOwnZone = () => redis.status === 'ready' && redis.stream.remoteAddress === own.address
    expect(inOwnZone()).toBe(true)
    const traffic = counters(redis, 4, 'privatelink:redis:readmit')
    try {
      await vi.waitFor(() => expect(traffic.stats().completed).toBeGreaterThanOrEqual(20))
      await own.fail('blackhole')
      const atFault = traffic.stats().completed
      // Two failed health checks in a row eject the own zone: its connection is closed and ioredis
      // reconnects (resending what was unanswered) in another zone.
      await vi.waitFor(
        () => {
          vi.advanceTimersByTime(2_000)
          expect(redis.status).toBe('ready')
          expect(inOwnZone()).toBe(false)
          expect(traffic.stats().completed).toBeGreaterThanOrEqual(atFault + 200)
        },
        { timeout: 15_000, interval: 50 },
      )

      // The zone comes back: its ejection runs out (at most ejection.maxMs, 60 s on the connector's
      // clock) and the next health check readmits it. The loops never pause, so the connection
      // elsewhere is never idle: it drains. From here every INCR must succeed and run exactly once.
      await own.restore()
      env.clock.now += 60_000
      traffic.check()
      await vi.waitFor(
        () => {
          vi.advanceTimersByTime(2_000)
          expect(inOwnZone()).toBe(true)
        },
        { timeout: 15_000, interval: 50 },
      )
      // It stays there while the loops keep running, and nothing is left in the other zones.
      const stream = redis.stream
      const checked = traffic.stats().checked
      await vi.waitFor(() => expect(traffic.stats().checked).toBeGreaterThanOrEqual(checked + 200))
      expect(redis.stream).toBe(stream)
      expect(inOwnZone()).toBe(true)
      await vi.waitFor(() => expect(active(1) + active(2)).toBe(0))
      await traffic.stop()
      expect(traffic.failures).toEqual([])
    } finally {
      const stopping = traffic.stop()
      redis.disconnect()
      await stopping
      env.clock.now = start
    }
  })

  it('a readmitted zone that is not first still moves connections off zones ranked below it: the one in the third zone drains to the own zone', async () => {
    // Core's readmit rule: every zone ranked after the readmitted one leaves (before, redis acted
    // only when the readmitted zone was the first). Health checks run on setInterval, ejections
    // on the lab clock, as above.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const start = env.clock.now
    const [own, second, third] = [0, 1, 2].map((index) =>
      env.lab.zone(env.lab.endpoint.zones[index]!.azName),
    ) as [LabZone, LabZone, LabZone]
    const events: { type: string; azName: unknown }[] = []
    const onEject = (message: unknown) =>
      events.push({ type: 'eject', azName: (message as { azName: unknown }).azName })
    const onReadmit = (message: unknown) =>
      events.push({ type: 'readmit', azName: (message as { azName: unknown }).azName })
    subscribe('privatelink:connector:eject', onEject)
    subscribe('privatelink:connector:readmit', onReadmit)
    // One refused connect each is below the ejection threshold: the first connection lands in the
    // third zone while the own and the second zone stay in rotation.
    await own.fail('refuse')
    await second.fail('refuse')
    const redis = client({
      connectorOptions: { clock: () => env.clock.now, healthCheck: { timeoutMs: 300 } },
    })
    try {
      await ready(redis)
      await own.restore()
      await second.restore()
      expect(redis.stream.remoteAddress).toBe(third.address)
      // Two passing check rounds measure the second zone's connect time: measured zones within
      // 25% of each other keep the endpoint's order, so it ranks before the third again.
      const checked = accepted(1)
      await vi.waitFor(
        () => {
          vi.advanceTimersByTime(2_000)
          expect(accepted(1)).toBeGreaterThanOrEqual(checked + 2)
        },
        { timeout: 15_000, interval: 50 },
      )
      expect(redis.stream.remoteAddress).toBe(third.address)
      // The second zone is ejected and readmitted while the own zone, ranked first, stays in.
      await second.fail('refuse')
      await vi.waitFor(
        () => {
          vi.advanceTimersByTime(2_000)
          expect(events).toContainEqual({ type: 'eject', azName: second.name })
        },
        { timeout: 15_000, interval: 50 },
      )
      expect(redis.stream.remoteAddress).toBe(third.address)
      await second.restore()
      env.clock.now += 60_000
      await vi.waitFor(
        () => {
          vi.advanceTimersByTime(2_000)
          expect(events).toContainEqual({ type: 'readmit', azName: second.name })
        },
        { timeout: 15_000, interval: 50 },
      )
      expect(events.filter((event) => event.azName === own.name)).toEqual([])
      await vi.waitFor(() =>
        expect(redis.status === 'ready' && redis.stream.remoteAddress).toBe(own.address),
      )
      expect(await redis.get('privatelink:redis:not-first')).toBe(null)
    } finally {
      unsubscribe('privatelink:connector:eject', onEject)
      unsubscribe('privatelink:connector:readmit', onReadmit)
      redis.disconnect()
      env.clock.now = start
    }
  })

  it('signs a fresh token for a reconnect after the first one expired', async () => {
    const redis = client({ reconnectOnError: null })
    await redis.set('privatelink:redis:refresh', '1')
    const authenticated = env.front.stats().authenticated
    env.clock.now += 20 * 60_000
    try {
      redis.disconnect(true)
      await ready(redis)
      expect(await redis.get('privatelink:redis:refresh')).toBe('1')
      expect(env.front.stats().authenticated).toBe(authenticated + 1)
      expect(env.front.stats().refused['expired-token'] ?? 0).toBe(0)
    } finally {
      env.clock.now -= 20 * 60_000
    }
  })

  it('re-AUTHs an open connection before 12 hours (injected clock), so ElastiCache keeps it', async () => {
    const redis = client({ reauthCheckIntervalMs: 20 })
    await redis.set('privatelink:redis:reauth', 'kept')
    const acceptedBefore = env.front.stats().connections
    const expiredBefore = env.front.stats().expired
    const reauthed = new Promise<Record<string, unknown>>((resolve) => {
      const listener = (message: unknown) => {
        const event = message as Record<string, unknown>
        if (event['reauth'] !== true) return
        unsubscribe('privatelink:redis:auth', listener)
        resolve(event)
      }
      subscribe('privatelink:redis:auth', listener)
    })
    const start = env.clock.now
    try {
      env.clock.now = start + 11 * 3_600_000 + 1_000
      const event = await reauthed
      expect(event).toMatchObject({ user: 'app-user', ok: true, reauth: true })
      expect(JSON.stringify(event)).not.toContain('X-Amz')
      env.clock.now = start + 12 * 3_600_000 + 60_000
      expect(env.front.sweep()).toBe(0)
      expect(await redis.get('privatelink:redis:reauth')).toBe('kept')
      expect(env.front.stats().connections).toBe(acceptedBefore)
      expect(env.front.stats().expired).toBe(expiredBefore)
      expect(env.front.stats().reauthenticated).toBeGreaterThanOrEqual(1)
    } finally {
      env.clock.now = start
    }
  })

  it('DEBUG=ioredis:* shows no byte of the re-AUTH token', async () => {
    // ioredis logs through the `debug` package it requires: enable its namespace there and take
    // its output (the package reads DEBUG only when loaded, so the environment cannot do it here).
    const debug = createRequire(createRequire(import.meta.url).resolve('ioredis'))('debug') as {
      enable(namespaces: string): void
      disable(): string
      log: (...args: unknown[]) => void
    }
    const lines: string[] = []
    const log = debug.log
    const previous = debug.disable()
    debug.log = (...args: unknown[]) => lines.push(format(...args))
    debug.enable('ioredis:*')
    const redis = client({ reauthCheckIntervalMs: 20 })
    const start = env.clock.now
    try {
      await redis.set('privatelink:redis:debug', 'v')
      const reauthed = new Promise<void>((resolve) => {
        const listener = (message: unknown) => {
          if ((message as { reauth?: boolean }).reauth !== true) return
          unsubscribe('privatelink:redis:auth', listener)
          resolve()
        }
        subscribe('privatelink:redis:auth', listener)
      })
      env.clock.now = start + 11 * 3_600_000 + 1_000
      await reauthed
      expect(await redis.get('privatelink:redis:debug')).toBe('v')
    } finally {
      env.clock.now = start
      debug.log = log
      debug.enable(previous)
    }
    const output = lines.join('\n')
    // The AUTH was logged (so the capture works), with its token redacted.
    expect(output).toMatch(/auth\(.*app-user.*\[redacted\]/)
    for (const piece of [
      'Action=connect',
      'X-Amz',
      'lab-cache/?',
      env.lab.aws.credentials.accessKeyId,
    ])
      expect(output).not.toContain(piece)
  })

  it('without re-AUTH, ElastiCache drops the connection at 12 hours and the client reconnects with a fresh token', async () => {
    const redis = client({ reauthAfterMs: 43_199_999, reauthCheckIntervalMs: 3_600_000 })
    await redis.set('privatelink:redis:drop', 'v')
    const start = env.clock.now
    const expiredBefore = env.front.stats().expired
    try {
      env.clock.now = start + 12 * 3_600_000 + 1_000
      expect(await redis.get('privatelink:redis:drop')).toBe('v')
      expect(env.front.stats().expired).toBe(expiredBefore + 1)
    } finally {
      env.clock.now = start
    }
  })

  it('refuses unknown credentials with ERR_REDIS_IAM_AUTH_FAILED, after one re-signed retry', async () => {
    const redis = client({
      auth: {
        iam: {
          userId: 'app-user',
          cacheName: 'lab-cache',
          region: env.lab.region,
          credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 's'.repeat(40) },
        },
      },
    })
    const error = await redis.get('k').catch((e: unknown) => e)
    expect(PrivateLinkError.isInstance(error)).toBe(true)
    expect((error as PrivateLinkError).code).toBe('ERR_REDIS_IAM_AUTH_FAILED')
    expect((error as PrivateLinkError).hint).toMatch(/elasticache:Connect/)
    expect(JSON.stringify(error)).not.toMatch(/X-Amz|sssss/)
    expect(redis.status).toBe('end')
  })

  it('refuses an expired token given as a password with ERR_REDIS_TOKEN_EXPIRED', async () => {
    const old = createElastiCacheTokenProvider({
      userId: 'app-user',
      cacheName: 'lab-cache',
      region: env.lab.region,
      credentials: env.lab.aws.credentials,
      clock: () => env.clock.now - 20 * 60_000,
    })
    const redis = client({ username: 'app-user', auth: { password: await old.getToken() } })
    const error = (await redis.get('k').catch((e: unknown) => e)) as PrivateLinkError
    expect(error.code).toBe('ERR_REDIS_TOKEN_EXPIRED')
    expect(error.message).not.toContain('X-Amz')
  })

  it('refuses a token for another user with ERR_REDIS_TOKEN_USER_MISMATCH', async () => {
    const other = createElastiCacheTokenProvider({
      userId: 'other-user',
      cacheName: 'lab-cache',
      region: env.lab.region,
      credentials: env.lab.aws.credentials,
      clock: () => env.clock.now,
    })
    const redis = client({ username: 'app-user', auth: { password: await other.getToken() } })
    const error = (await redis.get('k').catch((e: unknown) => e)) as PrivateLinkError
    expect(error.code).toBe('ERR_REDIS_TOKEN_USER_MISMATCH')
    expect(error.details).toMatchObject({ user: 'app-user', tokenUser: 'other-user' })
  })

  it('refuses a certificate for another name with ERR_TLS_NAME_MISMATCH (verify-full)', async () => {
    const redis = client({ servername: 'master.other-cache.abc123.usw2.cache.amazonaws.com' })
    const error = (await redis.get('k').catch((e: unknown) => e)) as PrivateLinkError
    expect(error.code).toBe('ERR_TLS_NAME_MISMATCH')
    expect(error.hint).toMatch(/servername/)
  })

  it('reports ERR_ENDPOINT_UNREACHABLE while no zone accepts, then recovers', async () => {
    for (const zone of env.lab.endpoint.zones) await env.lab.zone(zone.azName).fail('refuse')
    const redis = client()
    const error = await firstError(redis)
    expect(error.code).toBe('ERR_ENDPOINT_UNREACHABLE')
    const pending = redis.get('privatelink:redis:zone:0')
    for (const zone of env.lab.endpoint.zones) await env.lab.zone(zone.azName).restore()
    expect(await pending).not.toBeUndefined()
  })

  it('validates options at construction', () => {
    const base = { endpoint: env.lab.endpoint, servername: env.front.hostname, lazyConnect: true }
    const code = (fn: () => unknown) => {
      try {
        fn()
      } catch (error) {
        return (error as PrivateLinkError).code
      }
      return 'none'
    }
    expect(code(() => createRedis({ ...base, servername: '' }))).toBe('ERR_INVALID_OPTION')
    expect(code(() => createRedis({ ...base, port: 0 }))).toBe('ERR_INVALID_OPTION')
    expect(
      code(() =>
        createRedis({
          ...base,
          tls: false,
          auth: { iam: { userId: 'u', cacheName: 'c', region: 'us-west-2' } },
        }),
      ),
    ).toBe('ERR_INVALID_OPTION')
    expect(
      code(() =>
        createRedis({
          ...base,
          username: 'someone-else',
          auth: { iam: { userId: 'u', cacheName: 'c', region: 'us-west-2' } },
        }),
      ),
    ).toBe('ERR_INVALID_OPTION')
    expect(code(() => createRedis({ ...base, reauthAfterMs: 12 * 3_600_000 }))).toBe(
      'ERR_INVALID_OPTION',
    )
    // Past Node's timer limit (2^31 - 1 ms) setTimeout fires after 1 ms: refused, not shortened.
    for (const reauthCheckIntervalMs of [2 ** 31, 1.5, 0]) {
      expect(() => createRedis({ ...base, reauthCheckIntervalMs })).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_OPTION',
          details: expect.objectContaining({
            option: 'reauthCheckIntervalMs',
            expected: 'an integer from 1 to 2147483647 (milliseconds)',
          }),
        }),
      )
    }
    const longest = createRedis({ ...base, reauthCheckIntervalMs: 2_147_483_647 })
    expect(longest.status).toBe('wait')
    longest.disconnect()
    // @ts-expect-error: host is replaced by the endpoint
    expect(code(() => createRedis({ ...base, host: '10.0.0.1' }))).toBe('ERR_INVALID_OPTION')
  })
})
