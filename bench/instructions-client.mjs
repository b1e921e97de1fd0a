// One variant's load, run under `valgrind --tool=callgrind` by bench/instructions.ts, which counts
// the instructions this process executes. Plain ESM on the built packages (no tsx: its transpile
// would be counted too). Arguments: <variant> <warm-up operations> <operations>; the server's
// address comes in BENCH_TARGET (JSON). Prints nothing but errors; exit status 0 when every
// operation succeeded.
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { endpointFromConfig } from '@privatelink/core'
import { createEndpointDispatcher } from '@privatelink/http'
import { createPool } from '@privatelink/pg'
import { createRedis } from '@privatelink/redis'
import pg from 'pg'
import { Agent, request } from 'undici'

const [variant, warmArg, operationsArg] = process.argv.slice(2)
const target = JSON.parse(process.env.BENCH_TARGET ?? '{}')
const DNS_NAME =
  'vpce-0123456789abcdef0-abcd1234.vpce-svc-0123456789abcdef0.us-west-2.vpce.amazonaws.com'
const LOCALITY = { source: 'options', azName: 'us-west-2a' }

/** An endpoint whose three zones all point at the server itself: the adapter's own cost only. */
function endpoint(port) {
  return endpointFromConfig({
    dnsName: DNS_NAME,
    zones: ['a', 'b', 'c'].map((letter) => ({
      azName: `us-west-2${letter}`,
      addresses: ['127.0.0.1'],
      ...(port === undefined ? {} : { portMap: { 443: port } }),
    })),
  })
}

/** `total` operations, `concurrency` at a time. */
async function load(one, total, concurrency) {
  let started = 0
  const worker = async () => {
    while (started < total) {
      started++
      await one(started)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

const variants = {
  async 'http-agent'() {
    const agent = new Agent({
      connect: { ca: target.ca, servername: target.host },
      keepAliveTimeout: 60_000,
    })
    const url = `https://127.0.0.1:${target.port}/`
    return {
      concurrency: target.inFlight,
      one: async () => (await request(url, { dispatcher: agent })).body.dump(),
      close: () => agent.close(),
    }
  },
  async 'http-dispatcher'() {
    const dispatcher = createEndpointDispatcher({
      endpoint: endpoint(target.port),
      ca: target.ca,
      locality: LOCALITY,
      origins: [`https://${target.host}`],
      keepAliveTimeoutMs: 60_000,
    })
    const url = `https://${target.host}/`
    return {
      concurrency: target.inFlight,
      one: async () => (await request(url, { dispatcher })).body.dump(),
      close: () => dispatcher.close(),
    }
  },
  async 'pg-pool'() {
    const pool = new pg.Pool({ ...target.pg, max: 8 })
    return { concurrency: 8, one: () => pool.query('SELECT 1'), close: () => pool.end() }
  },
  async 'pg-createPool'() {
    const pool = createPool({
      endpoint: endpoint(),
      proxyHost: 'bench-db.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com',
      port: target.pg.port,
      user: target.pg.user,
      database: target.pg.database,
      region: 'us-west-2',
      auth: { password: target.pg.password },
      ssl: { insecure: 'plaintext' },
      connectorOptions: { locality: LOCALITY },
      max: 8,
    })
    return { concurrency: 8, one: () => pool.query('SELECT 1'), close: () => pool.end() }
  },
  async 'redis-ioredis'() {
    const fromRedis = createRequire(import.meta.resolve('@privatelink/redis'))
    const { Redis } = await import(pathToFileURL(fromRedis.resolve('ioredis')).href)
    const client = new Redis({ host: '127.0.0.1', port: target.redis.port })
    return redisVariant(client)
  },
  async 'redis-createRedis'() {
    const client = createRedis({
      endpoint: endpoint(),
      port: target.redis.port,
      tls: false,
      locality: LOCALITY,
    })
    return redisVariant(client)
  },
}

function redisVariant(client) {
  return {
    concurrency: 16,
    one: (n) =>
      n % 2 === 0
        ? client.set(`privatelink:bench:${n % 100}`, 'v')
        : client.get(`privatelink:bench:${n % 100}`),
    close: () => client.quit(),
  }
}

const make = variants[variant]
if (make === undefined) throw new Error(`unknown variant ${variant}`)
const { concurrency, one, close } = await make()
await load(one, Number(warmArg), concurrency)
await load(one, Number(operationsArg), concurrency)
await close()
// Timers the adapters keep (health checks, token refresh) must not hold the process up.
process.exit(0)
