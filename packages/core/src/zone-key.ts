import type { EndpointZone } from './model.js'

/**
 * A zone's key as the connector names it in events, `zones()`, `probe()` and socket watches: the
 * AZ ID when known (the same physical zone in every account), else the AZ name; past a
 * connector's first target, prefixed with the endpoint ID (`vpce-.../use1-az1`). Only core makes
 * one (`connector.zoneKey`, `zoneKey`); it is a string everywhere a string is expected.
 */
export type ZoneKey = string & {
  /** A type-level brand only: no such property exists at run time. */
  readonly __zoneKey: true
}

/** AZ ID when known (the same physical zone in every account), else the AZ name. */
export const zoneKey = (zone: EndpointZone): ZoneKey => (zone.azId ?? zone.azName) as ZoneKey
