import { PrivateLinkError } from '@privatelink/core'
import { request } from 'undici'
import { captureError } from './capture.js'
import type { App, Kind } from './clients.js'
import { API_HOST } from './stack.js'

export interface Outcome {
  kind: Kind
  started: number
  ended: number
  ok: boolean
  /** The error's `code` (PrivateLinkError, undici, Node), or its class name. */
  code?: string
  /** A PrivateLinkError (a typed error with a stable code and a hint). */
  typed?: boolean
  /** The stack of an untyped failure (bug reports). */
  stack?: string
}

export interface Load {
  outcomes: Outcome[]
  completed(kind?: Kind): number
  /** Stops the workers; operations still running after `graceMs` are returned as stuck. */
  stop(graceMs?: number): Promise<{ stuck: { kind: Kind; startedMsAgo: number }[] }>
}

const codeOf = (error: unknown): string => {
  const e = error as { code?: unknown; name?: unknown }
  if (typeof e?.code === 'string') return e.code
  return typeof e?.name === 'string' ? e.name : typeof error
}

/**
 * `workers` loops per client, each one operation at a time with a short random pause, as request
 * handlers of a busy service: idempotent GETs, `SELECT $1`, SET then GET of the worker's own key.
 */
export function startLoad(app: App, options: { workers?: number; prefix?: string } = {}): Load {
  const workers = options.workers ?? 16
  const prefix = options.prefix ?? 'privatelink:reliability'
  const outcomes: Outcome[] = []
  const running = new Map<number, { kind: Kind; started: number }>()
  let nextId = 0
  let stopped = false
  const operations: [Kind, (n: number, worker: number) => Promise<void>][] = [
    [
      'http',
      async (n) => {
        const response = await request(`https://${API_HOST}/load/${n}`, {
          dispatcher: app.http,
        })
        await response.body.dump()
        if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`)
      },
    ],
    [
      'pg',
      async (n) => {
        const { rows } = await app.pool.query<{ n: number }>('SELECT $1::int AS n', [n])
        if (rows[0]?.n !== n) throw new Error(`SELECT returned ${rows[0]?.n} for ${n}`)
      },
    ],
  ]
  const redis = app.redis
  if (redis !== undefined)
    operations.push([
      'redis',
      async (n, worker) => {
        const key = `${prefix}:${worker}`
        await redis.set(key, String(n))
        const value = await redis.get(key)
        if (value !== String(n)) throw new Error(`GET ${key} returned ${value}, not ${n}`)
      },
    ])
  const loops = operations.flatMap(([kind, run]) =>
    Array.from({ length: workers }, async (_, worker) => {
      let n = worker * 1_000_000
      while (!stopped) {
        const id = nextId++
        const started = performance.now()
        running.set(id, { kind, started })
        try {
          await run(n++, worker)
          outcomes.push({ kind, started, ended: performance.now(), ok: true })
        } catch (error) {
          captureError(error)
          outcomes.push({
            kind,
            started,
            ended: performance.now(),
            ok: false,
            code: codeOf(error),
            typed: PrivateLinkError.isInstance(error),
            ...(PrivateLinkError.isInstance(error)
              ? {}
              : { stack: String((error as Error)?.stack) }),
          })
        } finally {
          running.delete(id)
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10))
      }
    }),
  )
  return {
    outcomes,
    completed: (kind) =>
      outcomes.filter((o) => o.ok && (kind === undefined || o.kind === kind)).length,
    stop: async (graceMs = 10_000) => {
      stopped = true
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all(loops),
        new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs)
        }),
      ])
      clearTimeout(timer)
      const now = performance.now()
      return {
        stuck: [...running.values()].map((r) => ({ kind: r.kind, startedMsAgo: now - r.started })),
      }
    },
  }
}
