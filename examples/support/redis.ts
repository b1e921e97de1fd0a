import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { freePort } from './free-port.js'

/** A Redis server the examples can put the ElastiCache IAM front in front of. */
export interface RedisServer {
  host: string
  port: number
  /** `env` (REDIS_URL), `local` (127.0.0.1:6379) or `started` (redis-server, stopped by stop()). */
  source: 'env' | 'local' | 'started'
  stop(): Promise<void>
}

/**
 * Redis for the demo and the examples: `REDIS_URL`; a server answering PING on 127.0.0.1:6379;
 * `redis-server` from PATH on a free port. When none can be had, `{ unavailable }` says why
 * (the callers skip their Redis part rather than fail).
 */
export async function findRedis(
  env: Record<string, string | undefined> = process.env,
  /** Where to look for a local server, and the binary to start when none answers. */
  local: { port?: number; binary?: string } = {},
): Promise<RedisServer | { unavailable: string }> {
  const fromEnv = env['REDIS_URL']
  if (fromEnv !== undefined && fromEnv !== '') {
    const url = new URL(fromEnv)
    return {
      host: url.hostname,
      port: Number(url.port || 6379),
      source: 'env',
      stop: async () => {},
    }
  }
  const port = local.port ?? 6379
  if (await answersPing('127.0.0.1', port, 1000))
    return { host: '127.0.0.1', port, source: 'local', stop: async () => {} }
  return await startRedisServer(port, local.binary ?? 'redis-server')
}

/** True when `host:port` answers PING with PONG within `timeoutMs`. */
export function answersPing(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (answer: boolean) => {
      socket.destroy()
      resolve(answer)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')))
  })
}

async function startRedisServer(
  localPort: number,
  binary: string,
): Promise<RedisServer | { unavailable: string }> {
  const port = await freePort()
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  const spawned = await new Promise<Error | null>((resolve) => {
    child.once('error', resolve)
    child.once('spawn', () => resolve(null))
  })
  if (spawned !== null)
    return {
      unavailable: `no Redis on 127.0.0.1:${localPort} and no ${binary} to start (${(spawned as NodeJS.ErrnoException).code ?? spawned.message}); apt-get install redis-server adds it`,
    }
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  }
  // redis-server needs a few milliseconds to bind; it is ready when it answers PING.
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await answersPing('127.0.0.1', port, 200))
      return { host: '127.0.0.1', port, source: 'started', stop }
    if (child.exitCode !== null) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await stop()
  return { unavailable: `${binary} started on port ${port} but never answered PING` }
}
