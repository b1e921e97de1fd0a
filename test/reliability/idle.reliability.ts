import { setTimeout as sleep } from 'node:timers/promises'
import type { IdleTimeoutMode } from '@privatelink/lab'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addCredentials } from './support/capture.js'
import { type App, startApp } from './support/clients.js'
import { API_HOST, type Stack, startStack } from './support/stack.js'
import { emptyRow, record } from './support/summary.js'

// Issue 32, the idle phase: the path forgets a flow idle for its timeout (350 s through an
// interface endpoint; PATH_IDLE_MS of real time here, every zone, both of the lab's modes). Each
// client (HTTP dispatcher, pg pool, Redis client) runs a burst, idles past the timeout, and runs
// another, ROUNDS times: 0 failed operations and nothing stuck, with default connector options
// (told the lab's timeout), and with TCP keep-alive off. Times are printed, never asserted.
const PATH_IDLE_MS = 3_000
const ROUNDS = Number(process.env['RELIABILITY_IDLE_ROUNDS'] ?? 2)
const BURST = 8
/** An operation stuck this long is a hang (the drop mode's silence), not a slow answer. */
const STUCK_MS = 15_000

let stack: Stack
beforeAll(async () => {
  stack = await startStack()
  addCredentials('lab long-term key', stack.lab.aws.credentials)
})
afterAll(async () => {
  await stack?.close()
})

/** One burst: BURST operations per client at once; the failures, as `kind: code`. */
async function burst(app: App, round: number): Promise<{ done: number; failures: string[] }> {
  const failures: string[] = []
  let done = 0
  const run = (kind: string, operation: () => Promise<unknown>) =>
    Promise.race([
      operation().then(() => {
        done++
      }),
      sleep(STUCK_MS, undefined, { ref: false }).then(() => {
        throw Object.assign(new Error('stuck'), { code: 'STUCK' })
      }),
    ]).catch((error: unknown) => {
      failures.push(`${kind}: ${(error as { code?: string }).code ?? String(error)}`)
    })
  const operations = Array.from({ length: BURST }, (_, n) => [
    run('http', async () => {
      const response = await request(`https://${API_HOST}/idle/${round}/${n}`, {
        dispatcher: app.http,
      })
      await response.body.text()
      if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`)
    }),
    run('pg', () => app.pool.query('SELECT $1::int AS n', [n])),
    ...(app.redis === undefined
      ? []
      : [
          run('redis', async () => {
            const redis = app.redis!
            await redis.set(`privatelink:reliability:idle:${n}`, String(round))
            await redis.get(`privatelink:reliability:idle:${n}`)
          }),
        ]),
  ]).flat()
  await Promise.all(operations)
  return { done, failures }
}

/** Idle until every zone's path has forgotten what it held, or PATH_IDLE_MS past it. */
async function idlePastThePath(): Promise<void> {
  const until = performance.now() + PATH_IDLE_MS + 1_500
  while (performance.now() < until) {
    await sleep(300)
    // The lab samples the kernel on its own timers too; these make each sample certain.
    for (const zone of stack.lab.endpoint.zones) await stack.lab.zone(zone.azName).sweepIdle()
  }
}

describe("idle phase: the path's idle timeout", () => {
  it.for([
    ['reset', 'default options', {}],
    ['drop', 'default options', {}],
    ['reset', 'keep-alive off', { keepAlive: false }],
    ['drop', 'keep-alive off', { keepAlive: false }],
  ] as const)(
    'lab mode %s, %s: bursts separated by idle time past the path timeout',
    async ([mode, label, connector], { task }) => {
      for (const zone of stack.lab.endpoint.zones)
        stack.lab
          .zone(zone.azName)
          .setIdleTimeout({ idleTimeoutMs: PATH_IDLE_MS, idleTimeoutMode: mode as IdleTimeoutMode })
      const credentials = stack.lab.aws.issueSession(3600)
      addCredentials('STS session', credentials)
      const app = startApp(stack, {
        credentials,
        connectorOptions: { pathIdleTimeoutMs: PATH_IDLE_MS, ...connector },
      })
      const row = emptyRow(`idle: ${label}, lab mode ${mode}`)
      const forgottenBefore = forgotten()
      const failures: string[] = []
      try {
        for (let round = 0; round <= ROUNDS; round++) {
          if (round > 0) await idlePastThePath()
          const result = await burst(app, round)
          row.load += result.done
          failures.push(...result.failures)
        }
      } finally {
        await app.close()
        for (const zone of stack.lab.endpoint.zones)
          stack.lab
            .zone(zone.azName)
            .setIdleTimeout({ idleTimeoutMs: 350_000, idleTimeoutMode: 'reset' })
      }
      row.faults = ROUNDS
      row.failures = failures.length
      row.notes = `${forgotten() - forgottenBefore} flows forgotten by the lab`
      record(task, row)
      expect(failures).toEqual([])
    },
  )
})

const forgotten = () =>
  stack.lab.endpoint.zones.reduce(
    (sum, zone) =>
      sum +
      Object.values(stack.lab.zone(zone.azName).stats()).reduce(
        (inner, service) => inner + service.flowsForgotten,
        0,
      ),
    0,
  )
