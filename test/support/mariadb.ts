import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import mysql from 'mysql2/promise'
import { freePort } from './free-port.js'

const run = promisify(execFile)

/** A MariaDB (or MySQL) server for tests: where it is, and how to stop it if it was started here. */
export interface MariadbHandle {
  host: string
  port: number
  user: string
  password: string
  database: string
  source: 'env' | 'local' | 'started'
  stop(): Promise<void>
}

export type MariadbResult = MariadbHandle | { unavailable: string }

/** True when the server logs `user` in with `password` and answers `SELECT 1`. */
export async function mariadbAnswers(target: {
  host: string
  port: number
  user: string
  password: string
}): Promise<boolean> {
  const connection = await mysql
    .createConnection({ ...target, connectTimeout: 1500 })
    .catch(() => undefined)
  if (connection === undefined) return false
  try {
    await connection.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    connection.destroy()
  }
}

/**
 * MariaDB for tests, found in this order: `MYSQL_URL` (mysql://user:password@host:port/db); the
 * machine's server on 127.0.0.1:3306 (root, empty password, as Debian's mariadb-server sets it
 * up); else a private `mariadbd` from Debian's binaries in a temporary datadir on a random port,
 * with ordinary authentication (root@localhost, empty password: the same login as the machine's).
 * `PRIVATELINK_TEST_SERVICES=start` goes straight to starting one. When none can be had the
 * result says why, so the caller skips with that reason.
 */
export async function findMariadb(
  env: Record<string, string | undefined> = process.env,
): Promise<MariadbResult> {
  const fromEnv = env['MYSQL_URL']
  if (env['PRIVATELINK_TEST_SERVICES'] !== 'start') {
    if (fromEnv !== undefined && fromEnv !== '') {
      const url = new URL(fromEnv)
      return {
        host: url.hostname,
        port: Number(url.port || 3306),
        user: decodeURIComponent(url.username || 'root'),
        password: decodeURIComponent(url.password),
        database: url.pathname.slice(1) || 'test',
        source: 'env',
        stop: async () => {},
      }
    }
    const local = { host: '127.0.0.1', port: 3306, user: 'root', password: '' }
    if (await mariadbAnswers(local)) {
      await ensureDatabase(local, 'test')
      return { ...local, database: 'test', source: 'local', stop: async () => {} }
    }
  }
  return await startMariadb()
}

async function ensureDatabase(
  target: { host: string; port: number; user: string; password: string },
  database: string,
): Promise<void> {
  const connection = await mysql.createConnection(target)
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``)
  } finally {
    connection.destroy()
  }
}

async function startMariadb(): Promise<MariadbResult> {
  const installDb = await which(['mariadb-install-db', 'mysql_install_db'])
  const daemon = await which(['mariadbd', 'mysqld', '/usr/sbin/mariadbd', '/usr/sbin/mysqld'])
  if (installDb === undefined || daemon === undefined)
    return {
      unavailable:
        'no MariaDB answers on 127.0.0.1:3306 (root, no password) and mariadb-install-db / mariadbd are not installed: apt-get install -y mariadb-server mariadb-client, or set MYSQL_URL',
    }
  const dir = await mkdtemp(join(tmpdir(), 'privatelink-mariadb-'))
  const datadir = join(dir, 'data')
  const socket = join(dir, 'mysqld.sock')
  // As root, mariadbd runs only with --user=root; as anyone else, as that user.
  const asUser = process.getuid?.() === 0 ? ['--user=root'] : []
  try {
    // Ordinary grant tables (no --skip-grant-tables): root@localhost with an empty password and
    // mysql_native_password, so logins are checked as on the machine's server.
    await run(installDb, [
      '--no-defaults',
      `--datadir=${datadir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...asUser,
    ])
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    return { unavailable: `mariadb-install-db failed: ${(error as Error).message.split('\n')[0]}` }
  }
  const port = await freePort()
  const child: ChildProcess = spawn(
    daemon,
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${socket}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=16M',
      ...asUser,
    ],
    { stdio: 'ignore' },
  )
  const stop = async () => {
    if (child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
    }
    await rm(dir, { recursive: true, force: true })
  }
  const target = { host: '127.0.0.1', port, user: 'root', password: '' }
  for (let attempt = 0; attempt < 150 && child.exitCode === null; attempt++) {
    if (await mariadbAnswers(target)) {
      await ensureDatabase(target, 'test')
      return { ...target, database: 'test', source: 'started', stop }
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await stop()
  return { unavailable: `${daemon} did not answer on 127.0.0.1:${port} within 15 s` }
}

async function which(names: string[]): Promise<string | undefined> {
  for (const name of names) {
    const found = await run('sh', ['-c', `command -v ${name}`]).catch(() => undefined)
    const path = found?.stdout.trim()
    if (path !== undefined && path !== '') return path
  }
  return undefined
}
