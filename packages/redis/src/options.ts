import {
  type Connector,
  type ConnectorOptions,
  type ConnectorTlsOptions,
  createConnector,
  type Endpoint,
  integerOption,
  invalidOption,
  type Locality,
  PrivateLinkError,
} from '@privatelink/core'
import type { Authenticator } from './authenticate.js'
import { invalidSecretOption } from './secret-option.js'
import {
  type AwsCredentials,
  type AwsCredentialsProvider,
  createElastiCacheTokenProvider,
} from './token-provider.js'

/**
 * ElastiCache / MemoryDB IAM authentication (`auth: { iam }`): every connection sends
 * `AUTH userId token` with a token signed for `cacheName` in `region`, re-signed before it expires
 * (15 minutes). Requires TLS; `username`, if given, must equal `userId`.
 */
export interface IamAuthOptions {
  /** The IAM-enabled user's ID (its user name is the same). */
  userId: string
  /** Replication group ID or serverless cache name (MemoryDB: cluster name); never a DNS name. */
  cacheName: string
  /**
   * The cache's region, which tokens are signed for, e.g. `us-east-1`. A cross-region endpoint's
   * service is in the cache's region, not yours: the default signs for it, and your own region
   * (`endpoint.region`) is refused when the endpoint names another service region.
   * @default endpoint.serviceRegion, else endpoint.region
   */
  region?: string
  /** A serverless cache: tokens carry `ResourceType=ServerlessCache`. @default false */
  serverless?: boolean
  /** The signing service: `'memorydb'` for MemoryDB (with its cluster name as `cacheName`). @default 'elasticache' */
  service?: 'elasticache' | 'memorydb'
  /**
   * Signs the tokens: fixed credentials, or a provider (called for each signing; asked to
   * force-refresh when its credentials expire within twice `refreshMarginMs`).
   * @default the SDK's default chain, loaded on first use
   */
  credentials?: AwsCredentials | AwsCredentialsProvider
  /**
   * Milliseconds before a token expires that it stops being used (clock skew, a slow handshake):
   * an integer from 0 to 599999. @default 60000
   */
  refreshMarginMs?: number
}

/**
 * How connections authenticate: `{ password }` for a fixed secret (Redis AUTH, ElastiCache RBAC or
 * an AUTH token), `{ iam }` for ElastiCache / MemoryDB IAM tokens. Sent on every (re)connect
 * before ioredis sees the connection.
 */
export type RedisAuth =
  | {
      /**
       * Sent as `AUTH password`, or `AUTH username password` with `username`; with `failover`, to
       * every target. A non-empty string, never shown in errors.
       */
      password: string
    }
  | {
      /** IAM token authentication; requires TLS. */
      iam: IamAuthOptions
    }

/** TLS settings besides the name (`servername` is its own option). */
export type RedisTlsOptions = Omit<ConnectorTlsOptions, 'servername'>

/** What createRedis and createRedisCluster share. */
export interface EndpointAuthOptions {
  /**
   * The PrivateLink interface endpoint connections go through, from `discoverEndpoint` or
   * `endpointFromConfig` (`@privatelink/core`): its zones are dialled, own zone first.
   */
  endpoint: Endpoint
  /**
   * The name on the cache's certificate, checked whatever address is dialled (verify-full): the
   * primary, configuration or serverless endpoint name. Required with TLS.
   */
  servername?: string
  /** TLS to the cache: `true` (Node's roots), settings such as `{ ca }`, or `false`. @default true */
  tls?: boolean | RedisTlsOptions
  /** The AUTH user. With IAM it must be the user ID. @default the IAM userId, else none (`AUTH password`) */
  username?: string
  /** How connections authenticate. @default none */
  auth?: RedisAuth
  /**
   * Share a connector over this one endpoint (one per endpoint and port is enough); not with
   * `failover`. @default one created for this client, closed with it
   */
  connector?: Connector
  /** Where this code runs. @default detected by the connector */
  locality?: Locality | null
  /** More connector settings (attemptDelayMs, healthCheck, ejection...). @default {} */
  connectorOptions?: Omit<ConnectorOptions, 'endpoint' | 'port' | 'tls' | 'locality'>
  /** Milliseconds since the epoch, for tokens and the 12-hour re-AUTH. @default Date.now */
  clock?: () => number
  /**
   * An open IAM connection sends a fresh AUTH this long after its last one: ElastiCache drops it at
   * 12 hours, and an hour of slack covers a stalled check. @default 39600000 (11 h)
   */
  reauthAfterMs?: number
  /**
   * How often open connections check whether a re-AUTH is due: an integer up to 2147483647 (a
   * Node timer's limit; beyond it setTimeout fires after 1 ms). @default 60000
   */
  reauthCheckIntervalMs?: number
}

export interface ResolvedAuthOptions {
  servername: string
  tls: ConnectorTlsOptions | false
  authenticator: Authenticator | undefined
  clock: () => number
  reauthAfterMs: number
  reauthCheckIntervalMs: number
}

const TWELVE_HOURS_MS = 12 * 3_600_000
const duration = (name: string, value: unknown, fallback: number): number =>
  integerOption(name, value, fallback, 1)

