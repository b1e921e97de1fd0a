import { type ChildProcess, fork } from 'node:child_process'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { Endpoint } from '@privatelink/core'
import { createEndpointDispatcher } from '@privatelink/http'
import { Agent, type Dispatcher, request } from 'undici'
import { machine, table } from './measure.js'

// Issue 30: what idle clients cost. N clients (HTTP dispatchers, or plain undici Agents beside
// them) spread over E endpoints, each with one warm keep-alive connection, then idle; the client
// CPU over the idle window, the health-check connections the labs accepted, and the memory the
// clients hold. The labs and the HTTPS service run in another process (idle-cost-lab.ts), so
// every CPU figure is the client's alone. Run on built dist:
//   pnpm --filter @privatelink/dns --filter @privatelink/core --filter @privatelink/http build
//   pnpm tsx --tsconfig bench/tsconfig.json bench/idle-cost.ts [--quick]

const HOST = 'api.bench.example.com'
const OWN = { source: 'options' as const, azId: 'usw2-az1' }
/** The first check round runs within one interval (2 s by default) of the first connection. */
const STEADY_AFTER_MS = 2_500

/** One idle scenario's figures. */
export interface IdleRow {
  client: 'dispatcher' | 'agent'
  clients: number
  endpoints: number
  idleMs: number
  /** Client CPU over the idle window (the whole process: the Agent rows are the floor). */
  cpuMs: number
  /** cpuMs as a share of one core, in percent. */
  corePercent: number
  /** Connections the labs accepted during the window, per second (health checks). */
  checksPerSecond: number
  /** Heap + external memory held after warm-up (after GC), less the empty process's, in MB. */
  memoryMb: number
}

/** The curve and the figures per endpoint and per client. */
export interface IdleCostBench {
  rows: IdleRow[]
  /** Idle CPU per endpoint (one client each) beyond as many Agents, % of a core: (20 over 20 - 20 Agents) / 20. */
  cpuPerEndpointPercent: number
  /** Idle CPU per client past the first on one endpoint, beyond an Agent's, % of a core. */
  cpuPerExtraClientPercent: number
  /** Memory per endpoint (one client each) beyond as many Agents, MB: (20 over 20 - 20 Agents) / 20. */
  memoryPerEndpointMb: number
  /** Memory per client past the first on one endpoint, beyond an Agent's, MB. */
  memoryPerExtraClientMb: number
  markdown: string
}

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 200))
}

function memory(): number {
  gc()
  gc()
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.external
}

async function ask<T>(child: ChildProcess, message: object, key: string): Promise<T> {
  return new Promise<T>((resolve) => {
    const listener = (reply: Record<string, unknown>) => {
      if (!(key in reply)) return
      child.off('message', listener)
      resolve(reply as T)
    }
    child.on('message', listener)
    child.send(message)
  })
}

interface Lab {
  child: ChildProcess
  endpoints: (n: number) => Promise<{ endpoints: Endpoint[]; ca: string }>
  accepted: () => Promise<number>
}

