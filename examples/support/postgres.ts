import { connect } from 'node:net'
import { startEmbeddedPostgres } from './embedded-postgres.js'

/** A PostgreSQL server the examples can put the RDS Proxy emulator in front of. */
export interface PostgresServer {
  host: string
  port: number
  user: string
  /** Absent for trust authentication. */
  password?: string
  database: string
  /** `env` (PG_URL), `local` (127.0.0.1:5432) or `embedded` (started here, stopped by stop()). */
  source: 'env' | 'local' | 'embedded'
  stop(): Promise<void>
}

const noop = async () => {}

/**
 * PostgreSQL for the demo and the examples, with nothing to configure: `PG_URL` when set; the
 * server on 127.0.0.1:5432 when it lets `postgres` in without a password; else a throwaway one
 * from the `embedded-postgres` package on a free port, with a random password, in a child
 * process (embedded-postgres.ts says why; its data folder removed by `stop()`).
 */
export async function findPostgres(
  env: Record<string, string | undefined> = process.env,
  /** Where to look for a local server. @default 5432 */
  localPort = 5432,
): Promise<PostgresServer> {
  const fromEnv = env['PG_URL']
  if (fromEnv !== undefined && fromEnv !== '') {
    const url = new URL(fromEnv)
    const password = decodeURIComponent(url.password)
    return {
      host: url.hostname,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username || 'postgres'),
      ...(password === '' ? {} : { password }),
      database: url.pathname.slice(1) || 'postgres',
      source: 'env',
      stop: noop,
    }
  }
  if (await trustLogin('127.0.0.1', localPort, 'postgres')) {
    return {
      host: '127.0.0.1',
      port: localPort,
      user: 'postgres',
      database: 'postgres',
      source: 'local',
      stop: noop,
    }
  }
  return await startEmbedded()
}

/**
 * True when the server answers a StartupMessage for `user` with AuthenticationOk (trust). Spoken
 * on the wire so the examples need no driver of their own; anything else (a password asked,
 * refused, nothing listening, silence for a second) is false.
 */
export function trustLogin(host: string, port: number, user: string): Promise<boolean> {
  const parameters = Buffer.from(`user\0${user}\0database\0postgres\0\0`)
  const startup = Buffer.alloc(8 + parameters.length)
  startup.writeInt32BE(startup.length, 0)
  startup.writeInt32BE(196_608, 4) // protocol 3.0
  parameters.copy(startup, 8)
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    let received = Buffer.alloc(0)
    const done = (answer: boolean) => {
      socket.destroy()
      resolve(answer)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write(startup))
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 9) return
      // 'R', length 8, code 0 = AuthenticationOk.
      done(received[0] === 0x52 && received.readInt32BE(5) === 0)
    })
  })
}

async function startEmbedded(): Promise<PostgresServer> {
  const server = await startEmbeddedPostgres({ prefix: 'privatelink-demo-pg-' })
  return { ...server, database: 'postgres', source: 'embedded', stop: () => server.stop() }
}
