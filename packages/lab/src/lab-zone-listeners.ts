import type { EndpointZone } from '@privatelink/core'
import { newId } from './identifiers.js'
import type { IdleSettings } from './idle-flows.js'
import type { KernelFlowView } from './kernel-flows.js'
import type { LabServiceOptions, LabZoneOptions } from './lab.js'
import type { LabNames } from './lab-names.js'
import type { Topology } from './topology.js'
import { type Target, ZonalListener } from './zonal-listener.js'

/** What the zones' listeners need from the lab being started. */
export interface ZoneListenerContext {
  /** The endpoint's zones. */
  zones: readonly LabZoneOptions[]
  /** The loopback address of zone `n` (1-based). */
  zoneAddress(n: number): string
  /** The services each zone listens for. */
  services: readonly LabServiceOptions[]
  /** The started fronts, by name. */
  fronts: ReadonlyMap<string, Target>
  /** Per zone, its idle flow settings. */
  zoneIdle: readonly IdleSettings[]
  /** The lab clock. */
  clock: () => number
  /** The kernel's view of the flows. */
  kernel: KernelFlowView
  /** The AWS-like topology, if any. */
  topology: Topology | undefined
  /** The endpoint's names. */
  names: LabNames
  /** Registers a closer, run in reverse order when the lab closes. */
  onClose(closer: () => Promise<void>): void
}

/** Each zone's listeners, by zone name then service name, and the zones as the endpoint lists them. */
export interface ZoneListeners {
  /** Zone name, then service name. */
  listeners: Map<string, Map<string, ZonalListener>>
  /** The endpoint's zones, port maps included. */
  endpointZones: EndpointZone[]
}

/** Starts one listener per zone and service, on the zone's loopback address. */
export async function startZoneListeners(context: ZoneListenerContext): Promise<ZoneListeners> {
  const listeners = new Map<string, Map<string, ZonalListener>>()
  const endpointZones: EndpointZone[] = []
  // Per service, the port zones fall back to: one port in every zone keeps the tags short.
  const fallbackPorts = new Map<string, number>()
  for (const [index, zone] of context.zones.entries()) {
    const address = context.zoneAddress(index + 1)
    const byService = new Map<string, ZonalListener>()
    const portMap: Record<string, number> = {}
    for (const service of context.services) {
      const listener = await ZonalListener.start(
        address,
        service.port,
        () => serviceTarget(service, context.fronts),
        { settings: context.zoneIdle[index]!, clock: context.clock, kernel: context.kernel },
        fallbackPorts.get(service.name),
        context.topology?.path(zone.name),
      )
      context.onClose(() => listener.close())
      byService.set(service.name, listener)
      if (listener.port !== service.port) {
        portMap[String(service.port)] = listener.port
        if (!fallbackPorts.has(service.name)) fallbackPorts.set(service.name, listener.port)
      }
    }
    listeners.set(zone.name, byService)
    endpointZones.push(endpointZone(zone, index, address, portMap, context.names))
  }
  return { listeners, endpointZones }
}

/** Where a service's connections go: a front by name (looked up per connection) or an address. */
function serviceTarget(service: LabServiceOptions, fronts: ReadonlyMap<string, Target>): Target {
  if ('front' in service.target) {
    const front = fronts.get(service.target.front)
    if (front === undefined)
      throw new Error(`lab service ${service.name}: no front named ${service.target.front}`)
    return front
  }
  return service.target
}

function endpointZone(
  zone: LabZoneOptions,
  index: number,
  address: string,
  portMap: Record<string, number>,
  names: LabNames,
): EndpointZone {
  const endpointZone: EndpointZone = {
    azName: zone.name,
    azId: zone.id,
    dnsName: names.zonalName(zone.name),
    subnetId: newId('subnet'),
    networkInterfaceId: newId('eni'),
    addresses: [address],
    // The subnet's CIDR, as discovery reads it from DescribeSubnets (the inventory's below).
    cidrs: [`10.0.${index}.0/24`],
  }
  if (Object.keys(portMap).length > 0) endpointZone.portMap = portMap
  return endpointZone
}
