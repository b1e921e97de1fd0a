import { invalidOption } from '@privatelink/dns'
import type { EndpointZone, Locality } from './model.js'
import { checkOptions, localityOption } from './options.js'

/**
 * The caller's own zone, matched by AZ ID first: AZ names map to different physical zones in
 * different accounts, so a name match is used only when no ID is known on either side.
 */
export function findOwnZone(
  zones: readonly EndpointZone[],
  locality: Locality | undefined,
): EndpointZone | undefined {
  checkOptions('zones', zones, () => {
    if (!Array.isArray(zones) || zones.some((zone) => typeof zone !== 'object' || zone === null))
      throw invalidOption('zones', "an array of an Endpoint's zones", zones)
  })
  if (locality === undefined) return undefined
  checkOptions('locality', locality, () => localityOption('locality', locality))
  if (locality.azId !== undefined) {
    const byId = zones.find((zone) => zone.azId === locality.azId)
    if (byId !== undefined || zones.some((zone) => zone.azId !== undefined)) return byId
  }
  if (locality.azName !== undefined) return zones.find((zone) => zone.azName === locality.azName)
  return undefined
}

/**
 * Preference order: own zone first; the rest by measured connect time (unmeasured ones keep the
 * endpoint's order, which is the regional name's). Times within 25% (or half a millisecond) of
 * each other count as equal, so measurement noise does not rotate connections across zones.
 */
export function orderZones(
  zones: readonly EndpointZone[],
  own: EndpointZone | undefined,
  connectMs: (zone: EndpointZone) => number | undefined,
): EndpointZone[] {
  checkOptions('zones', zones, () => {
    if (!Array.isArray(zones))
      throw invalidOption('zones', "an array of an Endpoint's zones", zones)
  })
  checkOptions('connectMs', connectMs, () => {
    if (typeof connectMs !== 'function')
      throw invalidOption('connectMs', 'a function (zone) => number | undefined', connectMs)
  })
  return orderZonesUnchecked(zones, own, connectMs)
}

/** orderZones without the argument checks: the connector's own calls, on every order change. */
export function orderZonesUnchecked(
  zones: readonly EndpointZone[],
  own: EndpointZone | undefined,
  connectMs: (zone: EndpointZone) => number | undefined,
): EndpointZone[] {
  const rest = zones.filter((zone) => zone !== own)
  const position = new Map(rest.map((zone, index) => [zone, index]))
  rest.sort((a, b) => {
    const ma = connectMs(a)
    const mb = connectMs(b)
    if (ma !== undefined && mb !== undefined) {
      if (Math.abs(ma - mb) > Math.max(0.5, 0.25 * Math.min(ma, mb))) return ma - mb
      return (position.get(a) ?? 0) - (position.get(b) ?? 0)
    }
    if (ma !== undefined) return -1
    if (mb !== undefined) return 1
    return (position.get(a) ?? 0) - (position.get(b) ?? 0)
  })
  return own === undefined ? rest : [own, ...rest]
}
