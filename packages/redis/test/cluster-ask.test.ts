import { connect } from 'node:net'
import { PrivateLinkError } from '@privatelink/core'
import { type Lab, startLab } from '@privatelink/lab'
import { createRedisCluster } from '@privatelink/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeClusterNode, startFakeClusterNode } from './fake-cluster-node.js'

// A node that owns every slot but sends each GET elsewhere: -ASK (and -MOVED for GETDEL) to an
// address the cluster never announced, so no listener leads there.
const ANNOUNCED = { host: 'node-a.cache.internal', port: 7000 }
const ELSEWHERE = '203.0.113.9:6379'
let lab: Lab
let node: FakeClusterNode

beforeAll(async () => {
  node = await startFakeClusterNode(ANNOUNCED, ([name]) => {
    if (name?.toUpperCase() === 'GET') return `-ASK 1234 ${ELSEWHERE}\r\n`
    if (name?.toUpperCase() === 'GETDEL') return `-MOVED 1234 ${ELSEWHERE}\r\n`
    return undefined
  })
  lab = await startLab({
    services: [{ name: 'node', port: 6379, target: { host: '127.0.0.1', port: node.port } }],
  })
})
afterAll(async () => {
  await lab?.close()
  await node?.close()
})

/** A cluster through the lab whose dials are recorded; `unhandled` collects unhandled rejections. */
function clusterThroughLab(extra: { enableAutoPipelining?: boolean } = {}) {
  const unhandled: unknown[] = []
  const onRejection = (reason: unknown) => unhandled.push(reason)
  process.on('unhandledRejection', onRejection)
  const dialled: string[] = []
  const cluster = createRedisCluster({
    endpoint: lab.endpoint,
    nodes: [{ port: 6379 }],
    tls: false,
    locality: { source: 'options', azId: lab.endpoint.zones[0]!.azId! },
    connectorOptions: {
      dial: (target) => {
        dialled.push(target.host)
        return connect(target)
      },
    },
    ...extra,
  })
  cluster.on('error', () => {})
  return {
    cluster,
    unhandled,
    dialled,
    close() {
      process.off('unhandledRejection', onRejection)
      cluster.disconnect()
    },
  }
}

/** Asserts the error is the typed refusal of ELSEWHERE. */
function expectUnmapped(error: unknown) {
  expect(PrivateLinkError.isInstance(error)).toBe(true)
  expect((error as PrivateLinkError).code).toBe('ERR_REDIS_UNMAPPED_NODE')
  expect((error as PrivateLinkError).details['address']).toBe(ELSEWHERE)
}

describe('a redirection to an address outside the node map', () => {
  it.each([
    ['ASK', 'get'],
    ['MOVED', 'getdel'],
  ] as const)(
    '-%s: the command fails with ERR_REDIS_UNMAPPED_NODE, no unhandled rejection, nothing dialled but the listener',
    async (_reply, send) => {
      const { cluster, unhandled, dialled, close } = clusterThroughLab()
      try {
        expectUnmapped(await cluster[send]('privatelink:ask').catch((e: unknown) => e))
        // The client keeps working for commands the node answers itself.
        expect(await cluster.set('privatelink:ask', '1')).toBe('OK')
        // Rejections nobody handles are reported after the microtasks of the turn that made them;
        // a macrotask later they would be in the list.
        await new Promise((resolve) => setImmediate(resolve))
        expect(unhandled).toEqual([])
        expect(dialled.filter((host) => !host.startsWith('127.'))).toEqual([])
      } finally {
        close()
      }
    },
  )

  // ioredis' pipeline settles only if handleError refuses synchronously; a refusal after discovery
  // left it pending for good (attack round 3, finding 1). ioredis 6.1 resends a redirected
  // command of a plain pipeline on its own, so there the error is that command's entry in the
  // results; a transaction (and a pipeline in ioredis 5 / 6.0) is refused as a whole.
  it.each([
    ['ASK', 'pipeline', 'get'],
    ['MOVED', 'pipeline', 'getdel'],
    ['ASK', 'multi', 'get'],
    ['MOVED', 'multi', 'getdel'],
  ] as const)(
    '-%s inside a %s (%s): fails with ERR_REDIS_UNMAPPED_NODE, no hang, nothing dialled',
    async (_reply, batch, send) => {
      const { cluster, unhandled, dialled, close } = clusterThroughLab()
      try {
        const settled = await cluster[batch]()
          [send]('privatelink:ask')
          .exec()
          .then(
            (results) => (batch === 'pipeline' ? results?.[0]?.[0] : results),
            (error: unknown) => error,
          )
        expectUnmapped(settled)
        // A batch the node answers itself still works.
        expect(await cluster[batch]().set('privatelink:ask', '1').exec()).toEqual([[null, 'OK']])
        await new Promise((resolve) => setImmediate(resolve))
        expect(unhandled).toEqual([])
        expect(dialled.filter((host) => !host.startsWith('127.'))).toEqual([])
      } finally {
        close()
      }
    },
    10_000,
  )

  it('with enableAutoPipelining (commands batched in a pipeline): the command fails typed', async () => {
    const { cluster, unhandled, dialled, close } = clusterThroughLab({ enableAutoPipelining: true })
    try {
      await cluster.set('privatelink:ask', '1')
      expectUnmapped(await cluster.getdel('privatelink:ask').catch((e: unknown) => e))
      await new Promise((resolve) => setImmediate(resolve))
      expect(unhandled).toEqual([])
      expect(dialled.filter((host) => !host.startsWith('127.'))).toEqual([])
    } finally {
      close()
    }
  }, 10_000)
})
