import type { TestProject } from 'vitest/node'
import { findPostgres, type ServiceHandle } from './postgres.js'
import { findRedis } from './redis.js'

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
  postgres: ServiceHandle
  redis: Awaited<ReturnType<typeof findRedis>>
}

// Every project runs this file; the servers are found (or started) once per vitest process.
const key = Symbol.for('privatelink.test.services')
type Holder = { services?: Promise<Services>; users: number }
const store = globalThis as Record<symbol, Holder>
store[key] ??= { users: 0 }
const holder = store[key]

async function findAll(): Promise<Services> {
  const [postgres, redis] = await Promise.all([findPostgres(), findRedis()])
  if ('unavailable' in redis) {
    if (process.env['CI'] === 'true') {
      throw new Error(`Redis is required under CI=true: ${redis.unavailable}`)
    }
    console.warn(
      `\n  ┌──────────────────────────────────────────────────────────────\n  │ Redis not available: ${redis.unavailable}\n  │ Redis integration tests will be SKIPPED.\n  └──────────────────────────────────────────────────────────────\n`,
    )
  }
  return { postgres, redis }
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
  }
}
