import { cpus, loadavg } from 'node:os'

/**
 * One variant's run of `operations` operations. When it resolves to an array (each operation's
 * latency in ms) p50/p99 are kept too; any other result is ignored.
 */
export type Variant = (operations: number) => Promise<unknown>

/** CPU and wall time of a bounded loop: CPU µs per operation is the figure that holds on shared machines. */
export interface Measurement {
  name: string
  operations: number
  opsPerSecond: number
  cpuMicrosPerOp: number
  p50Ms?: number
  p99Ms?: number
}

export interface Spread {
  median: number
  min: number
  max: number
}

export async function measure(
  name: string,
  operations: number,
  run: Variant,
): Promise<Measurement> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  const latencies = await run(operations)
  const elapsedMs = performance.now() - started
  const used = process.cpuUsage(cpu)
  return {
    name,
    operations,
    opsPerSecond: Math.round((operations / elapsedMs) * 1000),
    cpuMicrosPerOp: Math.round(((used.user + used.system) / operations) * 100) / 100,
    ...(Array.isArray(latencies) && latencies.length > 0
      ? {
          p50Ms: percentile(latencies as number[], 50),
          p99Ms: percentile(latencies as number[], 99),
        }
      : {}),
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

export const spread = (values: number[]): Spread => ({
  median: percentile(values, 50),
  min: values.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY),
  max: values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY),
})

