import { PrivateLinkError } from '@privatelink/core'
import { type ElastiCacheFront, elastiCacheFront, type Lab, startLab } from '@privatelink/lab'
import { createRedisCluster, type RedisClusterOptions } from '@privatelink/redis'
import type { Cluster } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { type RedisCluster, startRedisCluster } from '../../../test/support/redis-cluster.js'
import { counters, load, until } from './setup.js'

const started = await startRedisCluster()
if ('unavailable' in started) {
  if (process.env['CI'] === 'true')
    throw new Error(`Redis Cluster is required under CI=true: ${started.unavailable}`)
  console.warn(
    `\n  ┌──────────────────────────────────────────────────────────────\n  │ Redis Cluster not available: ${started.unavailable}\n  │ Redis Cluster tests will be SKIPPED.\n  └──────────────────────────────────────────────────────────────\n`,
  )
}
const redisCluster = 'unavailable' in started ? undefined : (started as RedisCluster)

const LISTENERS = [6379, 6380, 6381]
let lab: Lab
let fronts: ElastiCacheFront[]
const clients: Cluster[] = []

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
    ...overrides,
  })
  client.on('error', () => {})
  clients.push(client)
  return client
}

/** MOVED / ASK replies the nodes have sent, from INFO errorstats. */
async function redirections(): Promise<{ moved: number; ask: number }> {
  let moved = 0
  let ask = 0
  for (const index of redisCluster!.nodes.keys()) {
    const info = String(await redisCluster!.command(index, 'INFO', 'errorstats'))
    moved += Number(/errorstat_MOVED:count=(\d+)/.exec(info)?.[1] ?? 0)
    ask += Number(/errorstat_ASK:count=(\d+)/.exec(info)?.[1] ?? 0)
  }
  return { moved, ask }
}

