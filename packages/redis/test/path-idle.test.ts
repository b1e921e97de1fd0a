import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { type Lab, startLab } from '@privatelink/lab'
import { type CreateRedisOptions, createRedis } from '@privatelink/redis'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { ready, type StandaloneLab, startStandaloneLab } from './setup.js'

// The path's idle timeout (350 s on AWS; seconds in the lab) and duplicate() (issue 35):
// BullMQ's blocking connection and subscribers are duplicates, and live as long as the parent.
const redisUrl = inject('redisUrl')
const PATH_IDLE_MS = 5_000

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
    connectorOptions: { healthCheck: { intervalMs: 0 }, clock: () => clock.now },
    maxRetriesPerRequest: null,
    ...overrides,
  })
  redis.on('error', () => {})
  clients.push(redis)
  return redis
}

const zoneA = () => env.lab.endpoint.zones[0]!.azName
const stats = () => env.lab.zone(zoneA()).stats()['redis']!

/** Resolves with the next re-AUTH each of `count` connections reports. */
function reauths(count: number): Promise<Record<string, unknown>[]> {
  const seen: Record<string, unknown>[] = []
  return new Promise((resolve) => {
    const listener = (message: unknown) => {
      const event = message as Record<string, unknown>
      if (event['reauth'] !== true) return
      seen.push(event)
      if (seen.length < count) return
      unsubscribe('privatelink:redis:auth', listener)
      resolve(seen)
    }
    subscribe('privatelink:redis:auth', listener)
  })
}

describe.skipIf(redisUrl === '')('createRedis and the path', () => {
  beforeAll(async () => {
    env = await startStandaloneLab(redisUrl)
  })
  afterEach(async () => {
    for (const redis of clients.splice(0)) redis.disconnect()
    env.lab.zone(zoneA()).setIdleTimeout({ idleTimeoutMs: 350_000, idleTimeoutMode: 'reset' })
  })
  afterAll(() => env?.close())

  describe('duplicate()', () => {
    it('routes through the connector, authenticates with IAM and re-AUTHs before the 12-hour cut', async () => {
      const parent = client({ reauthCheckIntervalMs: 20 })
      await parent.set('privatelink:redis:dup', 'parent')
      const acceptedBefore = stats().accepted
      const authenticatedBefore = env.front.stats().authenticated
      const duplicate = parent.duplicate()
      clients.push(duplicate)
      duplicate.on('error', () => {})
      expect(await duplicate.get('privatelink:redis:dup')).toBe('parent')
      // Its own connection: through the lab's ENI in the own zone, IAM-authenticated at the front.
      expect(stats().accepted).toBe(acceptedBefore + 1)
      expect(env.front.stats().authenticated).toBe(authenticatedBefore + 1)
      const expiredBefore = env.front.stats().expired
      const start = env.clock.now
      try {
        const both = reauths(2)
        env.clock.now = start + 11 * 3_600_000 + 1_000
        expect(await both).toHaveLength(2)
        // Past the cut of the first AUTH: ElastiCache keeps both, the duplicate included.
        env.clock.now = start + 12 * 3_600_000 + 60_000
        expect(env.front.sweep()).toBe(0)
        expect(env.front.stats().expired).toBe(expiredBefore)
        expect(await duplicate.get('privatelink:redis:dup')).toBe('parent')
        expect(await parent.get('privatelink:redis:dup')).toBe('parent')
      } finally {
        env.clock.now = start
      }
    })

    it('outlives its parent: the connector they share closes with the last of them', async () => {
      const parent = client()
      await ready(parent)
      const duplicate = parent.duplicate({ connectionName: 'worker' })
      clients.push(duplicate)
      duplicate.on('error', () => {})
      await ready(duplicate)
      await parent.quit()
      await duplicate.set('privatelink:redis:dup:after', 'alive')
      // A reconnect after the parent ended still goes through the (still open) connector.
      duplicate.disconnect(true)
      expect(await duplicate.get('privatelink:redis:dup:after')).toBe('alive')
    })

    it('refuses an override that would bypass the endpoint or the auth', () => {
      const parent = client({ lazyConnect: true })
      for (const override of [{ host: '10.0.0.1' }, { port: 6380 }, { password: 'x' }])
        expect(() => parent.duplicate(override)).toThrow(
          expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
        )
    })
  })

  it("refuses an ioredis keepAlive at or above the path's idle timeout, with a hint", () => {
    let thrown: unknown
    try {
      client({ lazyConnect: true, keepAlive: 400_000 })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      details: { option: 'keepAlive', received: '400000' },
    })
    expect((thrown as { hint: string }).hint).toMatch(/forgets a connection idle for 350 s/)
    expect(() => client({ lazyConnect: true, keepAlive: 30_000 })).not.toThrow()
  })

  it.each(['reset', 'drop'] as const)(
    "keep-alive off, idle past the path's timeout (lab mode '%s'): no failed command, the connection is replaced",
    async (mode) => {
      env.lab.zone(zoneA()).setIdleTimeout({ idleTimeoutMs: PATH_IDLE_MS, idleTimeoutMode: mode })
      const redis = client({
        connectorOptions: {
          healthCheck: { intervalMs: 0 },
          clock: () => env.clock.now,
          keepAlive: false,
          pathIdleTimeoutMs: PATH_IDLE_MS,
        },
      })
      await redis.set('privatelink:redis:idle', mode)
      const seen: unknown[] = []
      const listener = (message: unknown) => seen.push(message)
      subscribe('privatelink:connector:path-idle', listener)
      const start = env.clock.now
      try {
        const forgotten = stats().flowsForgotten
        env.clock.now += PATH_IDLE_MS + 1_000
        await env.lab.zone(zoneA()).sweepIdle()
        expect(stats().flowsForgotten).toBeGreaterThan(forgotten)
        expect(await redis.get('privatelink:redis:idle')).toBe(mode)
        expect(await redis.incr('privatelink:redis:idle:n')).toBeGreaterThan(0)
        expect(seen).toEqual([expect.objectContaining({ at: 'use' })])
      } finally {
        unsubscribe('privatelink:connector:path-idle', listener)
        env.clock.now = start
      }
    },
  )
})

