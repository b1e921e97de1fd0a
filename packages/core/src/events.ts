import type { TargetChangeEvent, ZoneChangeEvent } from './connector-types.js'
import {
  connectChannel,
  ejectChannel,
  failoverChannel,
  readmitChannel,
  regionFailoverChannel,
  regionReturnChannel,
} from './diagnostics.js'
import type { HealthEvent, HealthSignal } from './zone-health.js'
import type { ZoneKey } from './zone-key.js'
import type { ZoneEntry } from './zone-table.js'

/** Which endpoint and zone a zone event is about. */
export interface ZoneMessage {
  /** The endpoint ID of the zone's target. */
  endpointId: string
  /** The zone key (AZ ID when known, else the AZ name; prefixed past the first target). */
  zone: ZoneKey
  /** The AZ name in the endpoint owner's account, e.g. `us-east-1a`. */
  azName: string
  /** The AZ ID, e.g. `use1-az4`, when the endpoint knows it. */
  azId?: string
}

/** What `privatelink:connector:eject` carries: the zone, the signal and the backoff it got. */
export interface EjectMessage extends ZoneMessage {
  /** The signal that ejected the zone. */
  signal: HealthSignal
  /** The error code behind the signal, or the signal itself. */
  cause: string
  /** The backoff level after this incident. */
  level: number
  /** The clock time the ejection runs out. */
  untilMs: number
}

/** What `privatelink:connector:readmit` carries. */
export type ReadmitMessage = ZoneMessage

/** What `privatelink:connector:region-failover` and `:region-return` carry. */
export interface TargetMoveMessage extends TargetChangeEvent {
  /** The first target's endpoint ID. */
  endpointId: string
}

/** What `privatelink:connector:connect` carries: one connection handed out. */
export interface ConnectMessage {
  /** The endpoint ID of the zone the connection landed in. */
  endpointId: string
  /** That zone's AZ name. */
  azName: string
  /** That zone's AZ ID, when known. */
  azId: string | undefined
  /** The address dialled; undefined when the zone's DNS name was resolved. */
  address: string | undefined
  /** The port dialled (the listener port, as the zone's `portMap` maps it). */
  port: number
  /** From the start of the connect to the hand-off, in ms. */
  durationMs: number
  /** Failed or overtaken attempts plus the one that won. */
  attempts: number
}

/** What `privatelink:connector:failover` carries: the preferred zone was passed over. */
export interface FailoverMessage {
  /** The endpoint ID of the zone the connection landed in. */
  endpointId: string
  /** The AZ name of the zone passed over. */
  from: string
  /** The AZ name of the zone the connection landed in. */
  to: string
  /** The preferred zone's error code, or 'slow'. */
  cause: string
}

/**
 * The connector's events, each built once and handed to its diagnostics channel (when someone
 * subscribes) and its listeners. A listener's payload is the channel's, less the fields it has
 * never carried (`endpointId`, and for ejections `cause`, `level` and `untilMs`).
 */
export class ConnectorEvents {
  readonly #zoneListeners = new Set<(event: ZoneChangeEvent) => void>()
  readonly #targetListeners = new Set<(event: TargetChangeEvent) => void>()

  onZoneChange(listener: (event: ZoneChangeEvent) => void): () => void {
    this.#zoneListeners.add(listener)
    return () => this.#zoneListeners.delete(listener)
  }

  onTargetChange(listener: (event: TargetChangeEvent) => void): () => void {
    this.#targetListeners.add(listener)
    return () => this.#targetListeners.delete(listener)
  }

  /** `channel`: false when another connector of the endpoint already published this change. */
  zoneChanged(event: HealthEvent, entry: ZoneEntry, cause?: string, channel = true): void {
    const { zone } = entry
    const identity = {
      zone: entry.key,
      azName: zone.azName,
      ...(zone.azId ? { azId: zone.azId } : {}),
    }
    const endpointId = entry.target.endpoint.id
    if (channel && event.type === 'eject') {
      if (ejectChannel.hasSubscribers) {
        const message: EjectMessage = {
          endpointId,
          ...identity,
          signal: event.signal,
          cause: cause ?? event.signal,
          level: event.level,
          untilMs: event.untilMs,
        }
        ejectChannel.publish(message)
      }
    } else if (channel && readmitChannel.hasSubscribers) {
      const message: ReadmitMessage = { endpointId, ...identity }
      readmitChannel.publish(message)
    }
    const change: ZoneChangeEvent = {
      type: event.type,
      ...identity,
      ...(event.type === 'eject' ? { signal: event.signal } : {}),
    }
    for (const listener of this.#zoneListeners) listener(change)
  }

  targetMoved(event: TargetChangeEvent, endpointId: string): void {
    const channel = event.type === 'failover' ? regionFailoverChannel : regionReturnChannel
    if (channel.hasSubscribers) {
      const message: TargetMoveMessage = { endpointId, ...event }
      channel.publish(message)
    }
    for (const listener of this.#targetListeners) listener(event)
  }

  /** Built only when someone subscribes: called once per connection. */
  connected(message: () => ConnectMessage): void {
    if (connectChannel.hasSubscribers) connectChannel.publish(message())
  }

  failedOver(message: () => FailoverMessage): void {
    if (failoverChannel.hasSubscribers) failoverChannel.publish(message())
  }
}
