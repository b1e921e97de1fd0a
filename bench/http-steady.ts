// Only the steady-state comparison of bench/http.ts (request(), keep-alive, 16 and 256 in flight),
// for checking a change to the dispatcher's hot path without the whole ~3 minute suite:
//   pnpm --filter @privatelink/http build
//   pnpm tsx --tsconfig bench/tsconfig.json bench/http-steady.ts [--rounds=11] [--in-flight=16,256]
// `--before=<dist/index.js of an earlier build>` adds that build's dispatcher as a third variant,
// so a change is measured before and after in one run.
import { createEndpointDispatcher } from '@privatelink/http'
import { startLab } from '@privatelink/lab'
import { Agent } from 'undici'
import { HOST, latencies, load, OWN, startServer } from './http.js'
import { compare, comparisonTable, machine, spread } from './measure.js'

const argument = (name: string) =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)
const rounds = Number(argument('rounds') ?? 11)
const inFlights = (argument('in-flight') ?? '16,256').split(',').map(Number)
// Other builds' dispatchers, each a variant named after its folder (packages/http/dist-before/index.js).
const others = await Promise.all(
  (argument('before') ?? '')
    .split(',')
    .filter((path) => path !== '')
    .map(async (path) => {
      const module = (await import(new URL(path, `file://${process.cwd()}/`).href)) as {
        createEndpointDispatcher: typeof createEndpointDispatcher
      }
      return {
        name: `${path.split('/').at(-2)} request()`,
        create: module.createEndpointDispatcher,
      }
    }),
)

const AGENT = 'undici Agent request() (raw)'
const DISPATCHER = '@privatelink/http dispatcher request()'

console.log(machine())
const server = await startServer()
const lab = await startLab({
  privateDnsName: HOST,
  services: [{ name: 'api', port: 443, target: { host: '127.0.0.1', port: server.port } }],
})
const own = lab.zone('us-west-2a')
const ownUrl = `https://${own.address}:${lab.endpoint.zones[0]!.portMap?.['443'] ?? 443}`
const failures = new Map<string, number>()
try {
  for (const inFlight of inFlights) {
    const dispatcher = createEndpointDispatcher({
      endpoint: lab.endpoint,
      ca: server.ca,
      locality: OWN,
      keepAliveTimeoutMs: 60_000,
    })
    const earlier = others.map(({ name, create }) => ({
      name,
      dispatcher: create({
        endpoint: lab.endpoint,
        ca: server.ca,
        locality: OWN,
        keepAliveTimeoutMs: 60_000,
      }),
    }))
    const agent = new Agent({
      connect: { ca: server.ca, servername: HOST },
      keepAliveTimeout: 60_000,
    })
    const comparison = await compare(
      `HTTPS keep-alive, ${inFlight} in flight`,
      'req',
      {
        [AGENT]: async (n) => latencies(await load(agent, ownUrl, n, inFlight), failures, AGENT),
        [DISPATCHER]: async (n) =>
          latencies(await load(dispatcher, `https://${HOST}`, n, inFlight), failures, DISPATCHER),
        ...Object.fromEntries(
          earlier.map(({ name, dispatcher: other }) => [
            name,
            async (n: number) =>
              latencies(await load(other, `https://${HOST}`, n, inFlight), failures, name),
          ]),
        ),
      },
      { operations: 2_000, rounds, warmup: Math.max(inFlight * 2, 300) },
    )
    console.log(`${comparison.title}:\n\n${comparisonTable(comparison)}\n`)
    const roundsOf = (name: string) =>
      comparison.variants.find((variant) => variant.name === name)?.rounds ?? []
    for (const { name } of earlier) {
      const ours = roundsOf(DISPATCHER)
      const theirs = roundsOf(name)
      const cpu = spread(ours.map((r, i) => r.cpuMicrosPerOp / (theirs[i]?.cpuMicrosPerOp ?? 1)))
      const rps = spread(ours.map((r, i) => r.opsPerSecond / (theirs[i]?.opsPerSecond ?? 1)))
      console.log(
        `this build vs ${name}, per-round medians (min-max): CPU ${cpu.median.toFixed(3)}x (${cpu.min.toFixed(2)}-${cpu.max.toFixed(2)}), req/s ${rps.median.toFixed(3)}x (${rps.min.toFixed(2)}-${rps.max.toFixed(2)})\n`,
      )
    }
    await Promise.all([
      dispatcher.close(),
      agent.close(),
      ...earlier.map((e) => e.dispatcher.close()),
    ])
  }
  console.log(
    `failed: ${failures.size === 0 ? 'none' : [...failures].map(([k, n]) => `${n} x ${k}`).join('; ')}`,
  )
  console.log(machine())
} finally {
  server.child.disconnect()
  await lab.close()
}