export function resolveAuthOptions(options: EndpointAuthOptions): ResolvedAuthOptions {
  const { endpoint, tls, username, auth } = options
  if (typeof endpoint !== 'object' || endpoint === null || !Array.isArray(endpoint.zones))
    throw invalidOption(
      'endpoint',
      'an Endpoint (discoverEndpoint or endpointFromConfig)',
      endpoint,
    )
  if (tls !== undefined && typeof tls !== 'boolean' && (typeof tls !== 'object' || tls === null))
    throw invalidSecretOption('tls', 'true, false or TLS settings such as { ca }', tls)
  const servername = options.servername
  // A host name, as failover[].servername is checked: a connection URL pasted here would be sent
  // as SNI and quoted by TLS errors, its password with it.
  if (
    (tls !== false || servername !== undefined) &&
    (typeof servername !== 'string' || !/^[a-z0-9*.-]+$/i.test(servername))
  )
    throw invalidOption(
      'servername',
      "the cache's endpoint name on its certificate, e.g. master.my-cache.abc123.use1.cache.amazonaws.com",
      servername,
    )
  if (username !== undefined && (typeof username !== 'string' || username === ''))
    throw invalidOption('username', 'a non-empty string', username)
  const clock = options.clock ?? Date.now
  if (typeof clock !== 'function') throw invalidOption('clock', 'a function', clock)
  const reauthAfterMs = duration('reauthAfterMs', options.reauthAfterMs, 11 * 3_600_000)
  if (reauthAfterMs >= TWELVE_HOURS_MS)
    throw invalidOption(
      'reauthAfterMs',
      'less than 43200000 (ElastiCache drops connections at 12 hours)',
      reauthAfterMs,
    )
  const reauthCheckIntervalMs = duration(
    'reauthCheckIntervalMs',
    options.reauthCheckIntervalMs,
    60_000,
  )
  const name = servername ?? endpoint.privateDnsName ?? endpoint.dnsName ?? endpoint.id
  const tlsOptions: ConnectorTlsOptions | false =
    tls === false ? false : { ...(tls === true || tls === undefined ? {} : tls), servername: name }

  let authenticator: Authenticator | undefined
  if (auth !== undefined) {
    if (typeof auth !== 'object' || auth === null)
      throw invalidSecretOption(
        'auth',
        '{ password } or { iam: { userId, cacheName, region } }',
        auth,
      )
    if ('iam' in auth) {
      if (tls === false)
        throw invalidOption(
          'tls',
          'TLS on (IAM authentication requires in-transit encryption)',
          tls,
        )
      const iam = auth.iam
      if (typeof iam !== 'object' || iam === null)
        throw invalidSecretOption('auth.iam', '{ userId, cacheName, region }', iam)
      if (username !== undefined && username !== iam.userId)
        throw invalidOption(
          'username',
          `the IAM user ID '${String(iam.userId)}' (an IAM-enabled user's name is its ID), or nothing`,
          username,
        )
      const provider = createElastiCacheTokenProvider({
        ...iam,
        region: signingRegion(endpoint, iam.region),
        clock,
      })
      authenticator = { kind: 'iam', user: provider.userId, provider }
    } else if ('password' in auth) {
      if (typeof auth.password !== 'string' || auth.password === '')
        throw invalidOption('auth.password', 'a non-empty string', '[password]')
      authenticator = { kind: 'password', user: username, password: auth.password }
    } else
      throw invalidSecretOption(
        'auth',
        '{ password } or { iam: { userId, cacheName, region } }',
        auth,
      )
  } else if (username !== undefined)
    throw invalidSecretOption('auth', '{ password } or { iam } with a username', auth)
  return {
    servername: name,
    tls: tlsOptions,
    authenticator,
    clock,
    reauthAfterMs,
    reauthCheckIntervalMs,
  }
}

/**
 * The region IAM tokens are signed for: ElastiCache scopes a token to the cache's region, which for
 * a cross-region endpoint is the service's (`serviceRegion`), not the consumer's (`region`).
 */
function signingRegion(endpoint: Endpoint, region: unknown): string {
  const serviceRegion = endpoint.serviceRegion ?? endpoint.region
  if (region === undefined) return serviceRegion
  if (region === endpoint.region && serviceRegion !== endpoint.region)
    throw new PrivateLinkError(
      'ERR_INVALID_OPTION',
      `Invalid option 'auth.iam.region': ${endpoint.region} is this endpoint's own region, and its service (the cache) is in ${serviceRegion}`,
      {
        hint: `A cross-region endpoint reaches a cache in ${serviceRegion}, and ElastiCache only accepts tokens signed for the cache's region: leave auth.iam.region out (it defaults to endpoint.serviceRegion) or pass '${serviceRegion}'.`,
        details: {
          option: 'auth.iam.region',
          expected: `the cache's region (${serviceRegion})`,
          received: endpoint.region,
        },
      },
    )
  // Anything else is checked by the token provider (a region name).
  return region as string
}

/** The connector given, or a new one this client owns (closed with it). */
export function connectorFor(
  options: EndpointAuthOptions,
  port: number,
): { connector: Connector; owned: boolean } {
  if (options.connector !== undefined) {
    if (typeof options.connector?.connect !== 'function')
      throw invalidOption('connector', 'a Connector from createConnector', options.connector)
    // Each target needs its own TLS name and token: only createRedis's failover option knows them.
    if ((options.connector.targets?.length ?? 1) > 1)
      throw invalidOption(
        'connector',
        "a connector over one endpoint (for more than one region, pass createRedis's failover option instead)",
        '[connector]',
      )
    return { connector: options.connector, owned: false }
  }
  const connector = createConnector({
    ...options.connectorOptions,
    endpoint: options.endpoint,
    port,
    ...(options.locality === undefined ? {} : { locality: options.locality }),
  })
  return { connector, owned: true }
}

/** Every option of ours, so the rest can be passed to ioredis untouched. */
export const OWN_OPTIONS = [
  'endpoint',
  'servername',
  'tls',
  'username',
  'auth',
  'connector',
  'locality',
  'connectorOptions',
  'clock',
  'reauthAfterMs',
  'reauthCheckIntervalMs',
  'failover',
] as const
