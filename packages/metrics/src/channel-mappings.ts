import { ATTRIBUTES as A, type AttributeValues } from './attributes.js'
import type { InstrumentName } from './instruments.js'

/** One value for one instrument, with its attributes. */
export interface Measurement {
  readonly instrument: InstrumentName
  readonly value: number
  readonly attributes: AttributeValues
}

/** Which package's channels: a user subscribes to the groups it has clients of. */
export type ChannelGroup = 'connector' | 'dns' | 'pg' | 'mysql' | 'redis'

/** One diagnostics channel and what its messages become. */
export interface ChannelMapping {
  readonly channel: string
  readonly group: ChannelGroup
  readonly measure: (message: Record<string, unknown>) => Measurement[]
}

/** Copies the string (or finite number) fields present: a field a message lacks is left out. */
function pick(message: Record<string, unknown>, fields: Record<string, string>): AttributeValues {
  const attributes: AttributeValues = {}
  for (const [field, key] of Object.entries(fields)) {
    const value = message[field]
    if ((typeof value === 'string' && value !== '') || Number.isFinite(value))
      attributes[key] = value as string | number
  }
  return attributes
}

const one = (instrument: InstrumentName, attributes: AttributeValues): Measurement => ({
  instrument,
  value: 1,
  attributes,
})

const targetFields = { endpointId: A.endpointId, from: A.fromTarget, to: A.toTarget }
const dnsFields = { hostname: A.dnsQuestionName, family: A.dnsFamily, source: A.dnsSource }

/** Failover causes that are not errors: overtaken by a faster zone, or cancelled by the connector. */
const NEUTRAL_CAUSES = new Set(['slow', 'cancelled', 'ABORT_ERR'])

const zoneFields = {
  endpointId: A.endpointId,
  zone: A.zone,
  azName: A.availabilityZone,
  azId: A.availabilityZoneId,
}

/**
 * The SDK's diagnostics channels (each package's `diagnostics.ts` and README) and their metrics.
 * Left out on purpose: user names, statement names, addresses refused by the guard, error
 * messages (free text) and token lifetimes: not secret for the most part, but names of people
 * and unbounded values make poor metric attributes.
 */
