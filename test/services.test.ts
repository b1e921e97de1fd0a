import pg from 'pg'
import { describe, expect, inject, it } from 'vitest'
import { findPostgres } from './support/postgres.js'
import { findRedis, redisAnswers } from './support/redis.js'

async function selectOne(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const result = await client.query<{ one: number }>('SELECT 1 AS one')
    return result.rows[0]!.one
  } finally {
    await client.end()
  }
}

describe('test services helper: PostgreSQL', () => {
  const running = inject('pgUrl')

  it('takes PG_URL from the environment without probing', async () => {
    const handle = await findPostgres({ env: { PG_URL: 'postgres://nobody@127.0.0.1:1/none' } })
    expect(handle).toMatchObject({ url: 'postgres://nobody@127.0.0.1:1/none', source: 'env' })
  })

  // PG_URL is taken as given: the user's to complete.
  it.runIf(inject('pgSource') !== 'env')('hands out a URL with a user and a password', () => {
    const url = new URL(running)
    expect(url.username).not.toBe('')
    expect(url.password).not.toBe('')
  })

  it('uses the local server when it answers', async () => {
    const handle = await findPostgres({ env: {}, localUrl: running })
    expect(handle.source).toBe('local')
    expect(await selectOne(handle.url)).toBe(1)
  })

  it('starts an embedded server when nothing answers, and stops it', async () => {
    const handle = await findPostgres({
      env: {},
      localUrl: 'postgres://postgres@127.0.0.1:1/postgres',
    })
    try {
      expect(handle.source).toBe('started')
      expect(await selectOne(handle.url)).toBe(1)
      // It wants the password the URL carries (random, so no test can assume one).
      const url = new URL(handle.url)
      expect(url.username).toBe('postgres')
      expect(url.password).toMatch(/^[0-9a-f]{24}$/)
      url.password = 'postgres'
      await expect(selectOne(url.href)).rejects.toThrow(/password authentication failed/)
    } finally {
      await handle.stop()
    }
    await expect(selectOne(handle.url)).rejects.toThrow()
  }, 60_000)
})

describe('test services helper: Redis', () => {
  it('reports a missing binary instead of throwing', async () => {
    const result = await findRedis({
      env: {},
      localUrl: 'redis://127.0.0.1:1',
      binary: 'privatelink-no-such-redis-server',
    })
    expect(result).toHaveProperty('unavailable')
    expect((result as { unavailable: string }).unavailable).toMatch(
      /apt-get install -y redis-server/,
    )
  })

  it.runIf(inject('redisUrl') !== '')('finds a Redis that answers PING', async () => {
    expect(await redisAnswers(inject('redisUrl'))).toBe(true)
  })
})
