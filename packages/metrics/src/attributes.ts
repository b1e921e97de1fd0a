/**
 * Attribute keys. OpenTelemetry semantic-convention keys where one means the same thing
 * (`server.address`, `server.port`, `cloud.availability_zone`, `cloud.region`, `error.type`,
 * `dns.question.name`, `db.response.status_code`); `privatelink.*` for what has none. Never a
 * token, a password, a user name, an SQL text or a message: only names and codes from a small set.
 */
export const ATTRIBUTES = {
  /** The endpoint ID (`vpce-...`) of the first target of the connector. */
  endpointId: 'privatelink.endpoint.id',
  /** The zone key: the AZ ID when known, else the AZ name (core's `ZoneKey`). */
  zone: 'privatelink.zone',
  /** The AZ name in the endpoint owner's account (semantic convention). */
  availabilityZone: 'cloud.availability_zone',
  /** The AZ ID (`usw2-az2`): the same physical zone in every account. */
  availabilityZoneId: 'privatelink.availability_zone.id',
  /** The zone passed over by a failover (AZ name). */
  fromZone: 'privatelink.failover.from',
  /** The target (region) a region failover or return left. */
  fromTarget: 'privatelink.target.from',
  /** The target (region) a region failover or return moved to. */
  toTarget: 'privatelink.target.to',
  /** The target (region) a connection is in. */
  target: 'privatelink.target',
  /** The health signal that ejected a zone (`connect-failed`, `probe-failed`, ...). */
  healthSignal: 'privatelink.health.signal',
  /** An error code (`ECONNREFUSED`, `ERR_PG_AUTH_FAILED`), `slow`, or a signal (semantic convention). */
  errorType: 'error.type',
  /** Which client published it: `connector`, `dns`, `pg` or `redis`. */
  client: 'privatelink.client',
  /** The proxy or database name a token is for, or the proxy a pinning statement went to. */
  serverAddress: 'server.address',
  /** The port dialled, or the one a token is for. */
  serverPort: 'server.port',
  /** The region a token is signed for (semantic convention). */
  region: 'cloud.region',
  /** The ElastiCache / MemoryDB cache a token is for. */
  cacheName: 'privatelink.cache.name',
  /** The name a DNS answer was for (semantic convention). */
  dnsQuestionName: 'dns.question.name',
  /** Where an answer came from: `network`, `cache`, `stale`, `literal`. */
  dnsSource: 'privatelink.dns.source',
  /** `4` or `6`. */
  dnsFamily: 'privatelink.dns.family',
  /** `success` or `failure` of a background refresh or an AUTH. */
  outcome: 'privatelink.outcome',
  /** The PostgreSQL SQLSTATE of a refused authentication (semantic convention). */
  dbStatusCode: 'db.response.status_code',
  /** Why an RDS Proxy session pins (`set`, `named-statement`, ...). */
  pinningCause: 'privatelink.pinning.cause',
  /** Why connections left zones: `eject`, `readmit` or `target`. */
  retireReason: 'privatelink.retire.reason',
  /** Whether an AUTH renewed an open connection's token (ElastiCache's 12-hour limit). */
  reauth: 'privatelink.redis.reauth',
} as const

/** Attribute values as OpenTelemetry takes them. */
export type AttributeValues = Record<string, string | number | boolean>