export function table(rows: Record<string, string | number>[]): string {
  if (rows.length === 0) return ''
  // Every column any row has, in first-seen order (a baseline row may lack the ratio columns).
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))]
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`
  return [
    line(columns),
    line(columns.map(() => '---')),
    ...rows.map((row) => line(columns.map((c) => row[c] ?? ''))),
  ].join('\n')
}

/** One comparison: each variant's rounds, medians with min-max, and per-round ratios to its baseline. */
export interface Comparison {
  title: string
  unit: string
  /** The default baseline: the first variant (the raw library). */
  baseline: string
  variants: {
    name: string
    /** The variant this one's ratios are taken against (itself for a baseline). */
    baseline: string
    rounds: Measurement[]
    opsPerSecond: Spread
    cpuMicrosPerOp: Spread
    p50Ms?: Spread
    p99Ms?: Spread
    /** Per-round ratios to the baseline (throughput: higher is better; CPU: lower is better). */
    throughputRatio: Spread
    cpuRatio: Spread
  }[]
}

export interface CompareOptions {
  /** Operations per variant and round. */
  operations: number
  /** At least 5. @default 5 */
  rounds?: number
  /** Operations each variant runs once before the first round. @default operations / 10 */
  warmup?: number
  /** Ratios of a variant against another variant than the first (e.g. fetch vs fetch). */
  baselines?: Record<string, string>
  /** Run a variant with `operations * scale` operations per round (a slow uncached reference). */
  scale?: Record<string, number>
}

/** The order of round `round`: rotated by one each round (A B C, B C A, C A B, ...). */
const rotated = (names: string[], round: number) =>
  names.map((_, i) => names[(i + round) % names.length]!)

function baselineOf(names: string[], baselines: Record<string, string> | undefined) {
  return (name: string): string => {
    const baseline = baselines?.[name] ?? names[0]!
    if (!names.includes(baseline)) throw new Error(`unknown baseline ${baseline} for ${name}`)
    return baseline
  }
}

/**
 * The shared method for every side-by-side figure: a warm-up, then `rounds` rounds in which every
 * variant runs once, in an order rotated each round, so drift on a shared machine lands on every
 * variant alike. Ratios are taken round by round (the same moment's load on both sides), then
 * summarised as median with min-max. The first variant is the baseline unless `baselines` says.
 */
export async function compare(
  title: string,
  unit: string,
  variants: Record<string, Variant>,
  options: CompareOptions,
): Promise<Comparison> {
  const names = Object.keys(variants)
  const rounds = Math.max(5, options.rounds ?? 5)
  const operationsOf = (name: string) =>
    Math.max(1, Math.round(options.operations * (options.scale?.[name] ?? 1)))
  const warmup = options.warmup ?? Math.max(1, Math.floor(options.operations / 10))
  for (const name of names)
    await variants[name]!(Math.max(1, Math.round(warmup * (options.scale?.[name] ?? 1))))
  const results = new Map<string, Measurement[]>(names.map((name) => [name, []]))
  for (let round = 0; round < rounds; round++)
    for (const name of rotated(names, round))
      results.get(name)!.push(await measure(name, operationsOf(name), variants[name]!))
  const baseline = baselineOf(names, options.baselines)
  return {
    title,
    unit,
    baseline: names[0]!,
    variants: names.map((name) => {
      const rows = results.get(name)!
      const base = results.get(baseline(name))!
      const latency = rows.every((r) => r.p50Ms !== undefined)
      return {
        name,
        baseline: baseline(name),
        rounds: rows,
        opsPerSecond: spread(rows.map((r) => r.opsPerSecond)),
        cpuMicrosPerOp: spread(rows.map((r) => r.cpuMicrosPerOp)),
        ...(latency
          ? {
              p50Ms: spread(rows.map((r) => r.p50Ms!)),
              p99Ms: spread(rows.map((r) => r.p99Ms!)),
            }
          : {}),
        throughputRatio: spread(rows.map((r, i) => r.opsPerSecond / base[i]!.opsPerSecond)),
        cpuRatio: spread(rows.map((r, i) => r.cpuMicrosPerOp / base[i]!.cpuMicrosPerOp)),
      }
    }),
  }
}

/** A comparison of one timed action per round (a burst, a cold import, a new connection). */
export interface TimedComparison {
  title: string
  unit: string
  variants: {
    name: string
    baseline: string
    values: number[]
    value: Spread
    /** Per-round value / baseline's value (lower is better). */
    ratio: Spread
    /** Whatever else each round reported (connections per zone, failures, ...). */
    details: unknown[]
  }[]
}

/** What one timed round reports: its figure and, optionally, details kept with it. */
export interface Timed {
  value: number
  details?: unknown
}

/**
 * The same method for actions measured once per round: a warm-up round (unless `warmup: 0`),
 * then rounds with every variant once, rotated order, ratios per round, median with min-max.
 */
export async function compareTimed(
  title: string,
  unit: string,
  variants: Record<string, () => Promise<Timed>>,
  options: { rounds?: number; warmup?: number; baselines?: Record<string, string> } = {},
): Promise<TimedComparison> {
  const names = Object.keys(variants)
  const rounds = Math.max(5, options.rounds ?? 5)
  for (let i = 0; i < (options.warmup ?? 1); i++) for (const name of names) await variants[name]!()
  const results = new Map<string, Timed[]>(names.map((name) => [name, []]))
  for (let round = 0; round < rounds; round++)
    for (const name of rotated(names, round)) results.get(name)!.push(await variants[name]!())
  const baseline = baselineOf(names, options.baselines)
  return {
    title,
    unit,
    variants: names.map((name) => {
      const rows = results.get(name)!
      const base = results.get(baseline(name))!
      return {
        name,
        baseline: baseline(name),
        values: rows.map((r) => r.value),
        value: spread(rows.map((r) => r.value)),
        ratio: spread(rows.map((r, i) => r.value / base[i]!.value)),
        details: rows.map((r) => r.details),
      }
    }),
  }
}

const fixed = (value: number, digits = 2) => value.toFixed(digits)
const count = (value: number) => Math.round(value).toLocaleString('en-US')
export const showSpread = (s: Spread, format: (value: number) => string = fixed) =>
  `${format(s.median)} (${format(s.min)}-${format(s.max)})`
const showRatio = (s: Spread) => `${fixed(s.median)}x (${fixed(s.min)}-${fixed(s.max)})`

/** A comparison as a Markdown table: medians with min-max, ratios to each variant's baseline. */
export function comparisonTable(comparison: Comparison): string {
  return table(
    comparison.variants.map((v) => ({
      variant: v.name,
      [`${comparison.unit}/s (median, min-max)`]: showSpread(v.opsPerSecond, count),
      [`CPU µs/${comparison.unit}`]: showSpread(v.cpuMicrosPerOp),
      ...(v.p50Ms === undefined
        ? {}
        : { 'p50 ms': showSpread(v.p50Ms), 'p99 ms': showSpread(v.p99Ms!) }),
      vs: v.baseline === v.name ? '(baseline)' : v.baseline,
      throughput: v.baseline === v.name ? '1.00x' : showRatio(v.throughputRatio),
      CPU: v.baseline === v.name ? '1.00x' : showRatio(v.cpuRatio),
    })),
  )
}

/** A timed comparison as a Markdown table; `detail` renders each round's details. */
export function timedTable(
  comparison: TimedComparison,
  detail?: { column: string; render: (details: unknown[]) => string },
): string {
  return table(
    comparison.variants.map((v) => ({
      variant: v.name,
      [`${comparison.unit} (median, min-max)`]: showSpread(v.value, (n) => fixed(n, 1)),
      vs: v.baseline === v.name ? '(baseline)' : v.baseline,
      ratio: v.baseline === v.name ? '1.00x' : showRatio(v.ratio),
      ...(detail === undefined ? {} : { [detail.column]: detail.render(v.details) }),
    })),
  )
}

export interface MachineInfo {
  node: string
  cpus: number
  cpuModel: string
  loadAverage: number[]
}

export function machineInfo(): MachineInfo {
  const list = cpus()
  return {
    node: process.version,
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'cpu',
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  }
}

/** The machine the figures come from, printed with every report. */
export function machine(): string {
  const info = machineInfo()
  return `Node ${info.node}, ${info.cpus} x ${info.cpuModel}, load average ${info.loadAverage.map((l) => l.toFixed(2)).join(' ')}`
}