describe.skipIf(redisUrl === '')(
  "createRedis idle past the path's timeout with default options (real seconds: the kernel's keep-alive)",
  () => {
    let lab: Lab
    beforeAll(async () => {
      const url = new URL(redisUrl)
      lab = await startLab({
        idleTimeoutMs: 3_000,
        services: [
          {
            name: 'redis',
            port: 6379,
            target: { host: url.hostname, port: Number(url.port || 6379) },
          },
        ],
      })
    })
    afterAll(() => lab?.close())

    it('no failed command, and the path forgot nothing', async () => {
      const redis = createRedis({
        endpoint: lab.endpoint,
        tls: false,
        locality: { source: 'options', azId: lab.endpoint.zones[0]!.azId! },
        // The lab's path forgets after 3 s: the connector is told, so keep-alive probes after 1 s.
        connectorOptions: { healthCheck: { intervalMs: 0 }, pathIdleTimeoutMs: 3_000 },
      })
      redis.on('error', () => {})
      const zone = () => lab.zone(lab.endpoint.zones[0]!.azName).stats()['redis']!
      try {
        await redis.set('privatelink:redis:kept', 'yes')
        const before = zone()
        // Sampled by explicit sweeps: the lab's own timer is not armed by a zone's first flow.
        const deadline = performance.now() + 15_000
        while (zone().keepAliveSeen < before.keepAliveSeen + 4 && performance.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 300))
          await lab.zone(lab.endpoint.zones[0]!.azName).sweepIdle()
        }
        expect(zone().keepAliveSeen).toBeGreaterThanOrEqual(before.keepAliveSeen + 4)
        expect(await redis.get('privatelink:redis:kept')).toBe('yes')
        expect(zone().flowsForgotten).toBe(before.flowsForgotten)
      } finally {
        redis.disconnect()
      }
    })
  },
)
