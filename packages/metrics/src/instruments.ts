/** One instrument: its OpenTelemetry name, kind, unit and description, and its CloudWatch unit. */
export interface InstrumentSpec {
  /** A counter (sums) or a histogram (durations). */
  readonly kind: 'counter' | 'histogram'
  /** UCUM, as OpenTelemetry's semantic conventions write units. */
  readonly unit: string
  /** The CloudWatch unit of the same value (EMF's `Unit`). */
  readonly cloudWatchUnit: 'Count' | 'Seconds'
  /** What it counts or times, as the instrument's description. */
  readonly description: string
}

/** Connect and DNS times: 1 ms to 10 s (loopback to a zone that times out). */
export const DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const

const counter = (unit: string, description: string): InstrumentSpec => ({
  kind: 'counter',
  unit,
  cloudWatchUnit: 'Count',
  description,
})
const seconds = (description: string): InstrumentSpec => ({
  kind: 'histogram',
  unit: 's',
  cloudWatchUnit: 'Seconds',
  description,
})

const specs = {
  'privatelink.connector.connections': counter(
    '{connection}',
    'Connections the connector handed out, per zone.',
  ),
  'privatelink.connector.connect.duration': seconds(
    'From the start of a connect to the hand-off of the socket (TCP, TLS, the races across zones).',
  ),
  'privatelink.connector.failovers': counter(
    '{failover}',
    'Connections that landed in another zone than the preferred one.',
  ),
  'privatelink.connection.errors': counter(
    '{error}',
    'Failed connection attempts and refused authentications, by error code.',
  ),
  'privatelink.zone.ejections': counter('{ejection}', 'Zones ejected by outlier detection.'),
  'privatelink.zone.readmissions': counter('{readmission}', 'Ejected zones made eligible again.'),
  'privatelink.target.failovers': counter(
    '{failover}',
    'Moves of traffic to the next target (priority group, usually another region).',
  ),
  'privatelink.target.returns': counter(
    '{return}',
    'Returns of traffic to a better target once it passed health checks.',
  ),
  'dns.lookup.duration': seconds('Time taken by a DNS resolution of the private resolver.'),
  'privatelink.dns.stale_answers': counter(
    '{answer}',
    'Expired answers served because the DNS server failed.',
  ),
  'privatelink.dns.refused_answers': counter(
    '{answer}',
    'DNS answers (or addresses to dial) refused by the address guard: not private.',
  ),
  'privatelink.dns.refreshes': counter(
    '{refresh}',
    'Background refreshes behind a stale answer, by outcome.',
  ),
  'privatelink.token.refreshes': counter('{token}', 'IAM authentication tokens signed.'),
  'privatelink.token.refresh_failures': counter(
    '{failure}',
    'Background token refreshes that failed while a valid token was kept.',
  ),
  'privatelink.rds_proxy.pinned_statements': counter(
    '{statement}',
    'Statements that pin (or would pin) the RDS Proxy session, by cause.',
  ),
  'privatelink.pool.retired_connections': counter(
    '{connection}',
    'Pool connections sent out of zones core retired, by reason.',
  ),
  'privatelink.redis.auths': counter('{auth}', 'AUTH commands sent with an IAM token, by outcome.'),
} as const satisfies Record<string, InstrumentSpec>

/** The name of one of this package's instruments. */
export type InstrumentName = keyof typeof specs

/** Every instrument this package records, by name (the README's table). */
export const INSTRUMENTS: Readonly<Record<InstrumentName, InstrumentSpec>> = specs
