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
