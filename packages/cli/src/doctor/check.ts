/** A check's outcome; `skip` when what it needs is missing (no address for a zone, no VPC named). */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip'

/** One line of `privatelink doctor`: what was checked, what was seen, and how to fix it. */
export interface CheckResult {
  /** Stable identifier, e.g. `endpoint.state`, `zone.reach`. */
  id: string
  /** Short human title, e.g. `endpoint state`. */
  title: string
  /** The outcome; only `fail` makes the exit code 1. */
  status: CheckStatus
  /** What was seen, in one sentence. */
  seen: string
  /** What to do about it; absent on `pass`. */
  fix?: string
  /**
   * A stable code for a finding doctor made about itself rather than the endpoint (e.g.
   * `ERR_POLICY_SIMULATOR_MISSING`: an optional library is not installed); absent otherwise.
   */
  code?: string
  /** The AWS CLI commands that fix it, in order, ready to run; absent when none applies. */
  commands?: string[]
  /** The AZ name, for per-zone checks. */
  zone?: string
  /** The DNS name, for `dns.resolve` checks. */
  name?: string
  /** Wall time the check took, in whole milliseconds. */
  durationMs: number
}

/** `privatelink doctor --json`: see schema/doctor.schema.json. */
export interface DoctorReport {
  /** Names the document's format and version, described by schema/doctor.schema.json. */
  schema: 'privatelink.doctor/1'
  /** The endpoint ID, service name or DNS name as given. */
  target: string
  /** True when no check failed (warnings allowed): the exit code is 0 exactly then. */
  ok: boolean
  /** Number of checks per status. */
  summary: Record<CheckStatus, number>
  /** The endpoint model once it could be described (the JSON `describe --json` prints), else null. */
  endpoint: unknown
  /** Every check, in the order run. */
  checks: CheckResult[]
}

/** Collects check results and hands each to `onResult` as soon as it is known. */
export class CheckLog {
  readonly results: CheckResult[] = []
  constructor(private readonly onResult: (result: CheckResult) => void) {}

  add(result: Omit<CheckResult, 'durationMs'>, startedAt: number): CheckResult {
    const full: CheckResult = { ...result, durationMs: Math.round(performance.now() - startedAt) }
    if (full.fix === undefined) delete full.fix
    if (full.commands === undefined || full.commands.length === 0) delete full.commands
    this.results.push(full)
    this.onResult(full)
    return full
  }

  failed(): boolean {
    return this.results.some((result) => result.status === 'fail')
  }
}
