import type { TestProject } from 'vitest/node'
import { findPostgres, type ServiceHandle } from './postgres.js'
import { findRedis, type RedisResult } from './redis.js'
import { type RunTmpdir, useRunTmpdir } from './run-tmpdir.js'

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string
    pgSource: string
    /** Empty when Redis could not be had; see `redisUnavailable`. */
    redisUrl: string
    redisUnavailable: string
  }
}

interface Services {
  tmp: RunTmpdir
  postgres: ServiceHandle
  redis: RedisResult
}

// Every project runs this file; the servers are found (or started) once per vitest process.
const key = Symbol.for('privatelink.test.services')
type Holder = { services?: Promise<Services>; users: number }
const store = globalThis as Record<symbol, Holder>
store[key] ??= { users: 0 }
const holder = store[key]

async function findAll(): Promise<Services> {
  // First, so that the workers (started after the global setup) and the servers inherit it.
  const tmp = await useRunTmpdir()
  try {
    const [postgres, redis] = await bothOrNeither(findPostgres(), findRedis())
    if ('unavailable' in redis) {
      if (process.env['CI'] === 'true') {
        await postgres.stop()
        throw new Error(`Redis is required under CI=true: ${redis.unavailable}`)
      }
      console.warn(
        `\n  ┌──────────────────────────────────────────────────────────────\n  │ Redis not available: ${redis.unavailable}\n  │ Redis integration tests will be SKIPPED.\n  └──────────────────────────────────────────────────────────────\n`,
      )
    }
    return { tmp, postgres, redis }
  } catch (error) {
    await tmp.finish()
    throw error
  }
}

/** Both servers, or an error with neither left running (a started one keeps vitest alive). */
async function bothOrNeither(
  postgres: Promise<ServiceHandle>,
  redis: Promise<RedisResult>,
): Promise<[ServiceHandle, RedisResult]> {
  const [found, other] = await Promise.allSettled([postgres, redis])
  if (found.status === 'fulfilled' && other.status === 'fulfilled')
    return [found.value, other.value]
  if (found.status === 'fulfilled') await found.value.stop()
  if (other.status === 'fulfilled' && 'stop' in other.value) await other.value.stop()
  throw found.status === 'rejected' ? found.reason : (other as PromiseRejectedResult).reason
}

export default async function setup(project: TestProject) {
  holder.users++
  holder.services ??= findAll()
  const services = await holder.services
  project.provide('pgUrl', services.postgres.url)
  project.provide('pgSource', services.postgres.source)
  project.provide('redisUrl', 'url' in services.redis ? services.redis.url : '')
  project.provide(
    'redisUnavailable',
    'unavailable' in services.redis ? services.redis.unavailable : '',
  )
  return async () => {
    holder.users--
    if (holder.users > 0) return
    const current = await holder.services
    holder.services = undefined
    if (current === undefined) return
    await current.postgres.stop()
    if ('stop' in current.redis) await current.redis.stop()
    const left = await current.tmp.finish()
    if (left.length > 0) {
      console.warn(
        `\n  Tests left ${left.length} temporary entries (removed): ${left.join(', ')}\n`,
      )
    }
  }
}
