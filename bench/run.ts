import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { barCharts, type ChartedResults } from './bar-charts.js'
import { type ColdImportBench, coldImportBench } from './cold-import.js'
import { dnsBench } from './dns.js'
import { goals } from './goals.js'
import { type HttpBench, httpBench } from './http.js'
import { type IdleCostBench, idleCostBench } from './idle-cost.js'
import { type LambdaBundle, lambdaBundle } from './lambda-bundle.js'
import { machine, machineInfo, table } from './measure.js'
import { type MysqlBench, mysqlBench } from './mysql.js'
import { type PgBench, pgBench } from './pg.js'
import { type RedisBench, redisBench } from './redis.js'
import { type TopologyBench, topologyBench } from './topology.js'

// Every side-by-side figure, each comparison in this one process with the one method
// (measure.ts). `--quick` proves the suite works (CI); `--only=http,pg` runs some sections.
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))
if (process.argv.includes('--redraw')) {
  // Bar charts again from results/latest.json, after a change to the drawing only.
  const saved = JSON.parse(readFileSync(join(resultsDir, 'latest.json'), 'utf8')) as ChartedResults
  for (const [name, svg] of Object.entries(barCharts(saved)))
    writeFileSync(join(resultsDir, name), svg)
  process.exit()
}
const quick = process.argv.includes('--quick')
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length)
const runs = (name: string) => only === undefined || only.split(',').includes(name)
const started = new Date()
const machineAtStart = machineInfo()
const header = `${machine()}, ${started.toISOString()}${quick ? ' (quick)' : ''}`
console.log(header)

const sections: string[] = []
const charts: Record<string, string> = {}
const json: Record<string, unknown> = {
  started: started.toISOString(),
  quick,
  machine: machineAtStart,
}
const failures: string[] = []
const results: {
  http?: HttpBench
  pg?: PgBench
  mysql?: MysqlBench
  redis?: RedisBench
  coldImport?: ColdImportBench
  lambda?: LambdaBundle
  topology?: TopologyBench
  idle?: IdleCostBench
} = {}

/** Runs one section; a failure is reported and the others still run. */
async function section(name: string, run: () => Promise<void>): Promise<void> {
  if (!runs(name)) return
  const begin = performance.now()
  try {
    await run()
    console.log(sections.at(-1))
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error)
    failures.push(`${name}: ${message}`)
    sections.push(`## ${name}\n\nFailed: ${message.split('\n')[0]}`)
    console.error(`section ${name} failed:`, error)
  }
  console.log(`(${name}: ${((performance.now() - begin) / 1000).toFixed(0)} s, ${machine()})\n`)
}

await section('topology', async () => {
  const topology = await topologyBench({ quick })
  results.topology = topology
  json['topology'] = {
    packages: topology.packages,
    labCheck: topology.labCheck,
    rttMs: topology.rttMs,
  }
  charts['topology.svg'] = topology.svg
  sections.push(
    `## On an AWS-like topology: ours vs what users write today\n\n${topology.markdown}\n\n![topology](topology.svg)`,
  )
})

await section('dns', async () => {
  const dns = await dnsBench({ quick })
  json['dns'] = dns.comparison
  sections.push(
    `## DNS: cached lookups\n\nRatios against cacheable-lookup; CPU µs per lookup is the figure to read.\n\n${dns.markdown}\n\n![dns](dns.svg)`,
  )
})

await section('redis', async () => {
  const redis = await redisBench({ quick })
  results.redis = redis
  json['redis'] = redis.steady
  sections.push(
    `## Redis: createRedis vs ioredis, GET/SET, 16 in flight\n\nSame redis-server, plain TCP, the endpoint's zones pointing at it (the adapter's own cost).\n\n${redis.markdown}\n\n![redis](redis.svg)`,
  )
})

await section('pg', async () => {
  const pg = await pgBench({ quick })
  results.pg = pg
  json['pg'] = { steady: pg.steady, newConnection: pg.newConnection }
  sections.push(
    `## PostgreSQL: createPool vs pg.Pool vs aws-advanced-nodejs-wrapper\n\nSELECT 1 on the same PostgreSQL, plain TCP without TLS (the test server has none; \`ssl: { insecure: 'plaintext' }\` on our side), static password auth, the endpoint's zones pointing at the server. Pools against pg.Pool, single clients (8 queries queued on one connection) against pg.Client.\n\n${pg.markdown}\n\n![pg](pg.svg)`,
  )
})

