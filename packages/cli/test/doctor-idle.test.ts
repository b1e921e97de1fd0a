import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Lab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CheckResult, DoctorReport } from '../src/index.js'
import { cli, type DoctorLab, labEnv, schemaValidator, startDoctorLab } from './support.js'

const NAME = 'api.saas.example.com'
let lab: Lab
let stop: DoctorLab['stop'] | undefined
let folder: string

beforeAll(async () => {
  ;({ lab, stop } = await startDoctorLab(NAME))
  folder = await mkdtemp(join(tmpdir(), 'privatelink-idle-'))
})
afterAll(async () => {
  await rm(folder, { recursive: true, force: true })
  await stop?.()
})

const doctor = async (...extra: string[]) => {
  const run = await cli(['doctor', lab.endpoint.id, '--dns', lab.dns.address, '--json', ...extra], {
    env: labEnv(lab),
  })
  if (run.code === 2) return { code: run.code, stdout: run.stdout, stderr: run.stderr, idle: [] }
  const report = JSON.parse(run.stdout) as DoctorReport
  expect((await schemaValidator())('doctor.schema.json', report)).toEqual([])
  return {
    code: run.code,
    stdout: run.stdout,
    stderr: run.stderr,
    report,
    idle: report.checks.filter((c) => c.id === 'path.idleTimeout') as CheckResult[],
  }
}
let files = 0
const optionsFile = async (content: unknown) => {
  const file = join(folder, `options-${files++}.json`)
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

describe("doctor: settings the user passes against the path's 350 s idle timeout (issue 32)", {
  timeout: 60_000,
}, () => {
  it('no setting passed: no idle line at all (the healthy lab stays warning-free)', async () => {
    const run = await doctor()
    expect(run.idle).toEqual([])
    expect(run.report!.summary.warn).toBe(0)
  })

  it('a pool idle timeout past 350 s, keep-alive off, an HTTP keep-alive past it: one warning each, with the value to use', async () => {
    const run = await doctor(
      '--pool-idle-timeout-ms',
      '600000',
      '--keep-alive',
      'off',
      '--keep-alive-timeout-ms',
      '400000',
    )
    expect(run.code).toBe(0)
    expect(run.idle.map((c) => c.status)).toEqual(['warn', 'warn', 'warn'])
    expect(run.idle[0]).toMatchObject({
      title: 'idle timeout',
      seen: `--pool-idle-timeout-ms 600000 ms (600 s): the pool keeps an idle connection that long, past the path's 350000 ms (350 s) idle timeout: the path forgets it without a packet to either side, and the next query on it gets a reset (pg: "Connection terminated unexpectedly")`,
    })
    expect(run.idle[0]!.fix).toMatch(/^Set --pool-idle-timeout-ms below 280000 /)
    expect(run.idle[1]!.seen).toMatch(/^--keep-alive off: no keep-alive probe refreshes/)
    expect(run.idle[1]!.fix).toContain('--keep-alive on')
    expect(run.idle[2]!.seen).toMatch(
      /^--keep-alive-timeout-ms 400000 ms \(400 s\): an idle socket/,
    )
    expect(run.idle[2]!.fix).toBe(
      "Set --keep-alive-timeout-ms below 280000; the adapters' default, 4000, is safe.",
    )
    // The idle lines come last: they are about the client, not the endpoint.
    expect(run.report!.checks.at(-1)!.id).toBe('path.idleTimeout')
  })

  it('four fifths of the timeout (the limit core and the adapters enforce) counts as over; a pool that retires idle connections first makes keep-alive off safe', async () => {
    const near = await doctor('--keep-alive-timeout-ms', '280000')
    expect(near.idle.map((c) => c.status)).toEqual(['warn'])
    const safe = await doctor('--pool-idle-timeout-ms', '30000', '--keep-alive', 'off')
    expect(safe.idle).toMatchObject([
      {
        status: 'pass',
        seen: "inside the path's 350000 ms (350 s) idle timeout: --pool-idle-timeout-ms 30000, --keep-alive off",
      },
    ])
    // An NLB TCP listener set to 60 s: the same 30 s pool is still inside; 120 s is not.
    const nlb = await doctor('--pool-idle-timeout-ms', '120000', '--path-idle-timeout-ms', '60000')
    expect(nlb.idle[0]).toMatchObject({ status: 'warn' })
    expect(nlb.idle[0]!.fix).toContain('below 48000')
  })

  it('--adapter-options: each adapter checked by its own option names; keep-alive on with an early probe covers a long pool idle', async () => {
    const file = await optionsFile({
      pg: {
        host: 'db.example.internal',
        password: 'hunter2-not-printed',
        idleTimeoutMillis: 0,
        keepAlive: false,
      },
      mysql: { idleTimeout: 900000, enableKeepAlive: true, keepAliveInitialDelay: 30000 },
      redis: { keepAlive: 0 },
      http: { keepAliveTimeoutMs: 4000 },
      'aws-sdk': { keepAliveTimeoutMs: 600000 },
    })
    const run = await doctor('--adapter-options', file)
    expect(run.code).toBe(0)
    expect(run.stdout).not.toContain('hunter2')
    const seen = run.idle.map((c) => c.seen)
    expect(seen).toHaveLength(4)
    expect(seen[0]).toMatch(/^pg\.idleTimeoutMillis 0: the pool never closes an idle connection/)
    expect(seen[1]).toMatch(/^pg\.keepAlive off: /)
    expect(run.idle[1]!.fix).toContain(
      'pg.keepAlive: true, first probe at 60000 ms: pg.keepAliveInitialDelayMillis',
    )
    expect(seen[2]).toMatch(/^redis\.keepAlive 0: TCP keep-alive probes off/)
    expect(run.idle[2]!.fix).toBe(
      "Set redis.keepAlive to 60000 (milliseconds before the first probe; ioredis 6's default is 30000).",
    )
    expect(seen[3]).toMatch(/^aws-sdk\.keepAliveTimeoutMs 600000 ms/)
    // mysql: a 15 min idle pool, but probes every 30 s keep its flows: no line for it.
    expect(seen.join('\n')).not.toContain('mysql')
  })

  it('--adapter-options errors: not JSON (its text never quoted), an unknown adapter, a wrong type: exit 2 naming the option', async () => {
    const notJson = await doctor(
      '--adapter-options',
      await optionsFile('{"pg": {"password": "s3cret-x"'),
    )
    expect(notJson.code).toBe(2)
    expect(JSON.parse(notJson.stdout)).toMatchObject({
      error: { code: 'ERR_USAGE', option: '--adapter-options' },
    })
    expect(notJson.stdout + notJson.stderr).not.toContain('s3cret-x')
    const unknown = await doctor('--adapter-options', await optionsFile({ postgres: {} }))
    expect(unknown.code).toBe(2)
    expect(unknown.stdout).toContain('unknown adapter \\"postgres\\"')
    const wrong = await doctor('--adapter-options', await optionsFile({ pg: { keepAlive: 'yes' } }))
    expect(wrong.code).toBe(2)
    expect(wrong.stdout).toContain('pg.keepAlive must be true or false')
    const missing = await doctor('--adapter-options', join(folder, 'absent.json'))
    expect(missing.code).toBe(2)
    expect(missing.stdout).toContain('ENOENT')
  })
})
