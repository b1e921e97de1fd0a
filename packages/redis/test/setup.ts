import { randomUUID } from 'node:crypto'
import { type ElastiCacheFront, elastiCacheFront, type Lab, startLab } from '@privatelink/lab'
import type { Redis } from 'ioredis'

export interface StandaloneLab {
  lab: Lab
  front: ElastiCacheFront
  /** The lab clock: tests move it. */
  clock: { now: number }
  close(): Promise<void>
}

/** A lab endpoint with port 6379 leading to an ElastiCache-style IAM front over the test Redis. */
export async function startStandaloneLab(redisUrl: string): Promise<StandaloneLab> {
  const url = new URL(redisUrl)
  const clock = { now: Date.now() }
  const front = elastiCacheFront({
    cacheName: 'lab-cache',
    upstream: { host: url.hostname, port: Number(url.port || 6379) },
  })
  const lab = await startLab({
    clock: () => clock.now,
    fronts: [front],
    services: [{ name: 'redis', port: 6379, target: { front: 'elasticache' } }],
  })
  return { lab, front, clock, close: () => lab.close() }
}

/** Waits for an ioredis client to become ready (or fail). */
export function ready(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve()
  return new Promise((resolve, reject) => {
    redis.once('ready', () => resolve())
    redis.once('end', () => reject(new Error('client ended before ready')))
  })
}

/** Runs `workers` loops of SET+GET until `stop()`; counts failures of commands started after `markFault()`. */
export function load(redis: Pick<Redis, 'set' | 'get'>, workers: number, prefix: string) {
  let running = true
  let faultAt: number | undefined
  const failures: string[] = []
  let completed = 0
  let completedAfterFault = 0
  const loops = Array.from({ length: workers }, async (_, worker) => {
    let n = 0
    while (running) {
      const started = performance.now()
      const key = `${prefix}:${worker}:${n++ % 50}`
      try {
        await redis.set(key, String(n))
        const value = await redis.get(key)
        if (value !== String(n)) throw new Error(`read ${value} for ${key}, wrote ${n}`)
        completed++
        if (faultAt !== undefined && started >= faultAt) completedAfterFault++
      } catch (error) {
        if (faultAt !== undefined && started >= faultAt)
          failures.push(`${(error as { code?: string }).code ?? ''} ${(error as Error).message}`)
      }
    }
  })
  return {
    markFault: () => {
      faultAt = performance.now()
    },
    failures,
    stats: () => ({ completed, completedAfterFault }),
    stop: async () => {
      running = false
      await Promise.all(loops)
    },
  }
}

/**
 * Runs `workers` loops of INCR, each worker on its own counter, until `stop()`; every failed
 * command is recorded. From `check()` on, each worker counts on a fresh key and every reply must
 * be one past the one before: a command that ran twice (resent after the server had run it) or
 * not at all shows as a wrong count.
 */
export function counters(redis: Pick<Redis, 'incr'>, workers: number, prefix: string) {
  const run = `${prefix}:${randomUUID()}`
  let running = true
  let checking = false
  const failures: string[] = []
  let completed = 0
  let checked = 0
  const loops = Array.from({ length: workers }, async (_, worker) => {
    let key = `${run}:${worker}:unchecked`
    let count: number | undefined
    while (running) {
      if (checking && count === undefined) {
        key = `${run}:${worker}:checked`
        count = 0
      }
      try {
        const value = await redis.incr(key)
        completed++
        if (count === undefined) continue
        count++
        checked++
        if (value !== count) {
          failures.push(`${key} is ${value} after ${count} INCR: a command ran twice or not at all`)
          count = value
        }
      } catch (error) {
        failures.push(`${(error as { code?: string }).code ?? ''} ${(error as Error).message}`)
      }
    }
  })
  return {
    check: () => {
      checking = true
    },
    failures,
    stats: () => ({ completed, checked }),
    stop: async () => {
      running = false
      await Promise.all(loops)
    },
  }
}

/** Polls `predicate` (traffic counters) until it holds; fails after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