await section('mysql', async () => {
  const mysql = await mysqlBench({ quick })
  results.mysql = mysql
  json['mysql'] = {
    steady: mysql.steady,
    steadyTls: mysql.steadyTls,
    newConnection: mysql.newConnection,
  }
  sections.push(
    `## MySQL: createPool vs mysql2 createPool\n\nSELECT 1 on the same MariaDB, plain TCP without TLS (the local server has none; \`ssl: { insecure: 'plaintext' }\` on our side), password auth, the endpoint's zones pointing at the server; then new connections through the lab's RDS Proxy for MySQL emulator.\n\n${mysql.markdown}`,
  )
})

await section('http', async () => {
  const http = await httpBench({ quick })
  results.http = http
  json['http'] = {
    steady: http.steady,
    connections: http.connections,
    steadyFailures: http.steadyFailures,
    newConnections: http.newConnections,
    bursts: http.bursts,
    warm: http.warm.rows,
    failoverTimeline: http.timeline.rows,
  }
  charts['warm-zone-loss.svg'] = http.warm.svg
  charts['failover-timeline.svg'] = http.timeline.svg
  sections.push(`## HTTP: endpoint dispatcher vs undici Agent vs undici fetch\n\n${http.markdown}`)
})

await section('cold-import', async () => {
  const coldImport = await coldImportBench({ quick })
  results.coldImport = coldImport
  json['coldImport'] = coldImport.comparison
  sections.push(
    `## Cold import (fresh processes, interleaved)\n\n${coldImport.markdown}\n\n![cold import](cold-import.svg)`,
  )
})

await section('lambda-bundle', async () => {
  const lambda = await lambdaBundle()
  results.lambda = lambda
  json['lambdaBundle'] = {
    bytes: lambda.bytes,
    containsClientEc2: lambda.containsClientEc2,
    packages: lambda.packages,
  }
  sections.push(`## Lambda example bundle\n\n${lambda.markdown}`)
})

await section('idle', async () => {
  const idle = await idleCostBench({ quick })
  results.idle = idle
  json['idleCost'] = idle.rows
  sections.push(
    `## Idle cost: many clients over many endpoints\n\nHTTP dispatchers beside plain undici Agents, each warm then idle; the labs in another process.\n\n${idle.markdown}`,
  )
})

const checked = goals(results)
json['goals'] = checked
json['machineAtEnd'] = machineInfo()
json['failures'] = failures
const goalTable = table(
  checked.map((g) => ({
    issue: `#${g.issue}`,
    goal: g.goal,
    measured: g.measured,
    met: g.met === null ? '(no goal)' : g.met ? 'met' : '**not met**',
  })),
)
Object.assign(charts, barCharts(json as ChartedResults))
const elapsed = ((Date.now() - started.getTime()) / 1000).toFixed(0)
const footer = `Finished in ${elapsed} s; ${machine()} at the end.`
const markdown = [
  '# Benchmark results',
  '',
  header,
  '',
  '`pnpm bench` (bench/run.ts). Method (bench/measure.ts): each comparison in one process, a warm-up, then at least 5 rounds with every variant once per round in rotated order; medians with min-max; ratios taken round by round against the named baseline; client CPU µs per operation from process.cpuUsage (the stable figure on a shared machine).',
  '',
  '## Goals',
  '',
  goalTable,
  '',
  '![summary](summary.svg)',
  '',
  ...sections.flatMap((s) => [s, '']),
  footer,
  '',
].join('\n')
console.log(`## Goals\n\n${goalTable}\n\n${footer}`)

const dir = quick || only !== undefined ? join(tmpdir(), 'privatelink-bench') : resultsDir
mkdirSync(dir, { recursive: true })
writeFileSync(join(dir, 'latest.md'), markdown)
writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`)
for (const [name, svg] of Object.entries(charts)) writeFileSync(join(dir, name), svg)
console.log(`results in ${dir}`)
if (failures.length > 0) {
  console.error(`${failures.length} section(s) failed`)
  process.exitCode = 1
}
// Keep-alive sockets and timers of the drivers under test must not hold the process.
process.exit()
