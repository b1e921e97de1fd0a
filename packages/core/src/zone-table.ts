import type { Socket } from 'node:net'
import type { ResolvedTarget } from './connector-types.js'
import type { EndpointZone } from './model.js'
import { type ZoneKey, zoneKey } from './zone-key.js'

/** One zone of one target, with everything the connector looks up about it. */
export interface ZoneEntry {
  readonly zone: EndpointZone
  /** Unique across targets: past the first target, prefixed with the endpoint ID. */
  readonly key: ZoneKey
  /** What probe() names it: the AZ name, prefixed with the target's name past the first. */
  readonly label: string
  readonly target: ResolvedTarget
}

/**
 * Every zone of every target, in priority order, built once: the one place that maps between a
 * zone, its key, its target and the sockets opened in it.
 */
export class ZoneTable {
  readonly entries: readonly ZoneEntry[]
  readonly keys: readonly ZoneKey[]
  /** The first target: the one traffic prefers. */
  readonly primary: ResolvedTarget
  readonly #byKey = new Map<string, ZoneEntry>()
  readonly #byZone = new Map<EndpointZone, ZoneEntry>()
  readonly #bySocket = new WeakMap<Socket, ZoneEntry>()

  constructor(targets: readonly ResolvedTarget[]) {
    const [primary] = targets
    if (primary === undefined) throw new Error('a zone table needs a target')
    this.primary = primary
    const entries: ZoneEntry[] = []
    for (const target of targets) {
      for (const zone of target.endpoint.zones) {
        // Keys stay unique when two targets share AZ IDs (two endpoints in one region).
        const key = (
          target.index === 0 ? zoneKey(zone) : `${target.endpoint.id}/${zoneKey(zone)}`
        ) as ZoneKey
        const label = target.index === 0 ? zone.azName : `${target.name}/${zone.azName}`
        const entry: ZoneEntry = Object.freeze({ zone, key, label, target })
        entries.push(entry)
        this.#byKey.set(key, entry)
        this.#byZone.set(zone, entry)
      }
    }
    this.entries = Object.freeze(entries)
    this.keys = Object.freeze(entries.map((entry) => entry.key))
  }

  /** The entry of a zone of these targets; anything else is a bug in the connector. */
  entry(zone: EndpointZone): ZoneEntry {
    const entry = this.#byZone.get(zone)
    if (entry === undefined) throw new Error(`zone ${zone.azName} is not one of this connector's`)
    return entry
  }

  /** The entry of a zone of these targets, or undefined (an adapter's zone object). */
  lookup(zone: EndpointZone): ZoneEntry | undefined {
    return this.#byZone.get(zone)
  }

  byKey(key: string): ZoneEntry | undefined {
    return this.#byKey.get(key)
  }

  /** By key, else by AZ name or AZ ID (the first target's match wins). */
  find(name: string): ZoneEntry | undefined {
    return (
      this.#byKey.get(name) ??
      this.entries.find((entry) => entry.zone.azName === name || entry.zone.azId === name)
    )
  }

  /** The zone a socket this connector opened landed in. */
  of(socket: Socket): ZoneEntry | undefined {
    return this.#bySocket.get(socket)
  }

  remember(socket: Socket, entry: ZoneEntry): void {
    this.#bySocket.set(socket, entry)
  }

  /** The entries of one target. */
  inTarget(target: ResolvedTarget): ZoneEntry[] {
    return this.entries.filter((entry) => entry.target === target)
  }
}
