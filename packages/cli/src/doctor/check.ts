export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip'

/** One line of `privatelink doctor`: what was checked, what was seen, and how to fix it. */
export interface CheckResult {
  /** Stable identifier, e.g. `endpoint.state`, `zone.reach`. */
  id: string
  /** Short human title, e.g. `endpoint state`. */
  title: string
  status: CheckStatus
  /** What was seen, in one sentence. */
  seen: string
  /** What to do about it; absent on `pass`. */
  fix?: string
  /** The AZ name, for per-zone checks. */
  zone?: string
  /** The DNS name, for `dns.resolve` checks. */
  name?: string
  durationMs: number
}

/** `privatelink doctor --json`: see schema/doctor.schema.json. */
export interface DoctorReport {
  schema: 'privatelink.doctor/1'
  target: string
  /** True when no check failed (warnings allowed): the exit code is 0 exactly then. */
  ok: boolean
  summary: Record<CheckStatus, number>
  /** The endpoint model once it could be described (the JSON `describe --json` prints), else null. */
  endpoint: unknown
  checks: CheckResult[]
}

/** Collects check results and hands each to `onResult` as soon as it is known. */
export class CheckLog {
  readonly results: CheckResult[] = []
  constructor(private readonly onResult: (result: CheckResult) => void) {}

  add(result: Omit<CheckResult, 'durationMs'>, startedAt: number): CheckResult {
    const full: CheckResult = { ...result, durationMs: Math.round(performance.now() - startedAt) }
    if (full.fix === undefined) delete full.fix
    this.results.push(full)
    this.onResult(full)
    return full
  }

  failed(): boolean {
    return this.results.some((result) => result.status === 'fail')
  }
}
