import pg from 'pg'
import { startEmbeddedPostgres } from '../../examples/support/embedded-postgres.js'

export type ServiceSource = 'env' | 'local' | 'started'

export interface ServiceHandle {
  url: string
  source: ServiceSource
  stop(): Promise<void>
}

export interface FindPostgresOptions {
  /** Environment to read `PG_URL` from. @default process.env */
  env?: Record<string, string | undefined>
  /**
   * The server tried when `PG_URL` is unset. With trust authentication the password is ignored;
   * it is there so that the URL always carries a user and a password, as tests read them from it.
   * @default 'postgres://postgres:postgres@127.0.0.1:5432/postgres'
   */
  localUrl?: string
}

const noop = async () => {}

/** True when a PostgreSQL server at `url` accepts a login and answers `SELECT 1`. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

/**
 * PostgreSQL for tests, found in this order: `PG_URL`; a server on 127.0.0.1:5432; a throwaway
 * server from the `embedded-postgres` package on a random port, with a random password (stopped
 * by `stop()`). `PRIVATELINK_TEST_SERVICES=start` skips the first two, as on a machine with
 * nothing on loopback. The URL carries the user and password to use: tests take them from it
 * (`inject('pgUrl')`) and assume no authentication method.
 */
export async function findPostgres(options: FindPostgresOptions = {}): Promise<ServiceHandle> {
  const env = options.env ?? process.env
  if (env['PRIVATELINK_TEST_SERVICES'] === 'start') return startEmbedded()
  const fromEnv = env['PG_URL']
  if (fromEnv !== undefined && fromEnv !== '') return { url: fromEnv, source: 'env', stop: noop }
  const localUrl = options.localUrl ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres'
  if (await postgresAnswers(localUrl)) return { url: localUrl, source: 'local', stop: noop }
  return startEmbedded()
}

async function startEmbedded(): Promise<ServiceHandle> {
  const server = await startEmbeddedPostgres({ prefix: 'privatelink-pg-' })
  const user = encodeURIComponent(server.user)
  const password = encodeURIComponent(server.password)
  return {
    url: `postgres://${user}:${password}@${server.host}:${server.port}/postgres`,
    source: 'started',
    stop: () => server.stop(),
  }
}
