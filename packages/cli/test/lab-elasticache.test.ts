import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { endpointFromConfig } from '@privatelink/core'
import { createRedis } from '@privatelink/redis'
import { describe, expect, inject, it } from 'vitest'
import { redisSnippet } from '../src/commands/lab.js'
import type { LabReport } from '../src/index.js'
import { cleanEnv, repoRoot, schemaValidator, startCli } from './support.js'

// `privatelink lab --elasticache` in front of the suite's plain Redis: what it prints is enough to
// reach it with IAM and TLS, in this process (values from --json) and in a program of its own that
// has nothing but the printed environment and the printed createRedis snippet.

const upstream = new URL(inject('redisUrl'))
const upstreamFlag = `${upstream.hostname}:${upstream.port || 6379}`

const startLabCommand = (args: string[]) =>
  startCli(['lab', ...args], { env: cleanEnv(), ready: 'lab running' })

describe('privatelink lab --elasticache', { timeout: 60_000 }, () => {
  it('--json prints the cache name, user, servername and CA; createRedis reaches Redis with IAM and TLS', async () => {
    const lab = await startLabCommand([
      '--json',
      '--zones',
      '2',
      '--elasticache',
      `orders@${upstreamFlag}`,
    ])
    const key = `cli-lab-elasticache:${process.pid}:${Date.now()}`
    try {
      const report = JSON.parse(lab.output().stdout) as LabReport
      expect((await schemaValidator())('lab.schema.json', report)).toEqual([])
      expect(report.elastiCache).toMatchObject({
        cacheName: 'orders',
        user: 'app-user',
        port: 6379,
        service: 'elasticache',
      })
      expect(report.elastiCache!.host).toMatch(
        /^master\.orders\.[a-z0-9]+\.usw2\.cache\.amazonaws\.com$/,
      )
      expect(report.commands[0]).toContain(`--port 6379 --servername ${report.elastiCache!.host}`)

      // In this process, with the values the document holds.
      const redis = createRedis({
        endpoint: endpointFromConfig(report.env['PRIVATELINK_ENDPOINTS']!),
        servername: report.elastiCache!.host,
        tls: { ca: await readFile(report.caFile, 'utf8') },
        auth: {
          iam: {
            userId: report.elastiCache!.user,
            cacheName: report.elastiCache!.cacheName,
            region: report.region,
            credentials: report.credentials,
          },
        },
        locality: { source: 'options', azId: 'usw2-az1' },
      })
      try {
        expect(await redis.set(key, 'in-process')).toBe('OK')
        expect(await redis.get(key)).toBe('in-process')
      } finally {
        await redis.quit()
      }

      // The front checks the token: one signed for another cache name is refused.
      const wrong = createRedis({
        endpoint: endpointFromConfig(report.env['PRIVATELINK_ENDPOINTS']!),
        servername: report.elastiCache!.host,
        tls: { ca: await readFile(report.caFile, 'utf8') },
        auth: {
          iam: {
            userId: report.elastiCache!.user,
            cacheName: 'another-cache',
            region: report.region,
            credentials: report.credentials,
          },
        },
        locality: { source: 'options', azId: 'usw2-az1' },
        lazyConnect: true,
        maxRetriesPerRequest: 0,
      })
      wrong.on('error', () => {}) // the rejection below is the assertion
      try {
        await expect(wrong.connect()).rejects.toMatchObject({ code: 'ERR_REDIS_IAM_AUTH_FAILED' })
      } finally {
        wrong.disconnect()
      }

      // In a program of its own: the printed snippet, the printed environment, nothing else
      // (the lab CA through NODE_EXTRA_CA_CERTS, the zone from the lab's instance metadata).
      const folder = await mkdtemp(join(tmpdir(), 'privatelink-cli-redis-'))
      try {
        const script = join(folder, 'client.mts')
        await writeFile(
          script,
          [
            ...redisSnippet(report),
            `await redis.set(${JSON.stringify(key)}, 'from the snippet')`,
            `console.log(await redis.get(${JSON.stringify(key)}))`,
            'await redis.quit()',
          ].join('\n'),
        )
        const run = spawn(process.execPath, ['--import', 'tsx', script], {
          cwd: repoRoot,
          env: cleanEnv(report.env),
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        let stdout = ''
        let stderr = ''
        run.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
        run.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
        const [code] = (await once(run, 'close')) as [number | null]
        expect({ code, stdout, stderr }).toMatchObject({ code: 0, stdout: 'from the snippet\n' })
      } finally {
        await rm(folder, { recursive: true, force: true })
      }
    } finally {
      expect(await lab.stop('SIGINT')).toBe(0)
    }
  })

  it('text: the cache line and the createRedis snippet', async () => {
    const lab = await startLabCommand(['--zones', '1', '--elasticache', upstreamFlag])
    expect(await lab.stop('SIGTERM')).toBe(0)
    const { stdout } = lab.output()
    expect(stdout).toMatch(
      /elasticache {3}master\.lab-cache\.[a-z0-9]+\.usw2\.cache\.amazonaws\.com:6379 \(IAM auth, TLS/,
    )
    expect(stdout).toContain(
      'ElastiCache with IAM and TLS (createRedis, with the environment above)',
    )
    expect(stdout).toContain(
      "auth: { iam: { userId: 'app-user', cacheName: 'lab-cache', region: 'us-west-2' } },",
    )
    expect(stdout).toMatch(
      /privatelink doctor vpce-\w+ --dns \S+ --port 6379 --servername master\.lab-cache\./,
    )
  })
})
