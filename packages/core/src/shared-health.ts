import { Attempts, addressResolver } from './attempts.js'
import type { ConnectorConfig } from './connector-options.js'
import { createDialGuard } from './dial-guard.js'
import { HealthChecker } from './health-checker.js'
import { abandoned } from './tcp-connect.js'
import { type HealthEvent, type HealthSignal, ZoneHealth } from './zone-health.js'
import type { ZoneKey } from './zone-key.js'
import { ZoneTable } from './zone-table.js'

/** One connector sharing the state: how it hears about health changes. */
export interface HealthMember {
  /**
   * A zone was ejected or readmitted. `first`: this member is the first told, so it alone
   * publishes the diagnostics channel message (one per change, not one per connector).
   */
  changed(event: HealthEvent, cause: string | undefined, first: boolean): void
  /** A round of checks is over: a better target may be ready. */
  rerouted(): void
}

/**
 * One endpoint's zone health in this process: the health table, the checks, and the connectors
 * that share them. A zone ejected through any member is out for every member's next connect,
 * and each member retires its own sockets in it.
 */
export class SharedHealth {
  readonly health: ZoneHealth
  readonly checker: HealthChecker
  readonly #clock: () => number
  readonly #attempts: Attempts
  readonly #stopping = new AbortController()
  readonly #members = new Set<WeakRef<HealthMember>>()

  constructor(config: ConnectorConfig) {
    const { targets, clock } = config
    // Keys only: the members' own tables map their own zone objects to the same keys.
    const table = new ZoneTable(targets)
    this.#clock = clock
    this.health = new ZoneHealth(table.keys, config.zoneHealth)
    this.#attempts = new Attempts({
      dial: config.dial,
      guard: createDialGuard(
        table.entries.map((entry) => entry.zone),
        config.allowedRanges,
      ),
      health: this.health,
      resolveAddress: addressResolver(config.resolver, config.allowedRanges, targets),
    })
    this.checker = new HealthChecker({
      table,
      targets,
      health: this.health,
      attempts: this.#attempts,
      clock,
      ...config.healthCheck,
      defaultPort: config.port,
      stopping: this.#stopping.signal,
      record: (key, signal, cause) => this.record(key, signal, cause),
      succeeded: (key, probe) => this.succeeded(key, probe),
      readmitted: (event) => this.publish(event),
      rerouted: () => {
        for (const member of this.#live()) member.rerouted()
      },
    })
  }

  /** Members still alive (a connector dropped without close() leaves on its own). */
  *#live(): Generator<HealthMember> {
    for (const ref of this.#members) {
      const member = ref.deref()
      if (member === undefined) this.#members.delete(ref)
      else yield member
    }
  }

  /** Adds a member; the returned function removes it. */
  join(member: HealthMember): () => void {
    const ref = new WeakRef(member)
    this.#members.add(ref)
    return () => {
      this.#members.delete(ref)
    }
  }

  get members(): number {
    return [...this.#live()].length
  }

  record(key: ZoneKey, signal: HealthSignal, cause?: string): void {
    const event = this.health.record(key, signal, this.#clock())
    if (event !== undefined) this.publish(event, cause)
  }

  succeeded(key: ZoneKey, probe = false): void {
    const event = this.health.recordSuccess(key, this.#clock(), probe)
    if (event !== undefined) this.publish(event)
  }

  /** Tells every member about one change, in the order they joined. */
  publish(event: HealthEvent, cause?: string): void {
    if (event.type === 'eject')
      this.#attempts.abandonZone(event.key as ZoneKey, abandoned('zone ejected'))
    let first = true
    for (const member of this.#live()) {
      member.changed(event, cause, first)
      first = false
    }
  }

  /** The last member left: checks stop for good. */
  dispose(): void {
    this.#stopping.abort(abandoned('connector closed'))
    this.checker.stop()
    this.#members.clear()
  }
}
