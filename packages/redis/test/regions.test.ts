import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createConnector, PrivateLinkError } from '@privatelink/core'
import { type ElastiCacheFront, elastiCacheFront, type Lab, startLab } from '@privatelink/lab'
import {
  type CreateRedisOptions,
  createRedis,
  createRedisCluster,
  type RedisFailoverTarget,
} from '@privatelink/redis'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { load } from './setup.js'

// The seed's multi-region scenario for a cache: a primary ElastiCache in us-west-2 and a secondary
// in us-east-1 (a Global Datastore's, with its own replication group ID), each behind its own
// endpoint and its own lab (own zones, own keys), both relaying to the test redis-server.
const redisUrl = inject('redisUrl')

interface Region {
  lab: Lab
  front: ElastiCacheFront
}
let primary: Region
let secondary: Region
let now = Date.now()
const clients: Redis[] = []

const region = async (name: string, cacheName: string): Promise<Region> => {
  const url = new URL(redisUrl)
  const front = elastiCacheFront({
    cacheName,
    upstream: { host: url.hostname, port: Number(url.port || 6379) },
  })
  const lab = await startLab({
    region: name,
    clock: () => now,
    fronts: [front],
    services: [{ name: 'redis', port: 6379, target: { front: 'elasticache' } }],
  })
  return { lab, front }
}

const secondaryTarget = (overrides: Partial<RedisFailoverTarget> = {}): RedisFailoverTarget => ({
  endpoint: secondary.lab.endpoint,
  servername: secondary.front.hostname,
  cacheName: 'lab-cache-east',
  credentials: secondary.lab.aws.credentials,
  ...overrides,
})

const options = (overrides: Partial<CreateRedisOptions> = {}): CreateRedisOptions => ({
  endpoint: primary.lab.endpoint,
  servername: primary.front.hostname,
  tls: { ca: [primary.lab.ca.certificatePem, secondary.lab.ca.certificatePem] },
  auth: {
    iam: {
      userId: 'app-user',
      cacheName: 'lab-cache',
      region: primary.lab.region,
      credentials: primary.lab.aws.credentials,
    },
  },
  failover: [secondaryTarget()],
  locality: { source: 'options', azId: primary.lab.endpoint.zones[0]!.azId! },
  clock: () => now,
  connectorOptions: { clock: () => now, healthCheck: { timeoutMs: 300 } },
  maxRetriesPerRequest: null,
  ...overrides,
})

function client(overrides: Partial<CreateRedisOptions> = {}): Redis {
  const redis = createRedis(options(overrides))
  redis.on('error', () => {})
  clients.push(redis)
  return redis
}

/** Messages published on a diagnostics channel while the returned list is in use. */
function record(name: string): { messages: Record<string, unknown>[]; stop(): void } {
  const messages: Record<string, unknown>[] = []
  const listener = (message: unknown) => messages.push(message as Record<string, unknown>)
  subscribe(name, listener)
  return { messages, stop: () => unsubscribe(name, listener) }
}

const authenticated = () => ({
  primary: primary.front.stats().authenticated,
  secondary: secondary.front.stats().authenticated,
})

const code = (fn: () => unknown): unknown => {
  try {
    fn()
  } catch (error) {
    return PrivateLinkError.isInstance(error) ? error : String(error)
  }
  return 'none'
}

