import { inspect } from 'node:util'
import mysql, { type Connection, type ConnectionOptions } from 'mysql2'
import type { Connection as PromiseConnection } from 'mysql2/promise'
import { connectionPlan, describePlan } from './connection-plan.js'
import type { EndpointStream } from './endpoint-stream.js'
import type { PrivateLinkMysqlOptions } from './options.js'

/** createConnection's options: ours plus mysql2's connection options. */
export type PrivateLinkConnectionOptions = PrivateLinkMysqlOptions &
  Omit<
    ConnectionOptions,
    'host' | 'port' | 'user' | 'password' | 'ssl' | 'stream' | 'authPlugins' | 'database'
  >

/**
 * A mysql2 Connection (callback API) through the endpoint: it starts connecting at once, as
 * mysql2's does; errors are mysql2's. Its connector stops when the connection closes. For typed
 * errors and one retry after an authentication failure, use createPromiseConnection.
 */
export function createConnection(options: PrivateLinkConnectionOptions): Connection {
  const plan = connectionPlan(options)
  let opened: EndpointStream | undefined
  const connection = mysql.createConnection(
    plan.mysqlConfig(
      {},
      {
        opened: (stream) => {
          opened = stream
          stream.once('close', () => plan.close())
        },
      },
    ) as ConnectionOptions,
  )
  // Without it COM_QUIT's hang-up would read as a lost connection (an 'error' after end's callback).
  sayGoodbye(connection, () => opened)
  Object.defineProperty(connection, inspect.custom, {
    configurable: true,
    value: () => describePlan(plan, 'PrivateLinkMysqlConnection'),
  })
  return connection
}

/**
 * A connected mysql2 promise Connection: resolves once authenticated; a refusal at
 * authentication refreshes the token (or re-reads the secret) and tries once more; every error
 * is typed (ERR_MYSQL_*, ERR_TLS_*, ERR_ENDPOINT_UNREACHABLE).
 */
export async function createPromiseConnection(
  options: PrivateLinkConnectionOptions,
): Promise<PromiseConnection> {
  const plan = connectionPlan(options)
  let last: EndpointStream | undefined
  const open = () =>
    new Promise<Connection>((resolve, reject) => {
      const connection = mysql.createConnection(
        plan.mysqlConfig({}, { opened: (stream) => (last = stream) }) as ConnectionOptions,
      )
      connection.once('connect', () => {
        connection.removeListener('error', reject)
        resolve(connection)
      })
      connection.once('error', reject)
    })
  let connection: Connection
  try {
    connection = await open().catch(async (error: unknown) => {
      if (!(await plan.onAuthFailure(error).catch(() => false))) throw error
      return await open()
    })
  } catch (error) {
    plan.close()
    throw plan.mapError(error)
  }
  sayGoodbye(connection, () => last)
  // The connector lives as long as the connection's socket.
  if (last === undefined || last.destroyed) plan.close()
  else last.once('close', () => plan.close())
  Object.defineProperty(connection, inspect.custom, {
    configurable: true,
    value: () => describePlan(plan, 'PrivateLinkMysqlConnection'),
  })
  return connection.promise()
}

/**
 * `end` on this connection instance tells its stream first that the close to come is a goodbye
 * (COM_QUIT gets no answer; the server then hangs up).
 */
function sayGoodbye(connection: Connection, stream: () => EndpointStream | undefined): void {
  const end = connection.end.bind(connection) as (...args: unknown[]) => unknown
  Object.defineProperty(connection, 'end', {
    configurable: true,
    value: (...args: unknown[]) => {
      stream()?.quit()
      return end(...args)
    },
  })
}
