import type { Locality } from '@privatelink/core'
import {
  type Lab,
  type LabOptions,
  type RdsProxyFront,
  type RdsProxyFrontOptions,
  rdsProxyFront,
  startLab,
} from '@privatelink/lab'
import { inject } from 'vitest'

/** The test PostgreSQL (found or started by the global setup), as host, port, user, password. */
export function postgresTarget(): {
  host: string
  port: number
  user: string
  password: string
  database: string
} {
  const url = new URL(inject('pgUrl'))
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'postgres'),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1) || 'postgres',
  }
}

/** A lab whose "NLB" on 5432 relays straight to the test PostgreSQL (no proxy, no TLS). */
export async function startPlainLab(): Promise<Lab> {
  const target = postgresTarget()
  return await startLab({
    services: [{ name: 'pg', port: 5432, target: { host: target.host, port: target.port } }],
  })
}

/**
 * A lab whose "NLB" on 5432 leads to an RDS Proxy front (TLS, IAM tokens checked against the
 * lab's keys) in front of the test PostgreSQL. `options` adds to the lab's (a clock, say),
 * `frontOptions` to the front's (a proxyHost, say).
 */
export async function startProxyLab(
  options: Partial<LabOptions> = {},
  frontOptions: Omit<RdsProxyFrontOptions, 'upstream'> = {},
): Promise<{ lab: Lab; front: RdsProxyFront }> {
  const target = postgresTarget()
  const front = rdsProxyFront({
    ...frontOptions,
    upstream: {
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      ...(target.password === '' ? {} : { password: target.password }),
    },
  })
  const lab = await startLab({
    ...options,
    fronts: [front],
    services: [{ name: 'postgres', port: 5432, target: { front: 'rds-proxy' } }],
  })
  return { lab, front }
}

export const zoneA: Locality = { azName: 'us-west-2a', azId: 'usw2-az1', source: 'options' }

/** Bytes the clients sent through each zone's "ENI" for the service. */
export function bytesByZone(lab: Lab, service: string): Record<string, number> {
  return Object.fromEntries(
    Object.entries(lab.stats()).map(([zone, services]) => [zone, services[service]?.bytesIn ?? 0]),
  )
}