describe.skipIf(redisUrl === '')('createRedis with failover targets', () => {
  beforeAll(async () => {
    ;[primary, secondary] = await Promise.all([
      region('us-west-2', 'lab-cache'),
      region('us-east-1', 'lab-cache-east'),
    ])
  })
  afterEach(async () => {
    vi.useRealTimers()
    for (const redis of clients.splice(0)) redis.disconnect()
    for (const zone of primary.lab.endpoint.zones) await primary.lab.zone(zone.azName).restore()
  })
  afterAll(async () => {
    await Promise.all([primary?.lab.close(), secondary?.lab.close()])
  })

  it('uses the primary region, own zone first, while it is healthy', async () => {
    const before = authenticated()
    const auths = record('privatelink:redis:auth')
    try {
      const redis = client()
      await redis.set('privatelink:redis:regions:healthy', 'west')
      expect(await redis.get('privatelink:redis:regions:healthy')).toBe('west')
      expect(auths.messages).toEqual([
        { user: 'app-user', zone: 'usw2-az1', target: 'us-west-2', reauth: false, ok: true },
      ])
    } finally {
      auths.stop()
    }
    expect(authenticated()).toEqual({ primary: before.primary + 1, secondary: before.secondary })
  })

  it('a whole region blackholed under load: 0 failed commands, the secondary authenticated with tokens for its own cache and region, and traffic returns after restore', async () => {
    // Health checks run on setInterval: each poll below fires it once; the checks are real I/O.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const tokens = record('privatelink:redis:token-refreshed')
    const auths = record('privatelink:redis:auth')
    const failover = record('privatelink:connector:region-failover')
    const back = record('privatelink:connector:region-return')
    const redis = client()
    const traffic = load(redis, 4, 'privatelink:redis:regions:failover')
    try {
      // Every command from here on counts, those in flight when the region goes dark included.
      traffic.markFault()
      await vi.waitFor(() => expect(traffic.stats().completed).toBeGreaterThanOrEqual(20))
      const beforeFault = authenticated()
      for (const zone of primary.lab.endpoint.zones)
        await primary.lab.zone(zone.azName).fail('blackhole')
      const atFault = traffic.stats().completed
      // Two failed health checks in a row eject every us-west-2 zone; its connection is closed
      // and ioredis resends the unanswered commands through us-east-1.
      await vi.waitFor(
        () => {
          vi.advanceTimersByTime(2_000)
          expect(failover.messages).toHaveLength(1)
          expect(traffic.stats().completed).toBeGreaterThanOrEqual(atFault + 200)
        },
        { timeout: 15_000, interval: 50 },
      )
      expect(failover.messages[0]).toMatchObject({
        type: 'failover',
        from: 'us-west-2',
        to: 'us-east-1',
      })
      expect(traffic.failures).toEqual([])
      // The dark region saw nothing; the secondary accepted its own tokens (the front verifies
      // the cache name, the region and the signature with us-east-1's keys, and refused none).
      expect(authenticated().primary).toBe(beforeFault.primary)
      expect(authenticated().secondary).toBeGreaterThan(beforeFault.secondary)
      expect(secondary.front.stats().refused).toEqual({})
      expect(tokens.messages).toContainEqual(
        expect.objectContaining({ cacheName: 'lab-cache-east', region: 'us-east-1' }),
      )
      expect(auths.messages.at(-1)).toMatchObject({ target: 'us-east-1', ok: true })
      expect(JSON.stringify([tokens.messages, auths.messages])).not.toMatch(/X-Amz|Signature/)

      // The region comes back: once its ejections ran out (lab and connector clock) and a zone
      // passed two health checks in a row, traffic returns. The us-east-1 connection drains (no
      // command is cut off) and ioredis reconnects in us-west-2, still under load.
      for (const zone of primary.lab.endpoint.zones) await primary.lab.zone(zone.azName).restore()
      now += 120_000
      const atRestore = authenticated()
      await vi.waitFor(
        () => {
          vi.advanceTimersByTime(2_000)
          expect(back.messages).toHaveLength(1)
          expect(authenticated().primary).toBeGreaterThan(atRestore.primary)
        },
        { timeout: 15_000, interval: 50 },
      )
      expect(back.messages[0]).toMatchObject({ type: 'return', from: 'us-east-1', to: 'us-west-2' })
      expect(auths.messages.at(-1)).toMatchObject({ target: 'us-west-2', ok: true })
      const afterReturn = authenticated()
      const completedAtReturn = traffic.stats().completed
      await vi.waitFor(() =>
        expect(traffic.stats().completed).toBeGreaterThanOrEqual(completedAtReturn + 200),
      )
      await traffic.stop()
      expect(traffic.failures).toEqual([])
      expect(authenticated()).toEqual(afterReturn)
      expect(primary.front.stats().refused).toEqual({})
    } finally {
      // After a failed assertion commands may still wait for a connection: end them with the client.
      const stopping = traffic.stop()
      redis.disconnect()
      await stopping
      for (const recorded of [tokens, auths, failover, back]) recorded.stop()
    }
  })

  it("a secondary without its own cacheName gets tokens for the primary's cache, which it refuses", async () => {
    for (const zone of primary.lab.endpoint.zones)
      await primary.lab.zone(zone.azName).fail('blackhole')
    const refused = secondary.front.stats().refused['wrong-host'] ?? 0
    const { cacheName: _, ...withoutCacheName } = secondaryTarget()
    const redis = client({ failover: [withoutCacheName] })
    const error = (await redis.get('k').catch((e: unknown) => e)) as PrivateLinkError
    expect(error.code).toBe('ERR_REDIS_IAM_AUTH_FAILED')
    expect(error.details).toMatchObject({ cacheName: 'lab-cache' })
    expect(secondary.front.stats().refused['wrong-host']).toBeGreaterThan(refused)
    expect(JSON.stringify(error)).not.toMatch(/X-Amz|Signature/)
  })

  it('validates every failover entry at construction, naming it, never echoing a secret', () => {
    const base = { ...options(), lazyConnect: true }
    const invalid = (overrides: Record<string, unknown>, option: string) => {
      const error = code(() => createRedis({ ...base, ...overrides } as CreateRedisOptions))
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', details: { option } })
      return error as PrivateLinkError
    }
    invalid({ failover: [] }, 'failover')
    invalid({ failover: 'us-east-1' }, 'failover')
    invalid({ failover: [null] }, 'failover[0]')
    invalid({ failover: [secondaryTarget({ endpoint: {} as never })] }, 'failover[0].endpoint')
    invalid({ failover: [secondaryTarget({ servername: undefined })] }, 'failover[0].servername')
    invalid({ failover: [secondaryTarget({ servername: '' })] }, 'failover[0].servername')
    invalid({ failover: [secondaryTarget({ region: 'east' })] }, 'failover[0].region')
    invalid(
      {
        failover: [
          secondaryTarget({ cacheName: 'master.lab-cache-east.use1.cache.amazonaws.com' }),
        ],
      },
      'failover[0].cacheName',
    )
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
    const credentials = invalid(
      { failover: [secondaryTarget({ credentials: { secretAccessKey: secret } as never })] },
      'failover[0].credentials',
    )
    expect(JSON.stringify(credentials)).not.toContain(secret)
    const unknown = invalid(
      { failover: [{ ...secondaryTarget(), password: 'hunter2-secret' }] },
      'failover[0].password',
    )
    expect(JSON.stringify(unknown)).not.toContain('hunter2')
    // Only IAM tokens are signed per target: a cache name with a password is a mistake.
    invalid(
      { auth: { password: 'hunter2-secret' }, username: 'app', failover: [secondaryTarget()] },
      'failover[0].cacheName',
    )
    const oneRegion = createConnector({
      endpoint: primary.lab.endpoint,
      port: 6379,
      locality: null,
    })
    // A connector over several targets needs the per-target names and tokens only failover knows.
    const twoRegions = createConnector({
      endpoint: [{ endpoint: primary.lab.endpoint }, { endpoint: secondary.lab.endpoint }],
      port: 6379,
      locality: null,
    })
    try {
      invalid({ connector: oneRegion }, 'connector')
      invalid({ failover: undefined, connector: twoRegions }, 'connector')
    } finally {
      oneRegion.close()
      twoRegions.close()
    }
  })

  it('createRedisCluster refuses failover with a hint saying why', () => {
    const error = code(() =>
      createRedisCluster({
        endpoint: primary.lab.endpoint,
        nodes: [{ port: 6379 }],
        servername: primary.front.hostname,
        failover: [secondaryTarget()] as never,
        lazyConnect: true,
      }),
    ) as PrivateLinkError
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', details: { option: 'failover' } })
    expect(error.hint).toMatch(/slot map/)
  })
})
