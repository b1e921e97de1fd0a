import type { Locality } from '@privatelink/core'
import { type Lab, type LabOptions, startLab } from '@privatelink/lab'
import { findMariadb, type MariadbHandle } from '../../../test/support/mariadb.js'

export const zoneA: Locality = { azName: 'us-west-2a', azId: 'usw2-az1', source: 'options' }

/**
 * The test MariaDB (the machine's, or one started for this file), or why there is none: a test
 * file skips with that reason rather than failing on a machine without MariaDB.
 */
export async function mariadb(): Promise<MariadbHandle | { unavailable: string }> {
  return await findMariadb()
}

/** A lab whose "NLB" on 3306 relays straight to MariaDB (no proxy, no TLS). */
export async function startPlainLab(
  target: MariadbHandle,
  options: Partial<LabOptions> = {},
): Promise<Lab> {
  return await startLab({
    ...options,
    services: [{ name: 'mysql', port: 3306, target: { host: target.host, port: target.port } }],
  })
}

/** Bytes the clients sent through each zone's "ENI" for the service. */
export function bytesByZone(lab: Lab, service: string): Record<string, number> {
  return Object.fromEntries(
    Object.entries(lab.stats()).map(([zone, services]) => [zone, services[service]?.bytesIn ?? 0]),
  )
}
