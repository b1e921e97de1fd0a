import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createRequire } from 'node:module'
import { connect } from 'node:net'
import { PrivateLinkError } from '@privatelink/core'
import { type ElastiCacheFront, elastiCacheFront, type Lab, startLab } from '@privatelink/lab'
import { createRedisCluster, type RedisClusterOptions } from '@privatelink/redis'
import type { Cluster } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type RedisCluster, startRedisCluster } from '../../../test/support/redis-cluster.js'
import { watchDirectDials } from './direct-dials.js'

const started = await startRedisCluster()
if ('unavailable' in started && process.env['CI'] === 'true')
  throw new Error(`Redis Cluster is required under CI=true: ${started.unavailable}`)
const redisCluster = 'unavailable' in started ? undefined : (started as RedisCluster)

// The installed ioredis (CI also runs this file on ioredis 5): 6 speaks RESP3 by default, on which a
// subscribed connection takes AUTH; 5 has RESP2 only, where sharded pub/sub with IAM is refused.
const IOREDIS_VERSION: string = createRequire(import.meta.url)('ioredis/package.json').version
const RESP3 = Number(IOREDIS_VERSION.split('.')[0]) >= 6

/** createRedisCluster's refusal of shardedSubscribers with IAM on RESP2, before any dial. */
function expectShardedRefused(overrides: Partial<RedisClusterOptions>): void {
  let error: unknown
  try {
    cluster(overrides)
  } catch (caught) {
    error = caught
  }
  expect(PrivateLinkError.isInstance(error)).toBe(true)
  expect((error as PrivateLinkError).code).toBe('ERR_REDIS_SHARDED_PUBSUB_RESP2')
  expect((error as PrivateLinkError).hint).toMatch(/RESP2/)
  expect(dialled).toEqual([])
}

const LISTENERS = [6379, 6380, 6381]
// The nodes announce public-looking addresses (TEST-NET-3), as ElastiCache nodes announce VPC
// addresses the consumer cannot reach: only the listeners may ever be dialled.
const ANNOUNCED = ['203.0.113.1', '203.0.113.2', '203.0.113.3']
let lab: Lab
let fronts: ElastiCacheFront[]
// The lab's and the clients' clock: real time, moved forward by tests that simulate hours.
let offset = 0
const now = () => Date.now() + offset
const clients: Cluster[] = []
const dialled: string[] = []
let direct: ReturnType<typeof watchDirectDials>

function cluster(overrides: Partial<RedisClusterOptions> = {}): Cluster {
  const client = createRedisCluster({
    endpoint: lab.endpoint,
    nodes: LISTENERS.map((port) => ({ port })),
    servername: fronts[0]!.hostname,
    tls: { ca: lab.ca.certificatePem },
    auth: {
      iam: {
        userId: 'app-user',
        cacheName: 'lab-cluster',
        region: lab.region,
        credentials: lab.aws.credentials,
      },
    },
    locality: { source: 'options', azId: lab.endpoint.zones[0]!.azId! },
    connectorOptions: {
      dial: (target) => {
        dialled.push(target.host)
        return connect(target)
      },
    },
    ...overrides,
  })
  client.on('error', () => {})
  clients.push(client)
  return client
}

/** Resolves with the first `count` messages `event` brings. */
function messages(client: Cluster, event: string, count: number): Promise<unknown[][]> {
  const seen: unknown[][] = []
  return new Promise((resolve) => {
    const listener = (...args: unknown[]) => {
      seen.push(args)
      if (seen.length < count) return
      client.off(event, listener)
      resolve(seen)
    }
    client.on(event, listener)
  })
}

const authenticated = () => fronts.reduce((sum, front) => sum + front.stats().authenticated, 0)

