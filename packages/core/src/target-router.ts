import type { ResolvedTarget, TargetChangeEvent } from './connector-types.js'
import type { EndpointZone, Locality } from './model.js'
import type { HealthEvent, ZoneHealth } from './zone-health.js'
import { findOwnZone, orderZonesUnchecked } from './zone-order.js'
import type { ZoneEntry, ZoneTable } from './zone-table.js'

/** Where new connections go, in order. */
export interface Route {
  /** The zones a connect tries: the eligible ones, or all of them when every one is ejected. */
  readonly zones: readonly ZoneEntry[]
  /** `zones`, then the ejected ones as a last resort. */
  readonly race: readonly ZoneEntry[]
  /** `zones` as EndpointZones: what `preferredZones()` returns (the same array until it changes). */
  readonly preferred: readonly EndpointZone[]
}

export interface TargetRouterOptions {
  targets: readonly ResolvedTarget[]
  table: ZoneTable
  health: ZoneHealth
  clock: () => number
  /** Health checks run: a target back from a failover must first pass two checks in a row. */
  checksOn: boolean
  /** An ejection ran out while routing: publish it. */
  readmitted: (event: HealthEvent) => void
  /** Traffic moved between targets. */
  moved: (event: TargetChangeEvent) => void
}

interface Group {
  target: ResolvedTarget
  ordered: ZoneEntry[]
  eligible: ZoneEntry[]
}

/**
 * The zone order and the active target (Envoy's priority levels): own zone first, then by
 * measured connect time; a target stays active while any of its zones is in, fails over to the
 * next one that has a zone in, and returns once a better one is ready. Computed again only when
 * health changed, an ejection ran out or the own zone became known: the http adapter asks once
 * per request.
 */
export class TargetRouter {
  readonly #options: TargetRouterOptions
  #owns = new Map<ResolvedTarget, EndpointZone | undefined>()
  #ownVersion = 0
  #active: ResolvedTarget
  #cached: (Route & { version: number; own: number; validUntil: number }) | undefined

  constructor(options: TargetRouterOptions) {
    this.#options = options
    const [first] = options.targets
    if (first === undefined) throw new Error('a router needs a target')
    this.#active = first
  }

  /** The own zone of each target: one locality, matched by AZ ID in each endpoint. */
  setLocality(locality: Locality | undefined): void {
    this.#owns = new Map(
      this.#options.targets.map((target) => [target, findOwnZone(target.endpoint.zones, locality)]),
    )
    this.#ownVersion++
  }

  /** The active target as last routed (`route()` first for a fresh answer). */
  get active(): ResolvedTarget {
    return this.#active
  }

  /** The own zone in the active target, once known. */
  ownZone(): EndpointZone | undefined {
    return this.#owns.get(this.#active)
  }

  /** Forget the cached order: health checks passed, so a better target may be ready. */
  invalidate(): void {
    this.#cached = undefined
  }

  route(): Route {
    const { health, clock } = this.#options
    const now = clock()
    const cached = this.#cached
    if (
      cached !== undefined &&
      cached.version === health.version &&
      cached.own === this.#ownVersion &&
      now < cached.validUntil
    )
      return cached
    for (const event of health.readmitExpired(now)) this.#options.readmitted(event)
    const groups = this.#groups(now)
    if (groups.length > 1) this.#follow(groups, now)
    const priority = [
      ...groups.filter((group) => group.target === this.#active),
      ...groups.filter((group) => group.target !== this.#active),
    ]
    const eligible = priority.flatMap((group) => group.eligible)
    const ordered = priority.flatMap((group) => group.ordered)
    // Panic routing: with every zone ejected, trying them all beats failing fast.
    const zones = Object.freeze(eligible.length > 0 ? eligible : ordered)
    // Ejected zones stay in the race as a last resort, after every eligible one.
    const race = Object.freeze([...zones, ...ordered.filter((entry) => !zones.includes(entry))])
    const route = {
      zones,
      race,
      preferred: Object.freeze(zones.map((entry) => entry.zone)),
      version: health.version,
      own: this.#ownVersion,
      validUntil: health.nextExpiry(now),
    }
    this.#cached = route
    return route
  }

  #groups(now: number): Group[] {
    const { targets, table, health } = this.#options
    return targets.map((target) => {
      const ordered = orderZonesUnchecked(target.endpoint.zones, this.#owns.get(target), (zone) =>
        health.connectMs(table.entry(zone).key),
      ).map((zone) => table.entry(zone))
      return { target, ordered, eligible: ordered.filter((e) => !health.isEjected(e.key, now)) }
    })
  }

  /** Stay while any zone of the active group is in; fail over to the next group that has one. */
  #follow(groups: readonly Group[], now: number): void {
    const current = groups.find((group) => group.target === this.#active)
    if (current === undefined || current.eligible.length === 0) {
      const next = groups.find(
        (group) => group.target !== this.#active && group.eligible.length > 0,
      )
      if (next !== undefined) this.#setActive(next.target)
      return
    }
    const better = this.#options.targets.find(
      (target) => target.index < this.#active.index && this.#returnReady(target, now),
    )
    if (better !== undefined) this.#setActive(better)
  }

  // With health checks on, a group that was down comes back only after one of its zones passed
  // two checks in a row: a region flapping at the ejection's edge does not drag traffic back.
  #returnReady(target: ResolvedTarget, now: number): boolean {
    const { table, health, checksOn } = this.#options
    return table
      .inTarget(target)
      .some(
        (entry) =>
          !health.isEjected(entry.key, now) && (!checksOn || health.probePasses(entry.key) >= 2),
      )
  }

  #setActive(next: ResolvedTarget): void {
    if (next === this.#active) return
    const event: TargetChangeEvent = {
      type: next.index > this.#active.index ? 'failover' : 'return',
      from: this.#active.name,
      to: next.name,
    }
    this.#active = next
    this.#options.moved(event)
  }
}
