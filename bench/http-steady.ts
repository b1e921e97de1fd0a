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
import { compare, comparisonTable, machine } from './measure.js'

const argument = (name: string) =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)
const rounds = Number(argument('rounds') ?? 11)
const inFlights = (argument('in-flight') ?? '16,256').split(',').map(Number)
const beforePath = argument('before')
const before =
  beforePath === undefined
    ? undefined
    : (
        (await import(new URL(beforePath, `file://${process.cwd()}/`).href)) as {
          createEndpointDispatcher: typeof createEndpointDispatcher
        }
      ).createEndpointDispatcher

const AGENT = 'undici Agent request() (raw)'
const DISPATCHER = '@privatelink/http dispatcher request()'
const BEFORE = 'the --before build request()'

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
    const earlier = before?.({
      endpoint: lab.endpoint,
      ca: server.ca,
      locality: OWN,
      keepAliveTimeoutMs: 60_000,
    })
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
        ...(earlier === undefined
          ? {}
          : {
              [BEFORE]: async (n: number) =>
                latencies(await load(earlier, `https://${HOST}`, n, inFlight), failures, BEFORE),
            }),
      },
      { operations: 2_000, rounds, warmup: Math.max(inFlight * 2, 300) },
    )
    console.log(`${comparison.title}:\n\n${comparisonTable(comparison)}\n`)
    await Promise.all([dispatcher.close(), agent.close(), earlier?.close()])
  }
  console.log(
    `failed: ${failures.size === 0 ? 'none' : [...failures].map(([k, n]) => `${n} x ${k}`).join('; ')}`,
  )
  console.log(machine())
} finally {
  server.child.disconnect()
  await lab.close()
}
