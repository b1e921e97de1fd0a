/** One line of the summary table `pnpm test:reliability` prints. */
export interface ReliabilityRow {
  /** What ran, e.g. `zone faults: blackhole own zone`. */
  scenario: string
  /** Operations completed under load (requests, queries, commands, connects, lookups). */
  load: number
  /** Faults injected (zone fail() calls, DNS switches, forced reconnects). */
  faults: number
  /** Bad inputs tried (fuzz cases, hostile options, malformed packets). */
  badInputs: number
  /** Failures against the scenario's goal: each one fails the run. */
  failures: number
  /** Known secrets or secret-shaped strings found in anything the packages produced. */
  secrets: number
  /** Figures printed, never asserted: time to move away / come back, connections per zone... */
  notes?: string
}

declare module 'vitest' {
  interface TaskMeta {
    reliability?: ReliabilityRow[]
  }
}

/** Adds a row to the summary table (read by the summary reporter from the task's meta). */
export function record(task: { meta: { reliability?: ReliabilityRow[] } }, row: ReliabilityRow) {
  task.meta.reliability ??= []
  task.meta.reliability.push(row)
}

export function emptyRow(scenario: string): ReliabilityRow {
  return { scenario, load: 0, faults: 0, badInputs: 0, failures: 0, secrets: 0 }
}
