import { invalidOption } from '@privatelink/core'
import { type IdleSettings, readIdleSettings } from './idle-flows.js'
import type { LabZone, LabZoneOptions } from './lab.js'
import type { ZoneListeners } from './lab-zone-listeners.js'

/** A zone's handle: its address, faults, counters and idle flows across every service's listener. */
export function labZoneHandle(
  name: string,
  zones: readonly LabZoneOptions[],
  { listeners, endpointZones }: ZoneListeners,
  // Shared with the other handles of this lab: a zone's idle settings outlive one handle.
  zoneIdle: IdleSettings[],
): LabZone {
  const index = zones.findIndex((z) => z.name === name || z.id === name)
  if (index < 0)
    throw new Error(`lab has no zone ${name}; zones: ${zones.map((z) => z.name).join(', ')}`)
  const zone = zones[index]!
  const byService = listeners.get(zone.name)!
  return {
    name: zone.name,
    id: zone.id,
    address: endpointZones[index]!.addresses[0]!,
    fail: async (mode, faultOptions) => {
      await Promise.all([...byService.values()].map((l) => l.fail(mode, faultOptions)))
    },
    restore: async () => {
      await Promise.all([...byService.values()].map((l) => l.restore()))
    },
    stats: () =>
      Object.fromEntries([...byService].map(([service, l]) => [service, { ...l.stats }])),
    idleTimeout: () => ({ ...zoneIdle[index]! }),
    setIdleTimeout: (settings) => {
      if (settings === null || typeof settings !== 'object')
        throw invalidOption('settings', '{ idleTimeoutMs?, idleTimeoutMode? }', settings)
      zoneIdle[index] = readIdleSettings('', settings, zoneIdle[index]!)
      for (const listener of byService.values()) listener.idleSettings = zoneIdle[index]!
    },
    sweepIdle: async () => {
      const counts = await Promise.all([...byService.values()].map((l) => l.sweepIdle()))
      return counts.reduce((sum, count) => sum + count, 0)
    },
  }
}
