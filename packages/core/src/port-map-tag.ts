import { PrivateLinkError } from '@privatelink/dns'
import type { EndpointZone } from './model.js'

/**
 * Endpoint tag that tells discovery which port to dial for a listener port, when it is not the
 * listener port itself (the lab sets it when a port was taken or needs root; AWS never needs it).
 * `privatelink:port-map` applies to every zone; `privatelink:port-map:<az-name or az-id>` to one
 * zone, overriding the endpoint-wide pairs.
 */
export const PORT_MAP_TAG = 'privatelink:port-map'

const PAIR = /^([1-9]\d{0,4})=([1-9]\d{0,4})$/

export function invalidPortMapError(
  endpointId: string,
  key: string,
  value: string,
): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_INVALID_PORT_MAP',
    `Tag ${key} on ${endpointId} is not a port map: ${JSON.stringify(value.slice(0, 200))}`,
    {
      hint: 'Write listener=port pairs separated by commas or spaces, e.g. 443=10443,5432=15432 (ports 1-65535, each listener once), or remove the tag.',
      details: { endpointId, key, value: value.slice(0, 200) },
    },
  )
}

/** `443=10443,5432=15432` (commas or spaces) -> `{ '443': 10443, '5432': 15432 }`; strict. */
export function parsePortMap(
  value: string,
  key = PORT_MAP_TAG,
  endpointId = '',
): Record<string, number> {
  const pairs = value.trim().split(/[\s,]+/)
  const map: Record<string, number> = {}
  for (const pair of pairs) {
    const match = PAIR.exec(pair)
    const listener = Number(match?.[1])
    const dialled = Number(match?.[2])
    if (match === null || listener > 65_535 || dialled > 65_535 || String(listener) in map)
      throw invalidPortMapError(endpointId, key, value)
    map[String(listener)] = dialled
  }
  return map
}

/**
 * Sets each zone's `portMap` from the endpoint's tags. A malformed value throws
 * `ERR_INVALID_PORT_MAP`: dialling the listener port instead could reach someone else's server.
 * A per-zone tag naming no zone of the endpoint is ignored (the zone may have been removed).
 */
export function applyPortMapTags(
  tags: readonly { Key?: string; Value?: string }[],
  zones: EndpointZone[],
  endpointId: string,
): void {
  let shared: Record<string, number> = {}
  const perZone = new Map<string, Record<string, number>>()
  for (const tag of tags) {
    const key = tag.Key ?? ''
    if (key !== PORT_MAP_TAG && !key.startsWith(`${PORT_MAP_TAG}:`)) continue
    const map = parsePortMap(tag.Value ?? '', key, endpointId)
    if (key === PORT_MAP_TAG) shared = map
    else perZone.set(key.slice(PORT_MAP_TAG.length + 1), map)
  }
  for (const zone of zones) {
    const own = perZone.get(zone.azName) ?? (zone.azId ? perZone.get(zone.azId) : undefined)
    const map = { ...shared, ...own }
    if (Object.keys(map).length > 0) zone.portMap = map
  }
}
