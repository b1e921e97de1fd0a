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

describe('a redirection to an address outside the node map', () => {
  it.each([
    ['ASK', 'get'],
    ['MOVED', 'getdel'],
  ] as const)(
    '-%s: the command fails with ERR_REDIS_UNMAPPED_NODE, no unhandled rejection, nothing dialled but the listener',
    async (_reply, send) => {
      const rejections: unknown[] = []
      const onRejection = (reason: unknown) => rejections.push(reason)
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
      })
      cluster.on('error', () => {})
      try {
        const error = await cluster[send]('privatelink:ask').catch((e: unknown) => e)
        expect(PrivateLinkError.isInstance(error)).toBe(true)
        expect((error as PrivateLinkError).code).toBe('ERR_REDIS_UNMAPPED_NODE')
        expect((error as PrivateLinkError).details['address']).toBe(ELSEWHERE)
        // The client keeps working for commands the node answers itself.
        expect(await cluster.set('privatelink:ask', '1')).toBe('OK')
        // Rejections nobody handles are reported after the microtasks of the turn that made them;
        // a macrotask later they would be in the list.
        await new Promise((resolve) => setImmediate(resolve))
        expect(rejections).toEqual([])
        expect(dialled.filter((host) => !host.startsWith('127.'))).toEqual([])
      } finally {
        process.off('unhandledRejection', onRejection)
        cluster.disconnect()
      }
    },
  )
})
