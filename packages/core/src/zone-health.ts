/**
 * What adapters and the connector tell zone health. The first four count against a zone; the
 * last two are ordinary events that never do (a service closing an idle socket is not an outage,
 * and neither is a race loser we cancelled ourselves).
 */
export type HealthSignal =
  | 'connect-failed'
  | 'connect-slow'
  | 'lost-in-flight'
  | 'probe-failed'
  | 'idle-close'
  | 'cancelled'

const COUNTED: ReadonlySet<HealthSignal> = new Set([
  'connect-failed',
  'connect-slow',
  'lost-in-flight',
  'probe-failed',
])

export const isHealthSignal = (value: unknown): value is HealthSignal =>
  typeof value === 'string' &&
  (COUNTED.has(value as HealthSignal) || value === 'idle-close' || value === 'cancelled')

/** Outlier detection: when a failing zone leaves rotation and for how long. */
export interface EjectionOptions {
  /** First ejection lasts this long; each further incident doubles it. @default 1000 */
  baseMs?: number
  /**
   * Longest ejection. Once an ejection lasts this long the backoff level stops growing (Envoy's
   * max_ejection_time), so a zone back from a long outage decays from here. @default 60000
   */
  maxMs?: number
  /** Failures in a row (connects, lost requests) that eject a zone. @default 3 */
  consecutiveFailures?: number
  /**
   * At most this share of zones is ejected at once (rounded up, and always leaving one zone in):
   * past it, a failing zone stays in rotation, as in Envoy's panic routing. @default 50
   */
  maxEjectedPercent?: number
  /** A zone that stays healthy this long after readmission loses one level of backoff. @default 30000 */
  decayMs?: number
}

export interface ZoneHealthOptions extends Required<EjectionOptions> {
  /** Failed active health checks in a row that eject a zone. */
  unhealthyThreshold: number
}

interface State {
  failures: number
  probeFailures: number
  /** Passed health checks in a row since the zone was last readmitted or ejected. */
  probePasses: number
  ejectedUntil: number
  /** Backoff level: incidents so far, decayed while healthy. */
  level: number
  readmittedAt: number | undefined
  /** Exponentially weighted TCP connect time (ms); undefined until measured. */
  connectMs: number | undefined
  /** Exponentially weighted TLS handshake time (ms); undefined until measured. */
  handshakeMs: number | undefined
}

export type HealthEvent =
  | { type: 'eject'; key: string; signal: HealthSignal; level: number; untilMs: number }
  | { type: 'readmit'; key: string }

/**
 * Outlier detection per zone, after Envoy's: a zone is ejected after N consecutive failures; one
 * incident raises the backoff once (failures of an ejected zone do not add up); a cap on the share
 * of zones ejected; every transition is returned as an event so it can be published.
 */
export class ZoneHealth {
  readonly #states = new Map<string, State>()
  readonly #options: ZoneHealthOptions
  readonly #keys: readonly string[]
  /** The first level whose ejection lasts maxMs: the level never grows past it. */
  readonly #maxLevel: number

  /** Bumped on every change that can alter the zone order. */
  version = 0

  get unhealthyThreshold(): number {
    return this.#options.unhealthyThreshold
  }

