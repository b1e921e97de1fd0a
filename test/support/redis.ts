import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { freePort } from './free-port.js'
import type { ServiceHandle } from './postgres.js'

export interface FindRedisOptions {
  /** Environment to read `REDIS_URL` from. @default process.env */
  env?: Record<string, string | undefined>
  /** @default 'redis://127.0.0.1:6379' */
  localUrl?: string
  /** The server binary started when nothing answers. @default 'redis-server' */
  binary?: string
}

export type RedisResult = ServiceHandle | { unavailable: string }

/** True when the server at `url` answers PING with PONG. */
export function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) })
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

/**
 * Redis for tests: `REDIS_URL`; a server on 127.0.0.1:6379; `redis-server` from PATH on a random
 * port (`PRIVATELINK_TEST_SERVICES=start` goes straight to that). When none can be had the result
 * says why instead of throwing, so callers choose between skipping and failing.
 */
export async function findRedis(options: FindRedisOptions = {}): Promise<RedisResult> {
  const env = options.env ?? process.env
  if (env['PRIVATELINK_TEST_SERVICES'] === 'start')
    return startRedis(options.binary ?? 'redis-server')
  const fromEnv = env['REDIS_URL']
  if (fromEnv !== undefined && fromEnv !== '')
    return { url: fromEnv, source: 'env', stop: async () => {} }
  const localUrl = options.localUrl ?? 'redis://127.0.0.1:6379'
  if (await redisAnswers(localUrl)) return { url: localUrl, source: 'local', stop: async () => {} }
  return startRedis(options.binary ?? 'redis-server')
}

async function startRedis(binary: string): Promise<RedisResult> {
  const port = await freePort()
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  )
  const spawned = await new Promise<Error | null>((resolve) => {
    child.once('error', resolve)
    child.once('spawn', () => resolve(null))
  })
  if (spawned !== null) {
    return {
      unavailable: `${binary} could not be started (${spawned.message}); install it with: apt-get install -y redis-server`,
    }
  }
  const url = `redis://127.0.0.1:${port}`
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await redisAnswers(url, 200)) {
      return {
        url,
        source: 'started',
        stop: () =>
          new Promise<void>((resolve) => {
            child.once('exit', () => resolve())
            child.kill('SIGTERM')
          }),
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  child.kill('SIGKILL')
  return { unavailable: `${binary} started but did not answer PING on ${url}` }
}