async function startLabProcess(): Promise<Lab> {
  const child = fork(new URL('./idle-cost-lab.ts', import.meta.url), {
    env: { ...process.env, BENCH_HOST: HOST },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  await new Promise<void>((resolve) => child.once('message', () => resolve()))
  return {
    child,
    endpoints: (n) => ask(child, { endpoints: n }, 'endpoints'),
    accepted: async () =>
      (await ask<{ accepted: number }>(child, { stats: true }, 'accepted')).accepted,
  }
}

/** One warm request per client, a few at a time (1000 TLS handshakes at once would time out). */
async function warm(clients: { dispatcher: Dispatcher; origin: string }[]): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < clients.length) {
      const client = clients[next++]
      if (client === undefined) return
      const response = await request(`${client.origin}/`, { dispatcher: client.dispatcher })
      await response.body.dump()
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
}

async function idleWindow(lab: Lab, idleMs: number): Promise<{ cpuMs: number; checks: number }> {
  const accepted = await lab.accepted()
  const before = process.cpuUsage()
  await new Promise((resolve) => setTimeout(resolve, idleMs))
  const used = process.cpuUsage(before)
  const checks = (await lab.accepted()) - accepted
  return { cpuMs: (used.user + used.system) / 1000, checks }
}

/** The idle cost curve, dispatchers beside plain undici Agents. */
export async function idleCostBench(
  options: { quick?: boolean; idleMs?: number; counts?: number[] } = {},
): Promise<IdleCostBench> {
  const quick = options.quick === true
  const idleMs = options.idleMs ?? (quick ? 2_000 : 10_000)
  const counts = options.counts ?? (quick ? [1, 10, 20] : [1, 10, 20, 100, 1000])
  const lab = await startLabProcess()
  try {
    const { endpoints, ca } = await lab.endpoints(20)
    await settle()
    const emptyMemory = memory()
    const rows: IdleRow[] = []
    const scenarios: {
      client: IdleRow['client']
      clients: number
      endpoints: number
      warmUp?: boolean
    }[] = []
    for (const clients of counts) {
      scenarios.push({ client: 'agent', clients, endpoints: 1 })
      scenarios.push({ client: 'dispatcher', clients, endpoints: 1 })
      if (clients >= 20) scenarios.push({ client: 'dispatcher', clients, endpoints: 20 })
    }
    // A first pass not recorded: the first scenario would otherwise carry the process's own
    // warm-up (lazy compilation, the first TLS contexts) in its window.
    scenarios.unshift({ client: 'agent', clients: 1, endpoints: 1, warmUp: true })
    for (const scenario of scenarios) {
      const used = endpoints.slice(0, scenario.endpoints)
      const clients = Array.from({ length: scenario.clients }, (_, index) => {
        const endpoint = used[index % used.length] as Endpoint
        if (scenario.client === 'agent') {
          const zone = endpoint.zones[0]
          const port = zone?.portMap?.['443'] ?? 443
          return {
            dispatcher: new Agent({ connect: { ca, servername: HOST }, keepAliveTimeout: 600_000 }),
            origin: `https://${zone?.addresses[0]}:${port}`,
          }
        }
        return {
          dispatcher: createEndpointDispatcher({
            endpoint,
            ca,
            locality: OWN,
            keepAliveTimeoutMs: 600_000,
            // The bench lab's path keeps idle flows for an hour (idle-cost-lab.ts): the idle
            // timeout must stay under the path's, as it must under AWS's 350 s.
            connectorOptions: { pathIdleTimeoutMs: 3_600_000 },
          }) as Dispatcher,
          origin: `https://${HOST}`,
        }
      })
      await warm(clients)
      // Past the first check round (a full TLS handshake per zone, once): the window then holds
      // the steady rounds (TCP connects, one round in five proving TLS with a resumed session).
      await new Promise((resolve) => setTimeout(resolve, STEADY_AFTER_MS))
      const held = memory() - emptyMemory
      const { cpuMs, checks } = await idleWindow(lab, scenario.warmUp ? 1_000 : idleMs)
      if (scenario.warmUp) {
        await Promise.all(clients.map((client) => client.dispatcher.close()))
        continue
      }
      rows.push({
        client: scenario.client,
        clients: scenario.clients,
        endpoints: scenario.endpoints,
        idleMs,
        cpuMs,
        corePercent: (cpuMs / idleMs) * 100,
        checksPerSecond: checks / (idleMs / 1000),
        memoryMb: held / 1024 / 1024,
      })
      console.log(JSON.stringify(rows.at(-1)))
      await Promise.all(clients.map((client) => client.dispatcher.close()))
      await settle()
    }
    return summarize(rows)
  } finally {
    lab.child.disconnect()
  }
}

function summarize(rows: IdleRow[]): IdleCostBench {
  const find = (client: IdleRow['client'], clients: number, endpoints: number) =>
    rows.find((r) => r.client === client && r.clients === clients && r.endpoints === endpoints)
  const one = find('dispatcher', 1, 1)
  const manyOnOne = [...rows]
    .filter((r) => r.client === 'dispatcher' && r.endpoints === 1)
    .sort((a, b) => b.clients - a.clients)[0]
  const twenty = find('dispatcher', 20, 20)
  // Beyond plain Agents. CPU: the lowest Agent row is the process's idle floor (the first rows
  // can carry background GC of the bench's own start); memory: as many Agents as clients.
  const agents = rows.filter((r) => r.client === 'agent')
  const floor = Math.min(...agents.map((r) => r.corePercent))
  const added = (row: IdleRow | undefined, field: 'corePercent' | 'memoryMb') => {
    if (row === undefined) return Number.NaN
    if (field === 'corePercent') return row.corePercent - floor
    const agent = find('agent', row.clients, 1)
    return agent === undefined ? Number.NaN : row.memoryMb - agent.memoryMb
  }
  const extra = (field: 'corePercent' | 'memoryMb') =>
    one === undefined || manyOnOne === undefined || manyOnOne.clients === 1
      ? Number.NaN
      : (added(manyOnOne, field) - added(one, field)) / (manyOnOne.clients - 1)
  const result = {
    rows,
    cpuPerEndpointPercent: added(twenty, 'corePercent') / 20,
    cpuPerExtraClientPercent: extra('corePercent'),
    memoryPerEndpointMb: added(twenty, 'memoryMb') / 20,
    memoryPerExtraClientMb: extra('memoryMb'),
  }
  const body = rows.map((r) => ({
    client: r.client === 'agent' ? 'undici Agent' : '@privatelink/http dispatcher',
    clients: r.clients,
    endpoints: r.endpoints,
    'CPU ms idle': r.cpuMs.toFixed(1),
    '% of a core': r.corePercent.toFixed(3),
    'lab conns/s': r.checksPerSecond.toFixed(1),
    'memory MB': r.memoryMb.toFixed(2),
  }))
  const idleSeconds = ((rows[0]?.idleMs ?? 0) / 1000).toFixed(0)
  const markdown = [
    `${machine()}; each client warm (one keep-alive connection), then idle ${idleSeconds} s (from ${STEADY_AFTER_MS / 1000} s after warm-up); CPU of the whole client process. Per-endpoint and per-client figures: CPU beyond the lowest Agent row (the idle floor), memory beyond as many Agents.`,
    '',
    table(body),
    '',
    `Per endpoint (one client each): CPU ${result.cpuPerEndpointPercent.toFixed(4)}% of a core, memory ${result.memoryPerEndpointMb.toFixed(3)} MB. Per client past the first on one endpoint: CPU ${result.cpuPerExtraClientPercent.toFixed(4)}%, memory ${result.memoryPerExtraClientMb.toFixed(3)} MB.`,
  ].join('\n')
  return { ...result, markdown }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const flag = (name: string) =>
    process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)
  const counts = flag('counts')?.split(',').map(Number)
  const idleMs = flag('idle-ms')
  const bench = await idleCostBench({
    quick: process.argv.includes('--quick'),
    ...(counts === undefined ? {} : { counts }),
    ...(idleMs === undefined ? {} : { idleMs: Number(idleMs) }),
  })
  console.log(bench.markdown)
}
