// Client CPU per operation as instructions counted by valgrind's callgrind, ours vs the raw library
// on the same server: a figure that does not move with the machine's load, where bench/measure.ts's
// process.cpuUsage ratios swing ±20% per round on a busy 2-core machine.
//   pnpm build
//   pnpm tsx --tsconfig bench/tsconfig.json bench/instructions.ts [--only=http,pg,redis] [--repeat=2]
// Each variant runs in its own process (bench/instructions-client.mjs) twice per repeat: a warm-up
// then N1 operations, and the same warm-up then N2; instructions per operation are
// (I(N2) - I(N1)) / (N2 - N1), so start-up, module loading, the warm-up and JIT compilation
// cancel out. The servers (HTTPS, PostgreSQL, Redis) run outside the counted process.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { HOST, startServer } from './http.js'
import { machine } from './measure.js'

const argument = (name: string) =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)
const only = argument('only')?.split(',')
const repeat = Number(argument('repeat') ?? 2)
const client = fileURLToPath(new URL('./instructions-client.mjs', import.meta.url))

/** Instructions the client process executed for `operations` after `warm` operations. */
async function count(variant: string, warm: number, operations: number, env: string) {
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      // V8 writes and rewrites machine code: valgrind must notice (not file-backed code only).
      '--smc-check=all-non-file',
      process.execPath,
      client,
      variant,
      String(warm),
      String(operations),
    ],
    { env: { ...process.env, BENCH_TARGET: env }, stdio: ['ignore', 'inherit', 'pipe'] },
  )
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const status = await new Promise<number | null>((resolve) => child.once('close', resolve))
  const collected = /Collected\s*:\s*(\d+)/.exec(stderr)
  if (status !== 0 || collected === null)
    throw new Error(`${variant}: exit ${status}\n${stderr.split('\n').slice(-20).join('\n')}`)
  return Number(collected[1])
}

interface Row {
  comparison: string
  variant: string
  perOperation: number[]
}

async function perOperation(
  comparison: string,
  variant: string,
  sizes: { warm: number; n1: number; n2: number },
  env: string,
): Promise<Row> {
  const values: number[] = []
  for (let i = 0; i < repeat; i++) {
    const small = await count(variant, sizes.warm, sizes.n1, env)
    const large = await count(variant, sizes.warm, sizes.n2, env)
    values.push((large - small) / (sizes.n2 - sizes.n1))
  }
  return { comparison, variant, perOperation: values }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

console.log(`${machine()}, repeat ${repeat}`)
const rows: Row[] = []
const pgUrl = new URL(process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres')
const redisUrl = new URL(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379')
const comparisons: {
  name: string
  key: string
  raw: string
  ours: string
  sizes: { warm: number; n1: number; n2: number }
}[] = [
  {
    name: 'HTTPS request(), keep-alive, 16 in flight',
    key: 'http',
    raw: 'http-agent',
    ours: 'http-dispatcher',
    sizes: { warm: 1000, n1: 1000, n2: 3000 },
  },
  {
    name: 'PostgreSQL SELECT 1, pool of 8, 8 in flight',
    key: 'pg',
    raw: 'pg-pool',
    ours: 'pg-createPool',
    sizes: { warm: 2000, n1: 2000, n2: 6000 },
  },
  {
    name: 'Redis GET/SET, 16 in flight',
    key: 'redis',
    raw: 'redis-ioredis',
    ours: 'redis-createRedis',
    sizes: { warm: 4000, n1: 4000, n2: 12_000 },
  },
]
const server = await startServer()
try {
  const env = JSON.stringify({
    host: HOST,
    port: server.port,
    ca: server.ca,
    inFlight: 16,
    pg: {
      host: pgUrl.hostname,
      port: Number(pgUrl.port || 5432),
      user: decodeURIComponent(pgUrl.username || 'postgres'),
      password: decodeURIComponent(pgUrl.password),
      database: pgUrl.pathname.slice(1) || 'postgres',
    },
    redis: { port: Number(redisUrl.port || 6379) },
  })
  for (const comparison of comparisons) {
    if (only !== undefined && !only.includes(comparison.key)) continue
    for (const variant of [comparison.raw, comparison.ours]) {
      const row = await perOperation(comparison.name, variant, comparison.sizes, env)
      rows.push(row)
      console.log(`${comparison.name}: ${variant}: ${row.perOperation.map(Math.round).join(', ')}`)
    }
  }
} finally {
  server.child.kill()
}

const lines = [
  '| comparison | raw library: instructions/op | ours: instructions/op | ratio |',
  '| --- | --- | --- | --- |',
]
for (const comparison of comparisons) {
  const raw = rows.find((row) => row.variant === comparison.raw)
  const ours = rows.find((row) => row.variant === comparison.ours)
  if (raw === undefined || ours === undefined) continue
  const spread = (row: Row) =>
    `${Math.round(median(row.perOperation)).toLocaleString('en')} (${row.perOperation
      .map((value) => Math.round(value).toLocaleString('en'))
      .join(' / ')})`
  lines.push(
    `| ${comparison.name} | ${spread(raw)} | ${spread(ours)} | ${(median(ours.perOperation) / median(raw.perOperation)).toFixed(3)}x |`,
  )
}
console.log(`\n${lines.join('\n')}`)
