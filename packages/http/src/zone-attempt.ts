/**
 * The dispatch option through which zone failover and the zone pool speak about one request, as
 * undici threads `retryOptions` through the options: failover says which zones the request's
 * attempts already ran in, the pool says which connection it handed the current attempt to.
 */
export const kZoneAttempt: unique symbol = Symbol('privatelink.zoneAttempt')

/** One connection as failover sees it: its zone, and a way to say its socket left our hands. */
export interface AttemptConnection {
  /** The zone key of its socket; undefined while connecting. */
  readonly zone: string | undefined
  /** The socket now belongs to the caller (an upgrade): its end says nothing about the zone. */
  disown(): void
}

/** One request's record across its attempts. */
export interface ZoneAttempt {
  /** Zones earlier attempts ran in: the pool starts the next one elsewhere when it can. */
  tried: Set<string> | undefined
  /** Set by the pool: the connection the current attempt was handed to. */
  connection: AttemptConnection | undefined
}

/** Dispatch options that may carry a {@link ZoneAttempt}. */
export type AttemptOptions = { [kZoneAttempt]?: ZoneAttempt }