  constructor(keys: readonly string[], options: ZoneHealthOptions) {
    this.#keys = keys
    this.#options = options
    let maxLevel = 1
    while (maxLevel < 64 && options.baseMs * 2 ** (maxLevel - 1) < options.maxMs) maxLevel++
    this.#maxLevel = maxLevel
    for (const key of keys) {
      this.#states.set(key, {
        failures: 0,
        probeFailures: 0,
        probePasses: 0,
        ejectedUntil: 0,
        level: 0,
        readmittedAt: undefined,
        connectMs: undefined,
        handshakeMs: undefined,
      })
    }
  }

  #state(key: string): State {
    const state = this.#states.get(key)
    if (state === undefined) throw new Error(`unknown zone key ${key}`)
    return state
  }

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

  /** Health checks passed in a row since the zone's last readmission (or ejection). */
  probePasses(key: string): number {
    return this.#state(key).probePasses
  }

  connectMs(key: string): number | undefined {
    return this.#state(key).connectMs
  }

  handshakeMs(key: string): number | undefined {
    return this.#state(key).handshakeMs
  }

  /** Ejections that have run out: each zone is readmitted once, with an event. */
  readmitExpired(now: number): HealthEvent[] {
    const events: HealthEvent[] = []
    for (const key of this.#keys) {
      const state = this.#state(key)
      if (state.ejectedUntil !== 0 && state.ejectedUntil <= now)
        events.push(this.#readmit(key, now))
    }
    return events
  }

  #readmit(key: string, now: number): HealthEvent {
    const state = this.#state(key)
    state.ejectedUntil = 0
    state.failures = 0
    state.probeFailures = 0
    state.probePasses = 0
    state.readmittedAt = now
    this.version++
    return { type: 'readmit', key }
  }

  #ejectedCount(now: number): number {
    let count = 0
    for (const state of this.#states.values()) if (state.ejectedUntil > now) count++
    return count
  }

  #maxEjected(): number {
    const zones = this.#keys.length
    return Math.min(zones - 1, Math.ceil((zones * this.#options.maxEjectedPercent) / 100))
  }

  /** Feeds one signal; returns the ejection it caused, if any. */
  record(key: string, signal: HealthSignal, now: number): HealthEvent | undefined {
    if (!COUNTED.has(signal)) return undefined
    const state = this.#state(key)
    // Already out: the incident has been counted once, more failures say nothing new.
    if (state.ejectedUntil > now) return undefined
    let reached: boolean
    if (signal === 'probe-failed') {
      state.probePasses = 0
      state.probeFailures++
      reached = state.probeFailures >= this.#options.unhealthyThreshold
    } else {
      state.failures++
      reached = state.failures >= this.#options.consecutiveFailures
    }
    if (!reached || this.#ejectedCount(now) >= this.#maxEjected()) return undefined
    if (state.readmittedAt !== undefined) {
      const healthyFor = now - state.readmittedAt
      state.level = Math.max(0, state.level - Math.floor(healthyFor / this.#options.decayMs))
    }
    // Envoy's max_ejection_time: once an ejection lasts maxMs the level stops growing, so a zone
    // that failed for hours decays back from the cap, not from thousands of incidents.
    state.level = Math.min(state.level + 1, this.#maxLevel)
    const duration = Math.min(this.#options.maxMs, this.#options.baseMs * 2 ** (state.level - 1))
    state.ejectedUntil = now + duration
    state.failures = 0
    state.probeFailures = 0
    state.probePasses = 0
    this.version++
    return { type: 'eject', key, signal, level: state.level, untilMs: state.ejectedUntil }
  }

  /**
   * A connection (or a health check) got through. Resets the failure streak; a zone that was
   * ejected and still connected (the cap or panic routing let it through) is readmitted at once.
   */
  recordSuccess(key: string, now: number, probe = false): HealthEvent | undefined {
    const state = this.#state(key)
    if (probe) {
      state.probeFailures = 0
      state.probePasses++
    } else state.failures = 0
    if (state.ejectedUntil > now && !probe) return this.#readmit(key, now)
    return undefined
  }

  /** A TCP connect time measurement: ranks zones and sets the adaptive attempt delay. */
  recordConnectTime(key: string, connectMs: number): void {
    const state = this.#state(key)
    const before = state.connectMs
    state.connectMs = before === undefined ? connectMs : before * 0.7 + connectMs * 0.3
    this.version++
  }

  /** A completed TLS handshake's time: sets the hedge delay (not the order, so no version bump). */
  recordHandshakeTime(key: string, handshakeMs: number): void {
    const state = this.#state(key)
    const before = state.handshakeMs
    state.handshakeMs = before === undefined ? handshakeMs : before * 0.7 + handshakeMs * 0.3
  }

  snapshot(now: number): Record<string, ZoneHealthSnapshot> {
    return Object.fromEntries(
      [...this.#states].map(([key, s]) => [
        key,
        {
          ejected: s.ejectedUntil > now,
          failures: s.failures,
          probeFailures: s.probeFailures,
          level: s.level,
          ejectedForMs: Math.max(0, s.ejectedUntil - now),
          ...(s.connectMs === undefined
            ? {}
            : { connectMs: Math.round(s.connectMs * 1000) / 1000 }),
        },
      ]),
    )
  }
}

/** One zone's health at one moment. */
export interface ZoneHealthSnapshot {
  /** Out of rotation now. */
  ejected: boolean
  /** Counted failures in a row (connects and requests). */
  failures: number
  /** Failed active health checks in a row. */
  probeFailures: number
  /**
   * Backoff level: the next ejection lasts baseMs * 2^level, capped at maxMs; the level itself
   * stops growing at the first one whose ejection reaches maxMs.
   */
  level: number
  /** Time left until the zone is readmitted; 0 when it is in rotation. */
  ejectedForMs: number
  /** Smoothed TCP connect time. */
  connectMs?: number
}
