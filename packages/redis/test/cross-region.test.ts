import { PrivateLinkError } from '@privatelink/core'
import { type ElastiCacheFront, elastiCacheFront, type Lab, startLab } from '@privatelink/lab'
import { createRedis, createRedisCluster } from '@privatelink/redis'
import type { Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { type FakeClusterNode, startFakeClusterNode } from './fake-cluster-node.js'

const redisUrl = inject('redisUrl')

// A consumer in us-west-2 reaching caches in us-east-1 through a cross-region endpoint: the fronts
// verify each token's SigV4 scope against the service's region, as ElastiCache does.
let lab: Lab
let front: ElastiCacheFront
let clusterFront: ElastiCacheFront
let node: FakeClusterNode
const clients: (Redis | Cluster)[] = []

const iam = () => ({
  userId: 'app-user',
  cacheName: 'lab-cache',
  credentials: lab.aws.credentials,
})

describe.skipIf(redisUrl === '')(
  'a cross-region endpoint (service in us-east-1, consumer in us-west-2)',
  () => {
    beforeAll(async () => {
      const url = new URL(redisUrl)
      node = await startFakeClusterNode({ host: 'lab-cluster-0001-001.internal', port: 7000 })
      front = elastiCacheFront({
        cacheName: 'lab-cache',
        upstream: { host: url.hostname, port: Number(url.port || 6379) },
      })
      clusterFront = elastiCacheFront({
        name: 'cluster',
        cacheName: 'lab-cache',
        clusterMode: true,
        upstream: { host: '127.0.0.1', port: node.port },
      })
      lab = await startLab({
        region: 'us-west-2',
        serviceRegion: 'us-east-1',
        fronts: [front, clusterFront],
        services: [
          { name: 'redis', port: 6379, target: { front: 'elasticache' } },
          { name: 'cluster', port: 6380, target: { front: 'cluster' } },
        ],
      })
    })
    afterEach(() => {
      for (const client of clients.splice(0)) client.disconnect()
    })
    afterAll(async () => {
      await lab?.close()
      await node?.close()
    })

    const common = () => ({
      endpoint: lab.endpoint,
      tls: { ca: lab.ca.certificatePem },
      locality: { source: 'options' as const, azId: lab.endpoint.zones[0]!.azId! },
    })

    it('the endpoint names its service region', () => {
      expect(lab.endpoint.region).toBe('us-west-2')
      expect(lab.endpoint.serviceRegion).toBe('us-east-1')
    })

    it('createRedis signs tokens for the service region by default, and the front accepts them', async () => {
      const redis = createRedis({ ...common(), servername: front.hostname, auth: { iam: iam() } })
      redis.on('error', () => {})
      clients.push(redis)
      await redis.set('privatelink:cross-region', 'east')
      expect(await redis.get('privatelink:cross-region')).toBe('east')
      expect(front.stats().authenticated).toBeGreaterThan(0)
      expect(front.stats().refused['wrong-region']).toBeUndefined()
    })

    it('createRedisCluster signs for the service region by default, discovery and node connections alike', async () => {
      const cluster = createRedisCluster({
        ...common(),
        nodes: [{ port: 6380 }],
        servername: clusterFront.hostname,
        auth: { iam: iam() },
      })
      cluster.on('error', () => {})
      clients.push(cluster)
      expect(await cluster.set('privatelink:cross-region', 'east')).toBe('OK')
      expect(clusterFront.stats().authenticated).toBeGreaterThan(0)
      expect(clusterFront.stats().refused['wrong-region']).toBeUndefined()
    })

    it('refuses the consumer region as auth.iam.region at construction, naming the service region', () => {
      for (const create of [
        () =>
          createRedis({
            ...common(),
            servername: front.hostname,
            lazyConnect: true,
            auth: { iam: { ...iam(), region: 'us-west-2' } },
          }),
        () =>
          createRedisCluster({
            ...common(),
            nodes: [{ port: 6380 }],
            servername: clusterFront.hostname,
            lazyConnect: true,
            auth: { iam: { ...iam(), region: 'us-west-2' } },
          }),
      ]) {
        const error = (() => {
          try {
            clients.push(create())
          } catch (thrown) {
            return thrown
          }
        })()
        expect(PrivateLinkError.isInstance(error)).toBe(true)
        expect(error).toMatchObject({
          code: 'ERR_INVALID_OPTION',
          details: { option: 'auth.iam.region', received: 'us-west-2' },
        })
        expect((error as PrivateLinkError).hint).toMatch(/us-east-1/)
      }
    })

    it('an explicit region for the service is used as given', async () => {
      const redis = createRedis({
        ...common(),
        servername: front.hostname,
        auth: { iam: { ...iam(), region: 'us-east-1' } },
      })
      redis.on('error', () => {})
      clients.push(redis)
      expect(await redis.ping()).toBe('PONG')
    })
  },
)
