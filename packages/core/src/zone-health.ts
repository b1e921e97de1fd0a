export interface EjectionOptions {
  /** First ejection lasts this long; each consecutive one doubles it. @default 1000 */
  baseMs?: number
  /** Longest ejection. @default 60000 */
  maxMs?: number
}

interface State {
  failures: number
  ejectedUntil: number
  /** Exponentially weighted connect time; undefined until measured. */
  connectMs: number | undefined
}

export type HealthEvent =
  | { type: 'eject'; key: string; failures: number; untilMs: number }
  | { type: 'readmit'; key: string }

/**
 * Outlier ejection per zone: a failed connect ejects the zone for base * 2^(n-1) ms (capped);
 * a success resets it. Also keeps a smoothed connect time, to rank zones when locality is unknown.
 */
export class ZoneHealth {
  readonly #states = new Map<string, State>()
  readonly #baseMs: number
  readonly #maxMs: number

  constructor(options: Required<EjectionOptions>) {
    this.#baseMs = options.baseMs
    this.#maxMs = options.maxMs
  }

  #state(key: string): State {
    let state = this.#states.get(key)
    if (state === undefined) {
      state = { failures: 0, ejectedUntil: 0, connectMs: undefined }
      this.#states.set(key, state)
    }
    return state
  }

  /** Bumped on every change that can alter the zone order. */
  version = 0

  /** The earliest time an ejection runs out (the order may change then), or Infinity. */
  nextExpiry(now: number): number {
    let next = Number.POSITIVE_INFINITY
    for (const state of this.#states.values())
      if (state.ejectedUntil > now && state.ejectedUntil < next) next = state.ejectedUntil
    return next
  }

  isEjected(key: string, now: number): boolean {
    return this.#state(key).ejectedUntil > now
  }

  connectMs(key: string): number | undefined {
    return this.#state(key).connectMs
  }

  /** Zones whose ejection has run out since they were last seen: each is reported once. */
  readmitted(keys: readonly string[], now: number): HealthEvent[] {
    const events: HealthEvent[] = []
    for (const key of keys) {
      const state = this.#state(key)
      if (state.ejectedUntil !== 0 && state.ejectedUntil <= now) {
        state.ejectedUntil = 0
        this.version++
        events.push({ type: 'readmit', key })
      }
    }
    return events
  }

  recordFailure(key: string, now: number): HealthEvent {
    const state = this.#state(key)
    state.failures++
    const duration = Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(state.failures - 1, 30))
    state.ejectedUntil = now + duration
    this.version++
    return { type: 'eject', key, failures: state.failures, untilMs: state.ejectedUntil }
  }

  recordSuccess(key: string, connectMs: number): void {
    const state = this.#state(key)
    state.failures = 0
    state.ejectedUntil = 0
    this.recordConnectTime(key, connectMs)
  }

  /** A measurement only (a probe): ranks the zone, leaves its ejection alone. */
  recordConnectTime(key: string, connectMs: number): void {
    const state = this.#state(key)
    state.connectMs =
      state.connectMs === undefined ? connectMs : state.connectMs * 0.7 + connectMs * 0.3
    this.version++
  }

  snapshot(
    now: number,
  ): Record<
    string,
    { ejected: boolean; failures: number; ejectedForMs: number; connectMs?: number }
  > {
    return Object.fromEntries(
      [...this.#states].map(([key, s]) => [
        key,
        {
          ejected: s.ejectedUntil > now,
          failures: s.failures,
          ejectedForMs: Math.max(0, s.ejectedUntil - now),
          ...(s.connectMs === undefined ? {} : { connectMs: Math.round(s.connectMs * 100) / 100 }),
        },
      ]),
    )
  }
}
