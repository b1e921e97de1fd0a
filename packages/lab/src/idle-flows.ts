import { invalidOption } from '@privatelink/core'
import type { KernelFlowView } from './kernel-flows.js'

/**
 * What the path does with a segment of a flow it has forgotten:
 * - `reset`: answers it with a TCP reset, as an NLB does ("If a client or a target sends data
 *   after the idle timeout period elapses, it receives a TCP RST packet").
 * - `drop`: drops it without a word, as a silent middlebox does: the sender's request hangs until
 *   its own timeout.
 */
export type IdleTimeoutMode = 'reset' | 'drop'

/** The path's idle flow timeout, as the endpoint and NLB apply it. */
export interface IdleSettings {
  /** A flow with no packet either way for this long is forgotten (lab clock). */
  timeoutMs: number
  /** What a later segment of a forgotten flow gets. */
  mode: IdleTimeoutMode
}

/** The endpoint's and an NLB TCP listener's default idle timeout: 350 s. */
export const DEFAULT_IDLE_TIMEOUT_MS = 350_000

/** Which end of a relayed flow: the consumer's socket, or the one to the service. */
export type FlowSide = 'client' | 'upstream'

/** One relayed flow as the idle tracker sees it. */
export interface IdleFlow {
  /** Lab-clock time of the last packet either way. */
  lastActivity: number
  /** Forgotten by the path: later segments are reset or dropped. */
  forgotten: boolean
  /** Frozen by a fault: nothing reaches the path, kernel-seen segments included. */
  frozen: boolean
  /** Kernel socket keys per side, once known. */
  keys: Partial<Record<FlowSide, string>>
  /** Segments the kernel had received per side at `sampledAt`. */
  baseline: Partial<Record<FlowSide, number>>
  /** Lab-clock time of the sample `baseline` comes from. */
  sampledAt: number | undefined
}

/** What the tracker asks of its listener. */
export interface IdleHooks {
  /** Every flow the path may still hold: relays, and service sockets left behind by forgotten ones. */
  flows(): Iterable<IdleFlow>
  /** The `ss` filter that covers the flows' sockets. */
  filter(): string[]
  /** The path forgets the flow now. */
  forget(flow: IdleFlow): void
  /** The kernel saw `count` segments (keep-alive probes) on a forgotten flow's `side`. */
  lateSegments(flow: IdleFlow, side: FlowSide, count: number): void
  /** The kernel's view kept a flow alive that data alone would have let expire. */
  refreshed(flow: IdleFlow): void
}

/** Validates `idleTimeoutMs` / `idleTimeoutMode` as given to the lab, a zone or `setIdleTimeout`. */
export function readIdleSettings(
  path: string,
  given: { idleTimeoutMs?: unknown; idleTimeoutMode?: unknown },
  fallback: IdleSettings,
): IdleSettings {
  const { idleTimeoutMs, idleTimeoutMode } = given
  if (
    idleTimeoutMs !== undefined &&
    (typeof idleTimeoutMs !== 'number' || Number.isNaN(idleTimeoutMs) || idleTimeoutMs <= 0)
  )
    throw invalidOption(
      `${path}idleTimeoutMs`,
      'a number of milliseconds > 0 (or Infinity)',
      idleTimeoutMs,
    )
  if (idleTimeoutMode !== undefined && idleTimeoutMode !== 'reset' && idleTimeoutMode !== 'drop')
    throw invalidOption(`${path}idleTimeoutMode`, "'reset' or 'drop'", idleTimeoutMode)
  return {
    timeoutMs: (idleTimeoutMs as number | undefined) ?? fallback.timeoutMs,
    mode: (idleTimeoutMode as IdleTimeoutMode | undefined) ?? fallback.mode,
  }
}

/**
 * How often idle flows are sampled: a tenth of the timeout. A keep-alive probe is credited to
 * the start of the interval it arrived in (it is only known to have come since the last sample),
 * so a flow is judged idle at most one interval early, never late.
 */
const sampleInterval = (timeoutMs: number) => Math.min(Math.max(timeoutMs / 10, 50), 60_000)
/** Node timers take at most 2^31 - 1 ms. */
const MAX_TIMER_MS = 2_147_483_647

/**
 * Forgets flows idle for `timeoutMs` by the lab clock, as the endpoint and NLB do. Data is seen by
 * the relay (`touch`); keep-alive probes, which a relay cannot see, by sampling the kernel's
 * segment counts of idle flows (`KernelFlowView`).
 */
