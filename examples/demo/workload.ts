import { PrivateLinkError } from '@privatelink/core'
import { request } from 'undici'
import type { App } from './app.js'
import { API_HOST } from './stack.js'

export type Kind = 'pg' | 'mysql' | 'http' | 'redis'

/** The first failure of a kind: what the diagnosis prints. */
export interface FirstError {
  kind: Kind
  code: string
  message: string
  hint?: string
}

export interface Window {
  /** Durations (ms) of operations that completed in this window, any kind. */
  durations: number[]
  completed: number
  failed: number
  /** Reads the application retried after a typed "connection lost" (then succeeded or failed). */
  retried: number
  /** The slowest operation of each kind in this window. */
  maxByKind: Partial<Record<Kind, number>>
}

interface Operation {
  kind: Kind
  run(sequence: number): Promise<void>
}

/**
 * The steady stream: a few loops per client, each doing one operation at a time with a short
 * pause, like request handlers of a busy service. No option of any client is changed for it.
 */
export function startWorkload(app: App, options: { loopsPerKind?: number; pauseMs?: number } = {}) {
  const loops = options.loopsPerKind ?? 4
  const pauseMs = options.pauseMs ?? 5
  let window: Window = { durations: [], completed: 0, failed: 0, retried: 0, maxByKind: {} }
  const totals: Record<Kind, { completed: number; failed: number; maxMs: number }> = {
    pg: { completed: 0, failed: 0, maxMs: 0 },
    mysql: { completed: 0, failed: 0, maxMs: 0 },
    http: { completed: 0, failed: 0, maxMs: 0 },
    redis: { completed: 0, failed: 0, maxMs: 0 },
  }
  let retriedTotal = 0
  let firstError: FirstError | undefined
  let running = true

  const operations: Operation[] = [
    {
      kind: 'pg',
      run: async (n) => {
        const sql = 'SELECT $1::int AS n, now() AS at'
        try {
          await app.pool.query(sql, [n])
        } catch (error) {
          // A read that was in flight on a connection in the zone that went dark: the pool fails
          // it with a typed error (the server may or may not have run it). A SELECT is safe to
          // run again, so the application does, once. Writes would need their own judgement.
          if (!PrivateLinkError.isInstance(error) || error.code !== 'ERR_PG_CONNECTION_LOST')
            throw error
          window.retried++
          retriedTotal++
          await app.pool.query(sql, [n])
        }
      },
    },
    {
      kind: 'http',
      run: async (n) => {
        const response = await request(`https://${API_HOST}/v1/orders/${n}`, {
          dispatcher: app.http,
        })
        await response.body.dump()
        if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`)
      },
    },
  ]
  const mysql = app.mysql
  if (mysql !== undefined)
    operations.push({
      kind: 'mysql',
      run: async () => {
        const sql = 'SELECT 1 AS one'
        try {
          await mysql.query(sql)
        } catch (error) {
          // As for pg: a read in flight in the zone that went dark fails typed; run it again once.
          if (!PrivateLinkError.isInstance(error) || error.code !== 'ERR_MYSQL_CONNECTION_LOST')
            throw error
          window.retried++
          retriedTotal++
          await mysql.query(sql)
        }
      },
    })
  const redis = app.redis
  if (redis !== undefined)
    operations.push({
      kind: 'redis',
      run: async (n) => {
        const key = `privatelink:demo:${n % 64}`
        await redis.set(key, String(n))
        const value = await redis.get(key)
        if (value === null) throw new Error(`GET ${key} returned nothing after SET`)
      },
    })

  const loop = async (operation: Operation, offset: number) => {
    let n = offset
    while (running) {
      const started = performance.now()
      try {
        await operation.run(n++)
        const ms = performance.now() - started
        window.durations.push(ms)
        window.completed++
        window.maxByKind[operation.kind] = Math.max(window.maxByKind[operation.kind] ?? 0, ms)
        totals[operation.kind].completed++
        if (ms > totals[operation.kind].maxMs) totals[operation.kind].maxMs = ms
      } catch (error) {
        window.failed++
        totals[operation.kind].failed++
        firstError ??= describe(operation.kind, error)
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs))
    }
  }
  const running$ = operations.flatMap((operation) =>
    Array.from({ length: loops }, (_, i) => loop(operation, i * 1_000_000)),
  )

  return {
    kinds: operations.map((operation) => operation.kind),
    /** What happened since the previous call. */
    take(): Window {
      const taken = window
      window = { durations: [], completed: 0, failed: 0, retried: 0, maxByKind: {} }
      return taken
    },
    totals: () => totals,
    retried: () => retriedTotal,
    firstError: () => firstError,
    async stop(): Promise<void> {
      running = false
      await Promise.all(running$)
    },
  }
}

export type Workload = ReturnType<typeof startWorkload>

function describe(kind: Kind, error: unknown): FirstError {
  const e = error as { code?: unknown; message?: unknown; hint?: unknown }
  return {
    kind,
    code: typeof e?.code === 'string' ? e.code : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(error),
    ...(typeof e?.hint === 'string' ? { hint: e.hint } : {}),
  }
}
