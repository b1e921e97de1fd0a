import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { type Lab, rdsProxyFront, startLab } from '@privatelink/lab'
import { afterEach, describe, expect, inject, it } from 'vitest'

// Issue 32, item 3: a Lambda sandbox frozen (here: SIGSTOP) past the path's idle timeout holds
// connections the path has forgotten. Its next invocation's pg query and Redis command must
// succeed with no retry in the user's code, and the replaced connections be counted. Real
// seconds: the lab forgets flows idle for 3 s of the wall clock, the child's clock is its own
// (a stopped process's Date.now jumps as a thawed sandbox's does).
const root = fileURLToPath(new URL('..', import.meta.url))
const pgUrl = new URL(inject('pgUrl'))
const redisUrl = inject('redisUrl')
const PATH_IDLE_MS = 3_000

interface Reply {
  ok: boolean
  started?: boolean
  result?: { pg: number; redis: string }
  idle?: { at: string; zone: string }[]
  pathIdleReplaced?: number
  failures?: string[]
  error?: string
}

let child: ChildProcess | undefined
let lab: Lab | undefined
afterEach(async () => {
  if (child !== undefined && child.exitCode === null) {
    child.kill('SIGCONT')
    child.kill('SIGKILL')
  }
  child = undefined
  await lab?.close()
  lab = undefined
})

const reply = async (process: ChildProcess): Promise<Reply> =>
  (await once(process, 'message'))[0] as Reply

describe.skipIf(redisUrl === '')(
  'a Lambda sandbox thawed after the path forgot its connections',
  () => {
    it.each(['reset', 'drop'] as const)(
      'lab mode %s: the next pg query and Redis command succeed',
      async (mode) => {
        const redis = new URL(redisUrl)
        const front = rdsProxyFront({
          upstream: {
            host: pgUrl.hostname,
            port: Number(pgUrl.port || 5432),
            user: decodeURIComponent(pgUrl.username || 'postgres'),
            database: pgUrl.pathname.slice(1) || 'postgres',
            ...(pgUrl.password === '' ? {} : { password: decodeURIComponent(pgUrl.password) }),
          },
        })
        const started = await startLab({
          idleTimeoutMs: PATH_IDLE_MS,
          idleTimeoutMode: mode,
          fronts: [front],
          services: [
            { name: 'postgres', port: 5432, target: { front: 'rds-proxy' } },
            {
              name: 'redis',
              port: 6379,
              target: { host: redis.hostname, port: Number(redis.port || 6379) },
            },
          ],
        })
        lab = started
        const proc = spawn(
          process.execPath,
          ['--import', 'tsx', 'test/fixtures/lambda-thaw-child.ts'],
          {
            cwd: root,
            env: { ...process.env, NODE_OPTIONS: '' },
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          },
        )
        child = proc
        proc.send({
          pg: {
            endpoint: started.endpoint,
            proxyHost: front.proxyHost,
            database: pgUrl.pathname.slice(1) || 'postgres',
            ca: started.ca.certificatePem,
            credentials: started.aws.issueSession(3600),
          },
          redis: { endpoint: started.endpoint },
          locality: { source: 'options', azId: 'usw2-az1' },
          pathIdleTimeoutMs: PATH_IDLE_MS,
        })
        expect(await reply(proc)).toMatchObject({ started: true })
        // The first invocation opens one connection of each.
        proc.send('invoke')
        const first = await reply(proc)
        expect(first.error).toBeUndefined()
        expect(first).toMatchObject({ ok: true, result: { pg: 1, redis: '1' } })
        // Frozen, until the path forgot both flows.
        proc.kill('SIGSTOP')
        const zone = started.zone('us-west-2a')
        const forgotten = () =>
          (zone.stats()['postgres']?.flowsForgotten ?? 0) +
          (zone.stats()['redis']?.flowsForgotten ?? 0)
        const deadline = performance.now() + 20_000
        while (forgotten() < 2 && performance.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 250))
          await zone.sweepIdle()
        }
        expect(forgotten()).toBe(2)
        proc.kill('SIGCONT')
        proc.send('invoke')
        const thawed = await reply(proc)
        expect(thawed).toMatchObject({ ok: true, result: { pg: 2, redis: '2' }, failures: [] })
        // Both forgotten connections were found and replaced, at the thaw or before their use.
        expect(thawed.idle).toHaveLength(2)
        expect(thawed.idle!.every((event) => event.zone === 'usw2-az1')).toBe(true)
        expect(thawed.pathIdleReplaced).toBe(1)
        proc.send('end')
        await once(proc, 'exit')
      },
    )
  },
)