describe.skipIf(redisCluster === undefined)(
  'createRedisCluster behind one NLB listener per node',
  () => {
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
        fronts,
        services: LISTENERS.map((port, index) => ({
          name: `node-${index}`,
          port,
          target: { front: `node-${index}` },
        })),
      })
      // The nodes announce names under the cache's certificate, which resolve nowhere here.
      await redisCluster!.announce(fronts.map((_, index) => fronts[0]!.nodeName(index + 1)))
    })
    afterEach(async () => {
      vi.useRealTimers()
      for (const client of clients.splice(0)) client.disconnect()
      for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).restore()
    })
    afterAll(async () => {
      await lab?.close()
      await redisCluster?.close()
    })

    it('spreads keys over all three nodes through their listeners, authenticated with IAM', async () => {
      const client = cluster()
      for (let n = 0; n < 300; n++) await client.set(`privatelink:cluster:spread:${n}`, String(n))
      for (let n = 0; n < 300; n += 37)
        expect(await client.get(`privatelink:cluster:spread:${n}`)).toBe(String(n))
      for (const index of redisCluster!.nodes.keys()) {
        const keys = (await redisCluster!.command(
          index,
          'KEYS',
          'privatelink:cluster:spread:*',
        )) as string[]
        expect(keys.length).toBeGreaterThan(50)
        const zone = lab.endpoint.zones[0]!.azName
        expect(lab.zone(zone).stats()[`node-${index}`]!.bytesIn).toBeGreaterThan(0)
      }
      // ioredis knows the nodes by the names they announce; the names are never resolved or dialled.
      const keys = client.nodes('master').map((node) => `${node.options.host}:${node.options.port}`)
      expect(keys.sort()).toEqual(
        redisCluster!.nodes
          .map((node, index) => `${fronts[0]!.nodeName(index + 1)}:${node.port}`)
          .sort(),
      )
      for (const front of fronts) expect(front.stats().authenticated).toBeGreaterThan(0)
    })

    it('follows a slot migrated under load without "Too many Cluster redirections" or a redirection storm', async () => {
      const client = cluster()
      const probe = 'privatelink:cluster:{migrate}'
      const slot = Number(await redisCluster!.command(0, 'CLUSTER', 'KEYSLOT', probe))
      const from = await redisCluster!.ownerOf(slot)
      const to = (from + 1) % 3
      const traffic = load(client, 8, 'privatelink:cluster:{migrate}')
      await until(() => traffic.stats().completed >= 50)
      const before = await redirections()
      traffic.markFault()
      const migrated = await redisCluster!.migrateSlot(slot, to)
      const afterMigration = traffic.stats().completedAfterFault
      await until(() => traffic.stats().completedAfterFault >= afterMigration + 200)
      await traffic.stop()
      const after = await redirections()
      expect(migrated.keys).toBeGreaterThan(0)
      expect(await redisCluster!.ownerOf(slot)).toBe(to)
      expect(traffic.failures).toEqual([])
      // Each of the 8 workers meets at most a MOVED or two before the pool knows the new owner;
      // ioredis with natMap would keep retrying random nodes until its next slot refresh.
      // The migration was seen (ASK while importing, MOVED after), and followed.
      expect(after.moved - before.moved + (after.ask - before.ask)).toBeGreaterThan(0)
      expect(after.moved - before.moved).toBeLessThanOrEqual(16)
      expect(await client.get(`${probe}:0:1`)).not.toBeNull()
    })

    // ioredis gives node connections no retryStrategy: a drained one ends, and the Cluster sends
    // the commands that waited in its queue (never written) again through a new one. With ioredis
    // 6's clusterNodeRetryStrategy a node connection reconnects by itself, as createRedis's does.
    it.each([
      { nodes: 'end and are replaced', options: {}, replaced: true },
      {
        nodes: 'reconnect (clusterNodeRetryStrategy)',
        options: { clusterNodeRetryStrategy: () => 50 } as Partial<RedisClusterOptions>,
        replaced: false,
      },
    ])(
      'node connections return to the own zone once it is readmitted, under constant load: they drain and $nodes; 0 failed commands, none run twice',
      async ({ options, replaced }) => {
        // Health checks run on setInterval: each poll below fires one round (real I/O). Ejections
        // run on the connector's clock, so one ends when the test moves that clock.
        vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
        let now = Date.now()
        const client = cluster({
          connectorOptions: { clock: () => now, healthCheck: { timeoutMs: 300 } },
          ...options,
        })
        const own = lab.zone(lab.endpoint.zones[0]!.azName)
        const activeElsewhere = () =>
          lab.endpoint.zones
            .slice(1)
            .flatMap((zone) => Object.values(lab.zone(zone.azName).stats()))
            .reduce((sum, listener) => sum + listener.active, 0)
        const connected = () => client.nodes('all').filter((node) => node.status === 'ready')
        const inOwnZone = (node: { stream: { remoteAddress?: string } }) =>
          node.stream.remoteAddress === own.address
        const traffic = counters(client, 8, 'privatelink:cluster:readmit')
        try {
          await vi.waitFor(() => expect(traffic.stats().completed).toBeGreaterThanOrEqual(50))
          expect(connected().every(inOwnZone)).toBe(true)
          await own.fail('blackhole')
          const atFault = traffic.stats().completed
          // Two failed health checks in a row eject the own zone: its sockets are closed and the
          // node connections come back in other zones.
          await vi.waitFor(
            () => {
              vi.advanceTimersByTime(2_000)
              expect(connected().length).toBeGreaterThan(0)
              expect(connected().some(inOwnZone)).toBe(false)
              expect(traffic.stats().completed).toBeGreaterThanOrEqual(atFault + 200)
            },
            { timeout: 15_000, interval: 50 },
          )

          // The zone comes back: its ejection runs out (at most ejection.maxMs, 60 s on the
          // connector's clock) and the next health check readmits it. The loops never pause: the
          // node connections elsewhere drain. From here every INCR must succeed and run once.
          await own.restore()
          now += 60_000
          let removed = 0
          client.on('-node', () => removed++)
          traffic.check()
          await vi.waitFor(
            () => {
              vi.advanceTimersByTime(2_000)
              expect(connected().length).toBeGreaterThan(0)
              expect(connected().every(inOwnZone)).toBe(true)
            },
            { timeout: 15_000, interval: 50 },
          )
          // They stay there while the loops keep running, and nothing is left in the other zones.
          const checked = traffic.stats().checked
          await vi.waitFor(() =>
            expect(traffic.stats().checked).toBeGreaterThanOrEqual(checked + 200),
          )
          expect(connected().every(inOwnZone)).toBe(true)
          await vi.waitFor(() => expect(activeElsewhere()).toBe(0))
          await traffic.stop()
          expect(traffic.failures).toEqual([])
          expect(removed > 0).toBe(replaced)
        } finally {
          const stopping = traffic.stop()
          client.disconnect()
          await stopping
        }
      },
    )

    it('maps announced names with an explicit natMap and keeps working', async () => {
      const natMap = Object.fromEntries(
        redisCluster!.nodes.map((node, index) => [
          `${fronts[0]!.nodeName(index + 1)}:${node.port}`,
          { port: LISTENERS[index]! },
        ]),
      )
      const client = cluster({ natMap })
      await client.set('privatelink:cluster:natmap', 'yes')
      expect(await client.get('privatelink:cluster:natmap')).toBe('yes')
    })

    it('names an announced node no listener leads to with ERR_REDIS_UNMAPPED_NODE', async () => {
      const client = cluster({
        nodes: [{ port: LISTENERS[0]! }],
        natMap: () => undefined,
        clusterRetryStrategy: () => null,
      })
      const errors: unknown[] = []
      client.on('node error', (error: unknown) => errors.push(error))
      await client.set('privatelink:cluster:anywhere:1', '1').catch(() => {})
      await client.set('privatelink:cluster:anywhere:2', '1').catch(() => {})
      await client.set('privatelink:cluster:anywhere:3', '1').catch(() => {})
      await until(() =>
        errors.some((e) => PrivateLinkError.isInstance(e) && e.code === 'ERR_REDIS_UNMAPPED_NODE'),
      )
      const unmapped = errors.find(
        (e) => PrivateLinkError.isInstance(e) && e.code === 'ERR_REDIS_UNMAPPED_NODE',
      ) as PrivateLinkError
      expect(unmapped.message).toMatch(/lab-cluster-000[23]-001/)
    })

    it('validates nodes and natMap', () => {
      expect(() => cluster({ nodes: [] })).toThrow(/nodes/)
      expect(() => cluster({ natMap: { 'no-port': { port: 1 } } })).toThrow(/natMap/)
      expect(() => cluster({ natMap: { 'h:1': { port: 0 } } })).toThrow(/natMap/)
    })
  },
)
