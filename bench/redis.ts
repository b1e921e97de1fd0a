import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { endpointFromConfig } from '@privatelink/core'
import { createRedis } from '@privatelink/redis'
import { type Comparison, compare, comparisonTable, machine } from './measure.js'

// The ioredis copy @privatelink/redis itself loads, so both variants run the same driver.
const fromRedisPackage = createRequire(new URL('../packages/redis/package.json', import.meta.url))
const ioredisPath = fromRedisPackage.resolve('ioredis')
/** The part of ioredis the bench drives (the bench package does not depend on ioredis itself). */
interface Client {
  set(key: string, value: string): Promise<unknown>
  get(key: string): Promise<unknown>
  connect(): Promise<void>
  disconnect(): void
}
const { Redis } = (await import(pathToFileURL(ioredisPath).href)) as {
  Redis: new (options: { host: string; port: number; lazyConnect: boolean }) => Client
}

/** `operations` commands (SET and GET alternately) with `concurrency` in flight. */
async function load(client: Client, operations: number, concurrency: number): Promise<void> {
  let issued = 0
  const worker = async (id: number) => {
    while (issued < operations) {
      const n = issued++
      const key = `privatelink:bench:${id}:${n % 100}`
      if (n % 2 === 0) await client.set(key, 'v')
      else await client.get(key)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, id) => worker(id)))
}

export interface RedisBench {
  steady: Comparison
  markdown: string
}

/**
 * createRedis vs raw ioredis against the same redis-server (127.0.0.1:6379 or REDIS_URL), plain
 * TCP, no auth, 16 in flight, interleaved in one process: the adapter's cost once connected. The
 * endpoint's zones all point at the server itself, so no relay is measured.
 */
export async function redisBench(options: { quick?: boolean } = {}): Promise<RedisBench> {
  const url = new URL(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379')
  const host = url.hostname
  const port = Number(url.port || 6379)
  const raw = new Redis({ host, port, lazyConnect: true })
  const endpoint = endpointFromConfig({
    dnsName:
      'vpce-0123456789abcdef0-abcd1234.vpce-svc-0123456789abcdef0.us-west-2.vpce.amazonaws.com',
    zones: ['a', 'b', 'c'].map((letter) => ({ azName: `us-west-2${letter}`, addresses: [host] })),
  })
  const adapted = createRedis({
    endpoint,
    port,
    tls: false,
    locality: { source: 'options', azName: 'us-west-2a' },
    lazyConnect: true,
  })
  try {
    await Promise.all([raw.connect(), adapted.connect()])
    const operations = options.quick ? 10_000 : 40_000
    const steady = await compare(
      'Redis GET/SET, 16 in flight',
      'op',
      {
        'ioredis (raw)': (n) => load(raw, n, 16),
        '@privatelink/redis createRedis': (n) => load(adapted, n, 16),
      },
      { operations, rounds: 5 },
    )
    return { steady, markdown: comparisonTable(steady) }
  } finally {
    raw.disconnect()
    adapted.disconnect()
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(machine())
  const result = await redisBench({ quick: process.argv.includes('--quick') })
  console.log(`\n## Redis: createRedis vs ioredis, 16 in flight\n\n${result.markdown}`)
}
