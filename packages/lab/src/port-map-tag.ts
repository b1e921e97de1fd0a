/**
 * How the lab tells clients about remapped ports through its EC2 API: tags on the VPC endpoint
 * that `@privatelink/core`'s discovery reads into each zone's `portMap`.
 *
 * - `privatelink:port-map` = `443=10443,5432=15432`: listener port = port to dial, in every zone.
 * - `privatelink:port-map:<az-name>`: the same for one zone, overriding the endpoint-wide pairs.
 */
export const PORT_MAP_TAG = 'privatelink:port-map'

export interface Tag {
  key: string
  value: string
}

const format = (map: Record<string, number>) =>
  Object.entries(map)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([listener, dialled]) => `${listener}=${dialled}`)
    .join(',')

/** Tags for the zones' port maps: pairs every zone shares go in the endpoint-wide tag. */
export function portMapTags(zones: { azName: string; portMap?: Record<string, number> }[]): Tag[] {
  const listeners = new Set(zones.flatMap((zone) => Object.keys(zone.portMap ?? {})))
  const shared: Record<string, number> = {}
  for (const listener of listeners) {
    const dialled = new Set(zones.map((zone) => zone.portMap?.[listener]))
    const [only] = dialled
    if (dialled.size === 1 && only !== undefined) shared[listener] = only
  }
  const tags: Tag[] = []
  if (Object.keys(shared).length > 0) tags.push({ key: PORT_MAP_TAG, value: format(shared) })
  for (const zone of zones) {
    const own = Object.fromEntries(
      Object.entries(zone.portMap ?? {}).filter(([listener]) => !(listener in shared)),
    )
    if (Object.keys(own).length > 0)
      tags.push({ key: `${PORT_MAP_TAG}:${zone.azName}`, value: format(own) })
  }
  return tags
}
