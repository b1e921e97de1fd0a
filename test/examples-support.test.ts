import { readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { freePort } from '../examples/support/free-port.js'
import { findPostgres, trustLogin } from '../examples/support/postgres.js'
import { answersPing, findRedis } from '../examples/support/redis.js'

const demoFolders = async () =>
  (await readdir(tmpdir())).filter((name) => name.startsWith('privatelink-demo-pg-'))

describe('examples/support: servers for the demo with nothing to configure', () => {
  it('PostgreSQL: nothing on the local port -> an embedded server, stopped with its folder removed', async () => {
    const closed = await freePort()
    const before = await demoFolders()
    const server = await findPostgres({}, closed)
    try {
      expect(server.source).toBe('embedded')
      expect(server.port).not.toBe(closed)
      // It asks for a password (trust is for the local one only), and it answers.
      expect(await trustLogin(server.host, server.port, 'postgres')).toBe(false)
      expect((await demoFolders()).length).toBe(before.length + 1)
    } finally {
      await server.stop()
    }
    expect(await demoFolders()).toEqual(before)
  }, 60_000)

  it('PostgreSQL: PG_URL wins, parsed into host, port, user, password, database', async () => {
    const server = await findPostgres({ PG_URL: 'postgres://app:s%40cret@127.0.0.1:6543/orders' })
    expect(server).toMatchObject({
      host: '127.0.0.1',
      port: 6543,
      user: 'app',
      password: 's@cret',
      database: 'orders',
      source: 'env',
    })
  })

  it('Redis: without a server or a binary, a reason instead of an error', async () => {
    const result = await findRedis({}, { port: await freePort(), binary: 'no-such-redis-server' })
    expect(result).toEqual({
      unavailable: expect.stringMatching(/no-such-redis-server to start \((ENOENT|EACCES)\)/),
    })
  })

  it('Redis: nothing on the local port -> redis-server on a free port, stopped by stop()', async () => {
    const result = await findRedis({}, { port: await freePort() })
    if ('unavailable' in result) {
      // A machine without the binary: the reason names it and how to get it.
      expect(result.unavailable).toMatch(/no redis-server to start .*apt-get install redis-server/)
      return
    }
    expect(result.source).toBe('started')
    expect(await answersPing(result.host, result.port, 1000)).toBe(true)
    await result.stop()
    expect(await answersPing(result.host, result.port, 300)).toBe(false)
  })
})
