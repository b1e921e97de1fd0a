import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Bar, barChart } from './chart.js'
import {
  type Comparison,
  compare,
  machine,
  percentile,
  type Spread,
  spread,
  table,
} from './measure.js'
import { type LabCheck, labCheck } from './topology-lab-check.js'
import {
  type Client,
  DEADLINE_MS,
  delta,
  drive,
  type OpSample,
  type PerZone,
  snapshot,
} from './topology-load.js'
import { httpPlan, type PackagePlan, pgPlan, redisPlan } from './topology-variants.js'

/** One variant's figures on the modelled topology. */
export interface TopologyVariant {
  name: string
  ours: boolean
  versus?: string
  /** Steady phase, per round: p50 / p99 ms and the share of bytes that crossed zones. */
  p50Ms: Spread
  p99Ms: Spread
  crossZoneShare: Spread
  /** Ours: per-round p50 and p99 over the baseline's in the same round. */
  p50Ratio?: Spread
  p99Ratio?: Spread
  /** Connections the variant holds open in each zone after it started and warmed up. */
  connections: PerZone
  steadyFailed: number
  /** Ours: connections that passed over the own zone while it was healthy, by cause (the connector's failover events). */
  passedOver: Record<string, number>
  /** Zone-loss phase: the caller's own zone blackholed, then restored. */
  zoneLoss: {
    operations: number
    failed: number
    errors: Record<string, number>
    slowestMs: number
    p99Ms: number
    /** Connections each zone accepted during the phase (health checks included). */
    connections: PerZone
  }
}

/** One package's comparison. */
export interface TopologyPackage {
  name: string
  concurrency: number
  steady: Comparison
  variants: TopologyVariant[]
  /** How late the lab's delay line delivered (µs), over the package's whole run. */
  lateness: { p50Micros: number; p99Micros: number }
}

export interface TopologyBench {
  packages: TopologyPackage[]
  labCheck: LabCheck
  rttMs: { intra: number; inter: number }
  markdown: string
  svg: string
}

const pct = (share: number) => `${(share * 100).toFixed(share > 0 && share < 0.01 ? 2 : 0)}%`
const ms = (value: number, digits = 2) => value.toFixed(digits)
const range = (s: Spread, format: (n: number) => string) =>
  `${format(s.median)} (${format(s.min)}-${format(s.max)})`
const zones = (perZone: PerZone) => Object.values(perZone).join('/')

/** Each variant's phase timeline: warm-up, then the fault at `faultAt` s, restore `darkS` later. */
async function zoneLoss(plan: PackagePlan, create: () => Promise<Client>, quick: boolean) {
  const own = plan.lab.zone(plan.lab.topology!.callerZone())
  const faultAt = 1
  const darkS = quick ? 3 : 5
  const endS = faultAt + darkS + 2
  const client = await create()
  try {
    await drive(client, { concurrency: plan.concurrency, operations: plan.concurrency * 20 })
    const before = snapshot(plan.lab, plan.service)
    const zero = performance.now()
    let stop = false
    const faults = (async () => {
      await new Promise((resolve) => setTimeout(resolve, faultAt * 1000))
      await own.fail('blackhole')
      await new Promise((resolve) => setTimeout(resolve, darkS * 1000))
      await own.restore()
      await new Promise((resolve) => setTimeout(resolve, (endS - faultAt - darkS) * 1000))
      stop = true
    })()
    const samples = await drive(client, {
      concurrency: plan.concurrency,
      until: () => stop,
      zero,
    })
    await faults
    const after = snapshot(plan.lab, plan.service)
    return { samples, connections: delta(before, after).connections }
  } finally {
    await own.restore()
    await client.close().catch(() => {})
  }
}

function errorsOf(samples: OpSample[]): Record<string, number> {
  const errors: Record<string, number> = {}
  for (const s of samples) if (!s.ok) errors[s.error ?? '?'] = (errors[s.error ?? '?'] ?? 0) + 1
  return errors
}

