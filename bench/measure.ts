import { cpus, loadavg } from 'node:os'

/** CPU and wall time of a bounded loop: CPU µs per operation is the figure that holds on shared machines. */
export interface Measurement {
  name: string
  operations: number
  opsPerSecond: number
  cpuMicrosPerOp: number
}

export async function measure(
  name: string,
  operations: number,
  run: (operations: number) => Promise<void>,
): Promise<Measurement> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  await run(operations)
  const elapsedMs = performance.now() - started
  const used = process.cpuUsage(cpu)
  return {
    name,
    operations,
    opsPerSecond: Math.round((operations / elapsedMs) * 1000),
    cpuMicrosPerOp: Math.round(((used.user + used.system) / operations) * 100) / 100,
  }
}

/** Runs each variant `rounds` times interleaved (A B A B ...) and keeps each one's best round. */
export async function sideBySide(
  variants: Record<string, (operations: number) => Promise<void>>,
  operations: number,
  rounds = 3,
): Promise<Measurement[]> {
  const best = new Map<string, Measurement>()
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(variants)) {
      const result = await measure(name, operations, run)
      const previous = best.get(name)
      if (previous === undefined || result.cpuMicrosPerOp < previous.cpuMicrosPerOp)
        best.set(name, result)
    }
  }
  return [...best.values()]
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

export function table(rows: Record<string, string | number>[]): string {
  if (rows.length === 0) return ''
  const columns = Object.keys(rows[0]!)
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`
  return [
    line(columns),
    line(columns.map(() => '---')),
    ...rows.map((row) => line(columns.map((c) => row[c] ?? ''))),
  ].join('\n')
}

/** One comparison: each variant's rounds, medians with min-max, and per-round ratios to the baseline. */
export interface Comparison {
  title: string
  unit: string
  baseline: string
  variants: {
    name: string
    rounds: Measurement[]
    opsPerSecond: { median: number; min: number; max: number }
    cpuMicrosPerOp: { median: number; min: number; max: number }
    /** Median of the per-round ratios to the baseline (throughput: higher is better; CPU: lower is better). */
    throughputRatio: { median: number; min: number; max: number }
    cpuRatio: { median: number; min: number; max: number }
  }[]
}

const spread = (values: number[]) => ({
  median: percentile(values, 50),
  min: Math.min(...values),
  max: Math.max(...values),
})

/**
 * The shared method for every side-by-side figure: a warm-up, then `rounds` rounds in which every
 * variant runs once, in an order rotated each round (A B C, B C A, ...), so drift on a shared
 * machine lands on every variant alike. The first variant is the baseline (the raw library).
 */
export async function compare(
  title: string,
  unit: string,
  variants: Record<string, (operations: number) => Promise<void>>,
  options: { operations: number; rounds?: number; warmup?: number },
): Promise<Comparison> {
  const names = Object.keys(variants)
  const rounds = Math.max(5, options.rounds ?? 5)
  const warmup = options.warmup ?? Math.max(1, Math.floor(options.operations / 10))
  for (const name of names) await variants[name]!(warmup)
  const results = new Map<string, Measurement[]>(names.map((name) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]!)
    for (const name of order)
      results.get(name)!.push(await measure(name, options.operations, variants[name]!))
  }
  const baseline = results.get(names[0]!)!
  return {
    title,
    unit,
    baseline: names[0]!,
    variants: names.map((name) => {
      const rows = results.get(name)!
      return {
        name,
        rounds: rows,
        opsPerSecond: spread(rows.map((r) => r.opsPerSecond)),
        cpuMicrosPerOp: spread(rows.map((r) => r.cpuMicrosPerOp)),
        throughputRatio: spread(rows.map((r, i) => r.opsPerSecond / baseline[i]!.opsPerSecond)),
        cpuRatio: spread(rows.map((r, i) => r.cpuMicrosPerOp / baseline[i]!.cpuMicrosPerOp)),
      }
    }),
  }
}

const fixed = (value: number, digits = 2) => value.toFixed(digits)

/** A comparison as a Markdown table: medians with min-max, ratios to the raw library. */
export function comparisonTable(comparison: Comparison): string {
  return table(
    comparison.variants.map((v) => ({
      variant: v.name,
      [`${comparison.unit}/s (median, min-max)`]: `${Math.round(v.opsPerSecond.median).toLocaleString('en-US')} (${Math.round(v.opsPerSecond.min).toLocaleString('en-US')}-${Math.round(v.opsPerSecond.max).toLocaleString('en-US')})`,
      [`CPU µs/${comparison.unit}`]: `${fixed(v.cpuMicrosPerOp.median)} (${fixed(v.cpuMicrosPerOp.min)}-${fixed(v.cpuMicrosPerOp.max)})`,
      'throughput vs raw': `${fixed(v.throughputRatio.median)}x (${fixed(v.throughputRatio.min)}-${fixed(v.throughputRatio.max)})`,
      'CPU vs raw': `${fixed(v.cpuRatio.median)}x (${fixed(v.cpuRatio.min)}-${fixed(v.cpuRatio.max)})`,
    })),
  )
}

/** The machine the figures come from, printed with every report. */
export function machine(): string {
  const list = cpus()
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
  return `Node ${process.version}, ${list.length} x ${list[0]?.model ?? 'cpu'}, load average ${load}`
}
