import { inspect } from 'node:util'
import mysql, { type Pool, type PoolConnection, type PoolOptions } from 'mysql2'
import type { Pool as PromisePool } from 'mysql2/promise'
import { type ConnectionPlan, connectionPlan, describePlan } from './connection-plan.js'
import type { EndpointStream } from './endpoint-stream.js'
import type { PrivateLinkMysqlOptions } from './options.js'
import { PoolRetirement } from './pool-retirement.js'

/** createPool's options: ours plus mysql2's pool and connection options (connectionLimit, ...). */
export type PrivateLinkPoolOptions = PrivateLinkMysqlOptions &
  Omit<
    PoolOptions,
    'host' | 'port' | 'user' | 'password' | 'ssl' | 'stream' | 'authPlugins' | 'database'
  >

type GetConnectionCallback = (
  error: NodeJS.ErrnoException | null,
  connection: PoolConnection,
) => void

/**
 * A mysql2 Pool (callback API; `.promise()` gives the promise pool) whose connections go through
 * the PrivateLink endpoint to RDS Proxy: own zone first with failover, IAM tokens sent with the
 * cleartext plugin over TLS verified against proxyHost.
 */
export function createPool(options: PrivateLinkPoolOptions): Pool {
  const plan = connectionPlan(options)
  // Lambda: one connection per sandbox, closed after 30 s idle (RDS Proxy's idle client timeout
  // is 30 min by default); your own connectionLimit etc. win.
  const defaults =
    plan.options.profile === 'lambda' ? { connectionLimit: 1, maxIdle: 0, idleTimeout: 30_000 } : {}
  let retirement: PoolRetirement | undefined
  const pool = mysql.createPool(
    plan.mysqlConfig(defaults, {
      retire: (stream, event) => retirement?.retire(stream, event),
      opened: (stream) => retirement?.opened(stream),
    }) as PoolOptions,
  )
  retirement = new PoolRetirement(pool, plan.options.proxyHost)
  wrapPool(pool, plan, retirement)
  return pool
}

/** createPool(options).promise(): mysql2's promise pool over the same connections. */
export function createPromisePool(options: PrivateLinkPoolOptions): PromisePool {
  return createPool(options).promise()
}

/**
 * The pool's own `getConnection` and `end`, wrapped on this instance (mysql2 exports no pool
 * config class to subclass its Pool with): a connection refused at authentication is retried
 * once after a token refresh (or a fresh read of the secret), every connect error is typed, and
 * `end` stops the connector. `query`, `execute` and the promise pool all go through them.
 */
function wrapPool(pool: Pool, plan: ConnectionPlan, retirement: PoolRetirement): void {
  const getConnection = pool.getConnection.bind(pool)
  const end = pool.end.bind(pool)
  const recover = async (error: unknown): Promise<PoolConnection> => {
    if (await plan.onAuthFailure(error).catch(() => false)) {
      try {
        return await new Promise<PoolConnection>((resolve, reject) =>
          getConnection((again, connection) => (again ? reject(again) : resolve(connection))),
        )
      } catch (again) {
        throw plan.mapError(again)
      }
    }
    throw plan.mapError(error)
  }
  Object.defineProperties(pool, {
    getConnection: {
      configurable: true,
      value(callback: GetConnectionCallback) {
        const checkout = (error: NodeJS.ErrnoException | null, connection: PoolConnection) => {
          // An idle connection the path may have forgotten (a thawed Lambda sandbox, keep-alive
          // off) leaves the pool unused and the checkout takes another: no query meets a reset.
          const stream = (connection as { stream?: { stale?: () => boolean } } | undefined)?.stream
          if (!error && stream?.stale?.() === true) {
            ;(stream as unknown as EndpointStream).release()
            connection.destroy()
            getConnection(checkout)
            return
          }
          if (!error) {
            callback(null, connection)
            return
          }
          recover(error).then(
            (retried) => callback(null, retried),
            (final: NodeJS.ErrnoException) =>
              callback(final, undefined as unknown as PoolConnection),
          )
        }
        getConnection(checkout)
      },
    },
    end: {
      configurable: true,
      value(callback?: (error: NodeJS.ErrnoException | null) => void) {
        retirement.quitAll()
        end((error: NodeJS.ErrnoException | null) => {
          plan.close()
          callback?.(error)
        })
      },
    },
    [inspect.custom]: {
      configurable: true,
      value: () => describePlan(plan, 'PrivateLinkMysqlPool'),
    },
  })
}