async function runPackage(plan: PackagePlan, quick: boolean): Promise<TopologyPackage> {
  const clients = new Map<string, Client>()
  const connections = new Map<string, PerZone>()
  const shares = new Map<string, number[]>()
  const failed = new Map<string, number>()
  // Why a connection of ours left the own zone while it was healthy: the connector says so.
  let current = ''
  const passedOver = new Map<string, Record<string, number>>()
  const onFailover = (message: unknown) => {
    const { from, cause } = message as { from: string; cause: string }
    const key = `${from}: ${cause}`
    const counts = passedOver.get(current) ?? {}
    counts[key] = (counts[key] ?? 0) + 1
    passedOver.set(current, counts)
  }
  subscribe('privatelink:connector:failover', onFailover)
  try {
    // Each variant starts and warms up alone, so the connections it opened are its own.
    for (const variant of plan.variants) {
      current = variant.name
      const before = snapshot(plan.lab, plan.service)
      const client = await variant.create()
      clients.set(variant.name, client)
      await drive(client, { concurrency: plan.concurrency, operations: plan.concurrency * 25 })
      // Locality comes from the metadata service in the background: give it its moment.
      await new Promise((resolve) => setTimeout(resolve, 200))
      await drive(client, { concurrency: plan.concurrency, operations: plan.concurrency * 10 })
      connections.set(variant.name, delta(before, snapshot(plan.lab, plan.service)).open)
    }
    const steady = await compare(
      `${plan.name} on the modelled topology, ${plan.concurrency} in flight`,
      'op',
      Object.fromEntries(
        plan.variants.map((variant) => [
          variant.name,
          async (operations: number) => {
            current = variant.name
            const before = snapshot(plan.lab, plan.service)
            const samples = await drive(clients.get(variant.name)!, {
              concurrency: plan.concurrency,
              operations,
            })
            const share = delta(before, snapshot(plan.lab, plan.service)).crossZoneShare
            shares.set(variant.name, [...(shares.get(variant.name) ?? []), share])
            failed.set(
              variant.name,
              (failed.get(variant.name) ?? 0) + samples.filter((s) => !s.ok).length,
            )
            return samples.filter((s) => s.ok).map((s) => s.ms)
          },
        ]),
      ),
      {
        operations: plan.operations,
        rounds: 5,
        warmup: 0,
        scale: Object.fromEntries(
          plan.variants.filter((v) => v.scale !== undefined).map((v) => [v.name, v.scale!]),
        ),
      },
    )
    for (const client of clients.values()) await client.close().catch(() => {})
    clients.clear()
    unsubscribe('privatelink:connector:failover', onFailover)
    const lossResults = new Map<string, Awaited<ReturnType<typeof zoneLoss>>>()
    for (const variant of plan.variants)
      lossResults.set(variant.name, await zoneLoss(plan, variant.create, quick))
    const rounds = (name: string) => steady.variants.find((v) => v.name === name)!.rounds
    const ratio = (name: string, versus: string, key: 'p50Ms' | 'p99Ms') =>
      spread(rounds(name).map((r, i) => r[key]! / rounds(versus)[i]![key]!))
    const variants = plan.variants.map((variant): TopologyVariant => {
      const loss = lossResults.get(variant.name)!
      const durations = loss.samples.map((s) => s.ms)
      return {
        name: variant.name,
        ours: variant.ours,
        ...(variant.versus === undefined ? {} : { versus: variant.versus }),
        p50Ms: spread(rounds(variant.name).map((r) => r.p50Ms!)),
        p99Ms: spread(rounds(variant.name).map((r) => r.p99Ms!)),
        crossZoneShare: spread(shares.get(variant.name) ?? []),
        ...(variant.versus === undefined
          ? {}
          : {
              p50Ratio: ratio(variant.name, variant.versus, 'p50Ms'),
              p99Ratio: ratio(variant.name, variant.versus, 'p99Ms'),
            }),
        connections: connections.get(variant.name)!,
        steadyFailed: failed.get(variant.name) ?? 0,
        passedOver: passedOver.get(variant.name) ?? {},
        zoneLoss: {
          operations: loss.samples.length,
          failed: loss.samples.filter((s) => !s.ok).length,
          errors: errorsOf(loss.samples),
          slowestMs: durations.reduce((a, b) => Math.max(a, b), 0),
          p99Ms: percentile(durations, 99),
          connections: loss.connections,
        },
      }
    })
    const lateness = plan.lab.topology!.lateness()
    return {
      name: plan.name,
      concurrency: plan.concurrency,
      steady,
      variants,
      lateness: { p50Micros: lateness.p50Micros, p99Micros: lateness.p99Micros },
    }
  } finally {
    unsubscribe('privatelink:connector:failover', onFailover)
    for (const client of clients.values()) await client.close().catch(() => {})
    await plan.close()
  }
}

