import { describe, expect, it } from 'vitest'
import { announcedAddresses, NodeMap } from '../src/node-map.js'

const NODES = `07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,node-4.cache.example.com slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 10.0.1.5:6379@16379,node-2.cache.example.com myself,master - 0 1426238316232 2 connected 5461-10922
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 10.0.1.6:6379@16379 master - 0 1426238318243 3 connected 10923-16383`

describe('announcedAddresses', () => {
  it('reads the myself line: ip:port and hostname:port', () => {
    expect(announcedAddresses(NODES)).toEqual(['10.0.1.5:6379', 'node-2.cache.example.com:6379'])
  })
  it('handles a node without a hostname, and no myself line', () => {
    expect(
      announcedAddresses('abc 10.0.0.9:7000@17000 myself,master - 0 0 1 connected 0-5460'),
    ).toEqual(['10.0.0.9:7000'])
    expect(announcedAddresses('abc 10.0.0.9:7000@17000, myself,master - 0 0 1 connected')).toEqual([
      '10.0.0.9:7000',
    ])
    expect(announcedAddresses('abc 10.0.0.9:7000@17000 master - 0 0 1 connected')).toEqual([])
  })
})

describe('NodeMap', () => {
  it('maps startup nodes, then natMap, then discovered addresses; discovery runs once for a burst', async () => {
    let discoveries = 0
    const map = new NodeMap({
      natMap: { 'node-1.example.com:6379': { port: 7001 } },
      ports: [7001, 7002],
      servername: 'clustercfg.example.com',
      discover: async () => {
        discoveries++
        return new Map([['node-2.example.com:6379', 7002]])
      },
    })
    expect(await map.portFor('clustercfg.example.com', 7002)).toBe(7002)
    expect(await map.portFor('node-1.example.com', 6379)).toBe(7001)
    const [a, b] = await Promise.all([
      map.portFor('node-2.example.com', 6379),
      map.portFor('node-2.example.com', 6379),
    ])
    expect([a, b]).toEqual([7002, 7002])
    expect(discoveries).toBe(1)
    await expect(map.portFor('10.9.9.9', 6379)).rejects.toMatchObject({
      code: 'ERR_REDIS_UNMAPPED_NODE',
      details: { address: '10.9.9.9:6379' },
    })
  })
})
