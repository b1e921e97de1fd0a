import { readFile } from 'node:fs/promises'
import { describe, expect, inject, it } from 'vitest'
import { labElastiCache } from '../examples/lab-elasticache.js'
import { labQuickstart } from '../examples/lab-quickstart.js'
import { labRdsProxy } from '../examples/lab-rds-proxy.js'
import { importLines, readmeRegion } from './support/readme-snippet.js'

const readme = () => readFile(new URL('../packages/lab/README.md', import.meta.url), 'utf8')

/** The README shows the example's imports and its marked lines, unchanged. */
async function expectReadmeShows(example: string): Promise<void> {
  const file = new URL(`../examples/${example}`, import.meta.url)
  const text = await readme()
  expect(text).toContain(`\`\`\`ts\n${(await importLines(file)).join('\n')}\n`)
  expect(text).toContain(`${await readmeRegion(file)}\n\`\`\``)
}

describe('the lab README examples', () => {
  it('the README shows examples/lab-quickstart.ts', async () => {
    await expectReadmeShows('lab-quickstart.ts')
  })

  it('runs as documented', async () => {
    expect(await labQuickstart()).toEqual([
      'healthy: us-west-2a served 1',
      'blackholed: us-west-2b served 1',
    ])
  })

  describe('RDS Proxy emulator', () => {
    it('the README shows examples/lab-rds-proxy.ts', async () => {
      await expectReadmeShows('lab-rds-proxy.ts')
    })

    it('a pg pool with IAM and verify-full TLS queries the upstream through the emulator', async () => {
      // The PostgreSQL the suite found or started, with whatever password it wants.
      const url = new URL(inject('pgUrl'))
      const password = decodeURIComponent(url.password)
      const upstream = {
        host: url.hostname,
        port: Number(url.port || 5432),
        user: decodeURIComponent(url.username),
        ...(password === '' ? {} : { password }),
      }
      const { row, stats } = await labRdsProxy(upstream)
      expect(row).toEqual({ user: upstream.user, db: 'postgres' })
      expect(stats).toMatchObject({ tls: 1, authenticated: 1, refused: {} })
    })
  })

  describe('ElastiCache IAM front', () => {
    it('the README shows examples/lab-elasticache.ts', async () => {
      await expectReadmeShows('lab-elasticache.ts')
    })

    it.runIf(inject('redisUrl') !== '')(
      'createRedis with IAM and TLS against the lab CA sets and gets through the front',
      async () => {
        const url = new URL(inject('redisUrl'))
        const result = await labElastiCache({
          host: url.hostname,
          port: Number(url.port || 6379),
        })
        expect(result.greeting).toBe('hello')
        expect(result.stats).toMatchObject({ tlsFailures: 0, authenticated: 1, refused: {} })
      },
    )
  })
})