function packageTable(result: TopologyPackage): string {
  return table(
    result.variants.map((v) => ({
      variant: v.ours ? `**${v.name}**` : v.name,
      'p50 ms': range(v.p50Ms, (n) => ms(n)),
      'p99 ms': range(v.p99Ms, (n) => ms(n)),
      'p50 / p99 vs':
        v.versus === undefined
          ? ''
          : `${ms(v.p50Ratio!.median)}x / ${ms(v.p99Ratio!.median)}x (${v.versus})`,
      'bytes across zones': range(v.crossZoneShare, pct),
      'open connections a/b/c': zones(v.connections),
      'own zone passed over (healthy)': v.ours
        ? Object.entries(v.passedOver)
            .map(([why, n]) => `${why} x${n}`)
            .join(', ') || 'never'
        : '',
      'zone loss: failed / ops': `${v.zoneLoss.failed} / ${v.zoneLoss.operations}`,
      'slowest op ms': ms(v.zoneLoss.slowestMs, 0),
      'connects a/b/c during loss': zones(v.zoneLoss.connections),
      'zone loss errors': Object.entries(v.zoneLoss.errors)
        .map(([code, n]) => `${code} x${n}`)
        .join(', '),
    })),
  )
}

/** The chart's name for a pair: the package, and for http which API. */
const pairName = (result: TopologyPackage, v: TopologyVariant) =>
  result.name === 'http' ? `http ${v.name.match(/(\w+)\(\)$/)?.[1] ?? ''}()` : result.name

/** ours / baseline, 1 when both are 0, the axis edge when only the baseline is 0. */
const share = (ours: number, base: number) =>
  spread([base === 0 ? (ours === 0 ? 1 : 3) : ours / base])

/** The README's chart: ours over today's way per package, lower is better on every bar. */
export function topologyChart(packages: TopologyPackage[]): string {
  const bars: Bar[] = []
  for (const result of packages)
    for (const v of result.variants.filter((candidate) => candidate.ours)) {
      const base = result.variants.find((candidate) => candidate.name === v.versus)!
      const name = pairName(result, v)
      const loss = v.zoneLoss
      bars.push(
        {
          label: `${name} p50: ${ms(v.p50Ms.median)} vs ${ms(base.p50Ms.median)} ms`,
          ratio: v.p50Ratio!,
          kind: 'time',
        },
        {
          label: `${name} p99: ${ms(v.p99Ms.median, 1)} vs ${ms(base.p99Ms.median, 1)} ms`,
          ratio: v.p99Ratio!,
          kind: 'time',
        },
        {
          label: `${name} bytes across zones: ${pct(v.crossZoneShare.median)} vs ${pct(base.crossZoneShare.median)}`,
          ratio: share(v.crossZoneShare.median, base.crossZoneShare.median),
          kind: 'throughput',
        },
        {
          label: `${name} zone loss, failed: ${loss.failed} vs ${base.zoneLoss.failed} (slowest ${(loss.slowestMs / 1000).toFixed(1)} vs ${(base.zoneLoss.slowestMs / 1000).toFixed(1)} s)`,
          ratio: share(loss.failed, base.zoneLoss.failed),
          kind: 'cpu',
        },
      )
    }
  return barChart(
    "privatelink (default options) over today's way, on an AWS-like topology",
    bars,
    "1.0 = the driver on the endpoint's DNS name (pg.Pool, ioredis, undici); lower is better",
  )
}