describe.skipIf(redisCluster === undefined)('cluster pub/sub through the endpoint', () => {
  beforeAll(async () => {
    fronts = redisCluster!.nodes.map((node, index) =>
      elastiCacheFront({
        name: `node-${index}`,
        cacheName: 'lab-cluster',
        clusterMode: true,
        upstream: { host: '127.0.0.1', port: node.port },
      }),
    )
    lab = await startLab({
      clock: now,
      // The path forgets idle flows by this clock: not while a test moves it by hours.
      idleTimeoutMs: Number.POSITIVE_INFINITY,
      fronts,
      services: LISTENERS.map((port, index) => ({
        name: `node-${index}`,
        port,
        target: { front: `node-${index}` },
      })),
    })
    await redisCluster!.announce(ANNOUNCED)
    direct = watchDirectDials()
  })
  afterEach(() => {
    // A test that failed while the clock was hours ahead leaves the lab on real time for the next.
    offset = 0
    const made = clients.splice(0)
    for (const client of made) client.disconnect()
    const escaped = direct.escaped.splice(0)
    const hosts = dialled.splice(0)
    // Every connection went through the connector, to a zone's loopback address; ioredis never
    // opened one by itself (to an announced address, without TLS or AUTH).
    expect(escaped).toEqual([])
    if (made.length > 0) expect(hosts.length).toBeGreaterThan(0)
    expect(hosts.filter((host) => !host.startsWith('127.'))).toEqual([])
  })
  afterAll(async () => {
    direct?.stop()
    await lab?.close()
    await redisCluster?.close()
  })

  it('SUBSCRIBE and PSUBSCRIBE: the subscriber connection comes through a listener with TLS and IAM, and messages arrive', async () => {
    const client = cluster()
    await client.set('privatelink:pubsub:warm', '1')
    const before = authenticated()
    const received = messages(client, 'message', 2)
    const patterned = messages(client, 'pmessage', 2)
    expect(await client.subscribe('privatelink:news')).toBe(1)
    expect(await client.psubscribe('privatelink:alerts:*')).toBe(2)
    await client.publish('privatelink:news', 'one')
    await client.publish('privatelink:alerts:disk', 'full')
    await client.publish('privatelink:news', 'two')
    await client.publish('privatelink:alerts:cpu', 'hot')
    // A cluster PUBLISH goes to any node and reaches the subscriber's node over the cluster bus:
    // two publishes through different nodes may arrive in either order.
    const sorted = (list: unknown[][]) =>
      [...list].sort((a, b) => String(a).localeCompare(String(b)))
    expect(sorted(await received)).toEqual([
      ['privatelink:news', 'one'],
      ['privatelink:news', 'two'],
    ])
    expect(sorted((await patterned).map((args) => args.slice(1)))).toEqual([
      ['privatelink:alerts:cpu', 'hot'],
      ['privatelink:alerts:disk', 'full'],
    ])
    // The subscriber authenticated with an IAM token at a front, like every node connection.
    expect(authenticated()).toBeGreaterThan(before)
  })

  it('a subscriber connection that drops is replaced through the endpoint and resubscribes', async () => {
    const client = cluster()
    const first = messages(client, 'message', 1)
    await client.subscribe('privatelink:resubscribe')
    await client.publish('privatelink:resubscribe', 'before')
    await first
    const subscriber = (
      client as unknown as { subscriber: { getInstance(): { stream: { destroy(): void } } } }
    ).subscriber.getInstance()
    const again = messages(client, 'message', 1)
    subscriber.stream.destroy()
    // Published until the new subscriber has resubscribed (a message before that is not delivered).
    let delivered = false
    void again.then(() => {
      delivered = true
    })
    while (!delivered) {
      await client.publish('privatelink:resubscribe', 'after')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(await again).toEqual([['privatelink:resubscribe', 'after']])
  })

  it('sharded pub/sub (shardedSubscribers): SSUBSCRIBE on each shard through its listener, messages arrive', async () => {
    if (!RESP3) return expectShardedRefused({ shardedSubscribers: true })
    const client = cluster({ shardedSubscribers: true })
    await client.set('privatelink:pubsub:warm', '1')
    const channels = ['{a}privatelink:s', '{b}privatelink:s', '{c}privatelink:s']
    const received = messages(client, 'smessage', channels.length)
    for (const channel of channels) await client.ssubscribe(channel)
    for (const channel of channels) await client.spublish(channel, `to ${channel}`)
    expect((await received).map((args) => args.slice(0, 2).join(' ')).sort()).toEqual(
      channels.map((channel) => `${channel} to ${channel}`).sort(),
    )
  })

  // ioredis hands its sharded subscriber connections to nobody; they were never re-authenticated,
  // so ElastiCache dropped them at 12 hours (attack round 3, finding 5).
  it('sharded subscriber connections re-AUTH before 12 hours (injected clock) and keep receiving', async () => {
    const options = { shardedSubscribers: true, clock: now, reauthCheckIntervalMs: 20 }
    // ioredis 5 (RESP2): a subscribed connection takes no AUTH; it used to time out here.
    if (!RESP3) return expectShardedRefused(options)
    const client = cluster(options)
    await client.set('privatelink:pubsub:warm', '1')
    const channels = ['{a}privatelink:reauth', '{b}privatelink:reauth', '{c}privatelink:reauth']
    const first = messages(client, 'smessage', channels.length)
    for (const channel of channels) await client.ssubscribe(channel)
    for (const channel of channels) await client.spublish(channel, 'before')
    await first
    const stats = () => {
      const all = fronts.map((front) => front.stats())
      const sum = (key: 'connections' | 'expired' | 'reauthenticated') =>
        all.reduce((total, one) => total + one[key], 0)
      return {
        connections: sum('connections'),
        expired: sum('expired'),
        reauthenticated: sum('reauthenticated'),
      }
    }
    const before = stats()
    // One re-AUTH per open connection: each node connection, and a sharded subscriber per shard.
    const expected = client.nodes('all').filter((node) => node.status === 'ready').length + 3
    let seen = 0
    const reauthed = new Promise<void>((resolve) => {
      const listener = (message: unknown) => {
        const event = message as { reauth?: boolean; ok?: boolean }
        if (event.reauth !== true || event.ok !== true || ++seen < expected) return
        unsubscribe('privatelink:redis:auth', listener)
        resolve()
      }
      subscribe('privatelink:redis:auth', listener)
    })
    try {
      offset = 11 * 3_600_000 + 1_000
      await reauthed
      expect(stats().reauthenticated - before.reauthenticated).toBe(expected)
      offset = 12 * 3_600_000 + 60_000
      // Nothing is past 12 hours without AUTH: ElastiCache drops no connection.
      expect(fronts.reduce((total, front) => total + front.sweep(), 0)).toBe(0)
      const after = messages(client, 'smessage', channels.length)
      for (const channel of channels) await client.spublish(channel, 'after')
      expect((await after).map((args) => args.slice(0, 2).join(' ')).sort()).toEqual(
        channels.map((channel) => `${channel} after`).sort(),
      )
      // The same connections: none expired, none opened again.
      expect(stats()).toMatchObject({
        connections: before.connections,
        expired: before.expired,
      })
    } finally {
      offset = 0
    }
  })

  it('shardedSubscribers with IAM on RESP2 (protocol: 2) is refused at creation, before any dial', () => {
    // ioredis 5 has no protocol option and speaks RESP2 whatever this says.
    expectShardedRefused({
      shardedSubscribers: true,
      redisOptions: { protocol: 2 } as RedisClusterOptions['redisOptions'],
    })
  })

  it('SSUBSCRIBE without shardedSubscribers is refused at the call with ERR_REDIS_SHARDED_PUBSUB_OFF', async () => {
    const client = cluster()
    await client.set('privatelink:pubsub:warm', '1')
    const error = await client.ssubscribe('{a}privatelink:s').catch((e: unknown) => e)
    expect(PrivateLinkError.isInstance(error)).toBe(true)
    expect((error as PrivateLinkError).code).toBe('ERR_REDIS_SHARDED_PUBSUB_OFF')
    expect((error as PrivateLinkError).hint).toMatch(/shardedSubscribers: true/)
  })

  it('a duplicate() keeps pub/sub on the endpoint', async () => {
    const client = cluster()
    await client.set('privatelink:pubsub:warm', '1')
    const copy = client.duplicate()
    clients.push(copy)
    copy.on('error', () => {})
    const received = messages(copy, 'message', 1)
    await copy.subscribe('privatelink:duplicate')
    await client.publish('privatelink:duplicate', 'hello')
    expect(await received).toEqual([['privatelink:duplicate', 'hello']])
  })
})