export class IdleTracker {
  #settings: IdleSettings
  readonly #clock: () => number
  readonly #kernel: KernelFlowView
  readonly #hooks: IdleHooks
  #timer: NodeJS.Timeout | undefined
  #sweeping: Promise<number> | undefined
  #closed = false

  constructor(
    settings: IdleSettings,
    clock: () => number,
    kernel: KernelFlowView,
    hooks: IdleHooks,
  ) {
    this.#settings = settings
    this.#clock = clock
    this.#kernel = kernel
    this.#hooks = hooks
  }

  get settings(): IdleSettings {
    return { ...this.#settings }
  }

  set settings(settings: IdleSettings) {
    this.#settings = { ...settings }
    this.schedule()
  }

  /** A new flow, active now. The caller adds it to `flows()`, then calls `schedule()`. */
  start(): Pick<IdleFlow, 'lastActivity' | 'forgotten' | 'keys' | 'baseline' | 'sampledAt'> {
    return {
      lastActivity: this.#clock(),
      forgotten: false,
      keys: {},
      baseline: {},
      sampledAt: undefined,
    }
  }

  /** A packet went through the flow. */
  touch(flow: IdleFlow): void {
    flow.lastActivity = this.#clock()
  }

  /** Arms the timer for the next sample or expiry, while flows exist. */
  schedule(): void {
    if (this.#closed || this.#sweeping !== undefined) return
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    const { timeoutMs } = this.#settings
    const interval = sampleInterval(timeoutMs)
    const now = this.#clock()
    let next = Number.POSITIVE_INFINITY
    for (const flow of this.#hooks.flows()) {
      if (flow.forgotten) {
        next = Math.min(next, interval)
        continue
      }
      if (!Number.isFinite(timeoutMs)) continue
      const idle = now - flow.lastActivity
      next = Math.min(next, idle >= interval ? interval : interval - idle, timeoutMs - idle)
    }
    if (next === Number.POSITIVE_INFINITY) return
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        void this.sweep()
      },
      Math.min(Math.max(next, 10), MAX_TIMER_MS),
    )
    this.#timer.unref()
  }

  /**
   * Samples the kernel for idle and forgotten flows, then forgets the flows idle for the timeout
   * by the lab clock now; resolves with how many it forgot. Runs on its own timer; call it after
   * moving an injected clock.
   */
  sweep(): Promise<number> {
    if (this.#sweeping !== undefined) return this.#sweeping.then(() => this.sweep())
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#sweeping = this.#sweep().finally(() => {
      this.#sweeping = undefined
      this.schedule()
    })
    return this.#sweeping
  }

  async #sweep(): Promise<number> {
    const { timeoutMs } = this.#settings
    const interval = sampleInterval(timeoutMs)
    const now = this.#clock()
    const watched = [...this.#hooks.flows()].filter(
      (flow) => flow.forgotten || now - flow.lastActivity >= interval,
    )
    if (watched.length > 0 && !this.#closed) {
      const counts = await this.#kernel.sample(this.#hooks.filter())
      if (counts !== undefined) this.#credit(watched, counts, this.#clock())
    }
    let forgotten = 0
    const at = this.#clock()
    for (const flow of [...this.#hooks.flows()]) {
      if (flow.forgotten || at - flow.lastActivity < timeoutMs) continue
      flow.forgotten = true
      forgotten++
      this.#hooks.forget(flow)
    }
    return forgotten
  }

  #credit(flows: IdleFlow[], counts: Map<string, number>, sampledAt: number): void {
    for (const flow of flows) {
      const previousSample = flow.sampledAt
      flow.sampledAt = sampledAt
      for (const side of ['client', 'upstream'] as const) {
        const key = flow.keys[side]
        const count = key === undefined ? undefined : counts.get(key)
        if (count === undefined) continue
        const before = flow.baseline[side]
        flow.baseline[side] = count
        // A frozen flow's probes are lost on the path; a first sample only sets the baseline.
        if (before === undefined || count <= before || flow.frozen) continue
        if (flow.forgotten) {
          this.#hooks.lateSegments(flow, side, count - before)
        } else if (previousSample !== undefined && previousSample > flow.lastActivity) {
          // Only known to have come since the previous sample: credited to its time.
          flow.lastActivity = previousSample
          this.#hooks.refreshed(flow)
        }
      }
    }
  }

  close(): void {
    this.#closed = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