/**
 * Per package (pg, redis, http): a steady phase (5 rounds, every variant once per round in
 * rotated order, ratios round by round) and a zone-loss phase per variant (the caller's own
 * zone's interface blackholed for 5 s under load, then restored), on the lab's AWS-like
 * topology: ours with default options against today's way through the endpoint's DNS name.
 */
export async function topologyBench(options: { quick?: boolean; only?: string[] } = {}) {
  const quick = options.quick === true
  const packages: TopologyPackage[] = []
  let rttMs = { intra: 0, inter: 0 }
  for (const [name, plan] of [
    ['pg', pgPlan],
    ['redis', redisPlan],
    ['http', httpPlan],
  ] as const) {
    if (options.only !== undefined && !options.only.includes(name)) continue
    const started = performance.now()
    const built = await plan(quick)
    rttMs = { intra: built.lab.topology!.intraAzRttMs, inter: built.lab.topology!.interAzRttMs }
    packages.push(await runPackage(built, quick))
    console.log(`(topology ${name}: ${((performance.now() - started) / 1000).toFixed(0)} s)`)
  }
  const check = await labCheck({ quick })
  const markdown = [
    `Modelled round trips: ${rttMs.intra} ms to the caller's own zone, ${rttMs.inter} ms to another (lab \`topology: {}\`); cross-zone load balancing off; the caller in zone a (the lab's instance metadata). Today's way: the driver given the endpoint's DNS name, resolved the ordinary way (all zones' addresses, shuffled as Route 53 does), default options. Ours: default options (locality from the metadata service). An operation fails on an error or when it has no answer within ${DEADLINE_MS / 1000} s. Steady phase: 5 rounds, every variant once per round in rotated order, ratios round by round; zone loss: the caller's own zone blackholed ${quick ? 3 : 5} s under load, then restored.`,
    '',
    ...packages.flatMap((result) => [
      `### ${result.name}, ${result.concurrency} in flight`,
      '',
      packageTable(result),
      '',
      `Delay line lateness over the run: p50 ${result.lateness.p50Micros.toFixed(0)} µs, p99 ${result.lateness.p99Micros.toFixed(0)} µs.`,
      '',
    ]),
    '### The lab is not what limits a zone',
    '',
    check.markdown,
  ].join('\n')
  return { packages, labCheck: check, rttMs, markdown, svg: topologyChart(packages) }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--redraw')) {
    // The chart again from results/topology.json, after a change to the drawing only.
    const dir = fileURLToPath(new URL('./results/', import.meta.url))
    const saved = JSON.parse(readFileSync(`${dir}topology.json`, 'utf8')) as TopologyBench
    writeFileSync(`${dir}topology.svg`, topologyChart(saved.packages))
    process.exit()
  }
  const quick = process.argv.includes('--quick')
  const only = process.argv
    .find((arg) => arg.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',')
  const header = `${machine()}, ${new Date().toISOString()}${quick ? ' (quick)' : ''}`
  console.log(header)
  const result = await topologyBench({ quick, ...(only === undefined ? {} : { only }) })
  const markdown = `# On an AWS-like topology\n\n${header}\n\n\`pnpm exec tsx --tsconfig bench/tsconfig.json bench/topology.ts\` (bench/topology.ts; also \`pnpm bench --only=topology\`).\n\n![topology](topology.svg)\n\n${result.markdown}\n\n${machine()} at the end.\n`
  console.log(markdown)
  if (!quick && only === undefined) {
    const dir = fileURLToPath(new URL('./results/', import.meta.url))
    mkdirSync(dir, { recursive: true })
    writeFileSync(`${dir}topology.md`, markdown)
    writeFileSync(`${dir}topology.svg`, result.svg)
    const { markdown: _, svg: __, ...json } = result
    writeFileSync(`${dir}topology.json`, `${JSON.stringify(json, null, 2)}\n`)
  }
  process.exit()
}