export const CHANNEL_MAPPINGS: readonly ChannelMapping[] = [
  {
    channel: 'privatelink:connector:connect',
    group: 'connector',
    measure: (m) => {
      const attributes = pick(m, {
        endpointId: A.endpointId,
        azName: A.availabilityZone,
        azId: A.availabilityZoneId,
        port: A.serverPort,
      })
      const measurements = [one('privatelink.connector.connections', attributes)]
      if (Number.isFinite(m['durationMs']))
        measurements.push({
          instrument: 'privatelink.connector.connect.duration',
          value: (m['durationMs'] as number) / 1000,
          attributes,
        })
      return measurements
    },
  },
  {
    channel: 'privatelink:connector:failover',
    group: 'connector',
    measure: (m) => {
      const attributes = pick(m, {
        endpointId: A.endpointId,
        to: A.availabilityZone,
        from: A.fromZone,
        cause: A.errorType,
      })
      const measurements = [one('privatelink.connector.failovers', attributes)]
      // The preferred zone's attempt failed with this code, unless it only lost a race or was
      // abandoned by the connector (core's neutral causes: they say nothing about the zone).
      if (typeof m['cause'] === 'string' && !NEUTRAL_CAUSES.has(m['cause']))
        measurements.push(
          one('privatelink.connection.errors', {
            ...pick(m, { endpointId: A.endpointId, from: A.availabilityZone, cause: A.errorType }),
            [A.client]: 'connector',
          }),
        )
      return measurements
    },
  },
  {
    channel: 'privatelink:connector:eject',
    group: 'connector',
    measure: (m) => [
      one('privatelink.zone.ejections', {
        ...pick(m, zoneFields),
        ...pick(m, { signal: A.healthSignal, cause: A.errorType }),
      }),
    ],
  },
  {
    channel: 'privatelink:connector:readmit',
    group: 'connector',
    measure: (m) => [one('privatelink.zone.readmissions', pick(m, zoneFields))],
  },
  {
    channel: 'privatelink:connector:region-failover',
    group: 'connector',
    measure: (m) => [one('privatelink.target.failovers', pick(m, targetFields))],
  },
  {
    channel: 'privatelink:connector:region-return',
    group: 'connector',
    measure: (m) => [one('privatelink.target.returns', pick(m, targetFields))],
  },
  {
    channel: 'privatelink:dns:resolve',
    group: 'dns',
    measure: (m) =>
      Number.isFinite(m['durationMs'])
        ? [
            {
              instrument: 'dns.lookup.duration',
              value: (m['durationMs'] as number) / 1000,
              attributes: pick(m, dnsFields),
            },
          ]
        : [],
  },
  {
    channel: 'privatelink:dns:stale',
    group: 'dns',
    measure: (m) => [
      one('privatelink.dns.stale_answers', {
        ...pick(m, { hostname: A.dnsQuestionName, family: A.dnsFamily, cause: A.errorType }),
      }),
    ],
  },
  {
    channel: 'privatelink:dns:blocked',
    group: 'dns',
    measure: (m) => [
      one('privatelink.dns.refused_answers', pick(m, { hostname: A.dnsQuestionName })),
    ],
  },
  {
    channel: 'privatelink:dns:refresh',
    group: 'dns',
    measure: (m) => [
      one('privatelink.dns.refreshes', {
        ...pick(m, { hostname: A.dnsQuestionName, family: A.dnsFamily }),
        [A.outcome]: m['ok'] === true ? 'success' : 'failure',
      }),
    ],
  },
  ...databaseChannels('pg'),
  ...databaseChannels('mysql'),
  {
    channel: 'privatelink:pg:pinning',
    group: 'pg',
    measure: (m) => [
      one('privatelink.rds_proxy.pinned_statements', {
        ...pick(m, { cause: A.pinningCause, proxyHost: A.serverAddress, zone: A.zone }),
        [A.client]: 'pg',
      }),
    ],
  },
  {
    channel: 'privatelink:redis:token-refreshed',
    group: 'redis',
    measure: (m) => [one('privatelink.token.refreshes', redisToken(m))],
  },
  {
    channel: 'privatelink:redis:token-refresh-failed',
    group: 'redis',
    measure: (m) => [
      one('privatelink.token.refresh_failures', {
        ...redisToken(m),
        ...pick(m, { code: A.errorType }),
      }),
    ],
  },
  {
    channel: 'privatelink:redis:auth',
    group: 'redis',
    measure: (m) => {
      const ok = m['ok'] === true
      const attributes: AttributeValues = {
        ...pick(m, { zone: A.zone, target: A.target }),
        ...(ok ? {} : pick(m, { code: A.errorType })),
        [A.reauth]: m['reauth'] === true,
        [A.outcome]: ok ? 'success' : 'failure',
      }
      const measurements = [one('privatelink.redis.auths', attributes)]
      if (!ok)
        measurements.push(
          one('privatelink.connection.errors', {
            ...pick(m, { zone: A.zone, code: A.errorType }),
            [A.client]: 'redis',
          }),
        )
      return measurements
    },
  },
]

/**
 * The channels pg and mysql share (same payloads, but for the refused authentication's server
 * code: pg's `sqlState`, mysql's `errno`). Defined as a function: it runs before the array below
 * it in the file is built.
 */
function databaseChannels(client: 'pg' | 'mysql'): ChannelMapping[] {
  const token = (m: Record<string, unknown>): AttributeValues => ({
    ...pick(m, { hostname: A.serverAddress, port: A.serverPort, region: A.region }),
    [A.client]: client,
  })
  return [
    {
      channel: `privatelink:${client}:token-refreshed`,
      group: client,
      measure: (m) => [one('privatelink.token.refreshes', token(m))],
    },
    {
      channel: `privatelink:${client}:token-refresh-failed`,
      group: client,
      measure: (m) => [
        one('privatelink.token.refresh_failures', {
          ...token(m),
          ...pick(m, { code: A.errorType }),
        }),
      ],
    },
    {
      channel: `privatelink:${client}:auth-retry`,
      group: client,
      measure: (m) => {
        const status = m['sqlState'] ?? m['errno']
        return [
          one('privatelink.connection.errors', {
            ...pick(m, { code: A.errorType }),
            ...(typeof status === 'string' || Number.isInteger(status)
              ? { [A.dbStatusCode]: String(status) }
              : {}),
            [A.client]: client,
          }),
        ]
      },
    },
    {
      // pg: one message per pool and change, with the count; mysql: one per connection.
      channel: `privatelink:${client}:zone-retired`,
      group: client,
      measure: (m) => {
        const count = m['clients'] === undefined ? 1 : m['clients']
        return Number.isInteger(count) && (count as number) > 0
          ? [
              {
                instrument: 'privatelink.pool.retired_connections',
                value: count as number,
                attributes: {
                  ...pick(m, { reason: A.retireReason, zone: A.zone }),
                  [A.client]: client,
                },
              },
            ]
          : []
      },
    },
  ]
}

function redisToken(m: Record<string, unknown>): AttributeValues {
  return { ...pick(m, { cacheName: A.cacheName, region: A.region }), [A.client]: 'redis' }
}
