import { invalidOption } from '@privatelink/core'
import { type DelayLateness, DelayLine } from './topology-delay-line.js'

/**
 * The AWS-like network between the caller and the endpoint's interfaces (`LabOptions.topology`).
 * Defaults: measured round trips inside one zone and between zones (see the README's
 * "AWS-like topology" for the sources).
 */
export interface TopologyOptions {
  /** Round trip between the caller and an interface in its own zone, in ms. @default 0.25 */
  intraAzRttMs?: number
  /** Round trip between the caller and an interface in another zone, in ms. @default 1 */
  interAzRttMs?: number
}

/** Default intra-AZ round trip: ping averages inside one zone, 0.26 ms (see the README). */
export const DEFAULT_INTRA_AZ_RTT_MS = 0.25
/** Default inter-AZ round trip: ping averages between zones, 0.94-1.13 ms (see the README). */
export const DEFAULT_INTER_AZ_RTT_MS = 1

/** Bytes one zone's interfaces relayed, and how many of them came from or went to another zone. */
export interface ZoneTraffic {
  /** Bytes relayed both ways on every connection this zone accepted. */
  bytes: number
  /** The part of `bytes` on connections from a caller in another zone. */
  crossZoneBytes: number
}

/** Bytes the lab's interfaces relayed since start, per zone and in all. */
export interface TopologyTraffic {
  /** Per zone (AZ name): bytes relayed, and how many of them crossed zones. */
  zones: Record<string, ZoneTraffic>
  /** Bytes relayed by every zone, both ways. */
  bytes: number
  /** The share of `bytes` on connections from a caller in another zone, 0..1. */
  crossZoneShare: number
}

/** The running model: its round trips, the caller's zone, and what crossed zones. */
export interface LabTopology {
  /** Round trip to an interface in the caller's zone, ms. */
  readonly intraAzRttMs: number
  /** Round trip to an interface in another zone, ms. */
  readonly interAzRttMs: number
  /** The caller's zone now (AZ name): the lab metadata's zone (`lab.metadata.setZone`). */
  callerZone(): string
  /** Bytes per zone (AZ name) since start, and the share of all bytes that crossed zones (0..1). */
  traffic(): TopologyTraffic
  /** How late the delay line delivered recent chunks: the model's accuracy on this machine now. */
  lateness(): DelayLateness
}

/** What a zone's relay asks of the model for each connection it accepts (zonal-listener.ts). */
export interface RelayPath {
  /** Whether the connection came from another zone, and how to delay each of its chunks. */
  open(): { crossZone: boolean; delay(action: () => void): void }
  /** Counts `bytes` relayed (either way) on a connection, cross-zone or not. */
  count(crossZone: boolean, bytes: number): void
}

function rtt(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw invalidOption(`topology.${name}`, 'a number of milliseconds >= 0', value)
  return value
}

/**
 * The model behind `LabOptions.topology`: one delay line per lab; each accepted connection gets
 * half the round trip each way, intra-AZ when the interface is in the caller's zone at accept
 * time, inter-AZ otherwise. Cross-zone load balancing is off, as an NLB's default: an interface
 * relays to the service in its own zone, so the caller's hop is the only one that crosses zones.
 */
export class Topology implements LabTopology {
  readonly intraAzRttMs: number
  readonly interAzRttMs: number
  readonly #line = new DelayLine()
  readonly #callerZone: () => string
  readonly #zones = new Map<string, ZoneTraffic>()

  constructor(options: TopologyOptions, callerZone: () => string) {
    if (options === null || typeof options !== 'object')
      throw invalidOption('topology', '{ intraAzRttMs?, interAzRttMs? }', options)
    this.intraAzRttMs = rtt('intraAzRttMs', options.intraAzRttMs, DEFAULT_INTRA_AZ_RTT_MS)
    this.interAzRttMs = rtt('interAzRttMs', options.interAzRttMs, DEFAULT_INTER_AZ_RTT_MS)
    this.#callerZone = callerZone
  }

  callerZone(): string {
    return this.#callerZone()
  }

  /** The path of one zone's relays: its byte counters, and the delay each connection gets. */
  path(zone: string): RelayPath {
    const traffic = this.#zones.get(zone) ?? { bytes: 0, crossZoneBytes: 0 }
    this.#zones.set(zone, traffic)
    return {
      open: () => {
        const crossZone = this.#callerZone() !== zone
        const oneWayMs = (crossZone ? this.interAzRttMs : this.intraAzRttMs) / 2
        return { crossZone, delay: (action) => this.#line.schedule(oneWayMs, action) }
      },
      count: (crossZone, bytes) => {
        traffic.bytes += bytes
        if (crossZone) traffic.crossZoneBytes += bytes
      },
    }
  }

  traffic(): TopologyTraffic {
    const zones = Object.fromEntries([...this.#zones].map(([name, t]) => [name, { ...t }]))
    let bytes = 0
    let cross = 0
    for (const t of this.#zones.values()) {
      bytes += t.bytes
      cross += t.crossZoneBytes
    }
    return { zones, bytes, crossZoneShare: bytes === 0 ? 0 : cross / bytes }
  }

  lateness(): DelayLateness {
    return this.#line.lateness()
  }

  close(): void {
    this.#line.close()
  }
}
