import { rootCertificates } from 'node:tls'
import {
  type Connector,
  type ConnectorOptions,
  type ConnectorTarget,
  createConnector,
  type EjectionOptions,
  type Endpoint,
  type HealthCheckOptions,
  integerOption,
  invalidOption,
  type Locality,
} from '@privatelink/core'
import { checkOptions, type Resolver } from '@privatelink/dns'
import { type RetryOptions, type RetryPolicy, retryPolicy } from './retry-policy.js'

/** Options of {@link createEndpointDispatcher}; each is validated at construction. */
export interface EndpointDispatcherOptions {
  /**
   * The endpoint (discoverEndpoint / endpointFromConfig); or targets in priority order (regions:
   * traffic moves to the next only when every zone of the current one is out); or a connector
   * from core to share.
   */
  endpoint: Endpoint | readonly ConnectorTarget[] | Connector
  /** Hostnames pinned to the endpoint. @default the endpoint's private DNS name and its vpce names */
  origins?: string[]
  /** Name the certificate must carry and SNI sends. @default each request's hostname */
  servername?: string
  /** Extra CA certificates (PEM); Node's roots (Amazon Trust Services included) are kept. */
  ca?: string | string[]
  /**
   * Where this code runs: own zone first. Passed to the connector only when given.
   * @default detected by the connector (environment at once, metadata in the background)
   */
  locality?: Locality | null
  /** Open connections per origin, all zones together. @default unlimited (undici's default) */
  connections?: number
  /** @default 1 */
  pipelining?: number
  /** Idle keep-alive sockets close after this long (undici's default; below typical NLB/ALB idle timeouts). @default 4000 */
  keepAliveTimeoutMs?: number
  /**
   * Time to wait for response headers (undici's default). A dead zone is found by the
   * connector's health checks, not by this; shorten it only for the service's own latency
   * budget. @default 300000
   */
  headersTimeoutMs?: number
  /** @default 300000 */
  bodyTimeoutMs?: number
  /** Retries on another zone: which requests, how often, with what backoff and budget. */
  retry?: RetryOptions
  /**
   * Send requests for other hosts through plain undici Pools (this dispatcher's connection
   * settings, no zones, no retries) instead of refusing them. @default false
   */
  passthrough?: boolean
  /** Connector settings when `endpoint` is an Endpoint (see @privatelink/core for defaults). */
  attemptDelayMs?: number
  /** Connector setting: give up on one TCP connect after this long. @default 10000 */
  connectTimeoutMs?: number
  /** Connector setting: give up on one TLS handshake after this long. @default 10000 */
  tlsTimeoutMs?: number
  /** Connector setting: outlier ejection of failing zones (see @privatelink/core). */
  ejection?: EjectionOptions
  /** Connector setting: active health checks of each zone (see @privatelink/core). */
  healthCheck?: HealthCheckOptions
  /** Connector setting: `'lambda'` runs no background checks or probes. @default 'default' */
  profile?: 'default' | 'lambda'
  /** Connector setting: resolves zonal DNS names. @default a private-only resolver */
  resolver?: Resolver
  /** Ejection windows and Retry-After dates. @default Date.now */
  clock?: () => number
  /**
   * A request that has received no byte for this long asks the connector for a health check of
   * every zone now (at most once a second), so a zone that dies under keep-alive traffic is
   * ejected, and its idempotent requests moved, within one check timeout instead of at the next
   * periodic round (up to 2 s later). A slow but alive backend costs only those checks. 0 turns
   * it off. @default 500; 0 with `profile: 'lambda'`
   */
  stallCheckMs?: number
}

/** The options, checked and with their defaults: what the dispatcher is built from. */
export interface DispatcherConfig {
  connector: Connector
  ownsConnector: boolean
  /** Pinned hostnames, lowercase. */
  origins: string[]
  servername: string | undefined
  /** Node's roots plus the extra CAs, or undefined for Node's default. */
  ca: string[] | undefined
  connections: number | undefined
  /** undici's Client options, named as undici names them. */
  client: {
    keepAliveTimeout: number
    headersTimeout: number
    bodyTimeout: number
    pipelining: number
  }
  policy: RetryPolicy
  passthrough: boolean
  stallMs: number
  clock: () => number
}

const isConnector = (value: unknown): value is Connector =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Connector).connect === 'function' &&
  'undici' in value

function defaultOrigins(endpoints: readonly Endpoint[]): string[] {
  const names = endpoints.flatMap((endpoint) => [
    endpoint.privateDnsName,
    endpoint.dnsName,
    ...endpoint.zones.map((z) => z.dnsName),
  ])
  return [...new Set(names.filter((n): n is string => typeof n === 'string'))]
}

/** Connector settings a dispatcher passes on when it makes its own connector. */
const CONNECTOR_OPTIONS = [
  'locality',
  'attemptDelayMs',
  'connectTimeoutMs',
  'tlsTimeoutMs',
  'ejection',
  'healthCheck',
  'profile',
  'resolver',
  'clock',
] as const

/** A raw error met while reading the options, as ERR_INVALID_OPTION naming what threw. */
function asOptionError(options: unknown, error: unknown): unknown {
  try {
    checkOptions('options', options, () => {
      throw error
    })
  } catch (converted) {
    return converted
  }
  return error
}

function connectorOf(options: EndpointDispatcherOptions): Connector {
  const { endpoint } = options
  if (isConnector(endpoint)) return endpoint
  const connectorOptions: Record<string, unknown> = { endpoint, port: 443 }
  for (const name of CONNECTOR_OPTIONS)
    if (options[name] !== undefined) connectorOptions[name] = options[name]
  return createConnector(connectorOptions as unknown as ConnectorOptions)
}

function checkRest(options: EndpointDispatcherOptions, connector: Connector) {
  const origins =
    options.origins ?? defaultOrigins(connector.targets.map((target) => target.endpoint))
  if (
    !Array.isArray(origins) ||
    origins.length === 0 ||
    origins.some((o) => typeof o !== 'string' || o === '')
  ) {
    throw invalidOption('origins', 'a non-empty array of hostnames', origins)
  }
  const { servername, ca } = options
  if (servername !== undefined && (typeof servername !== 'string' || servername === ''))
    throw invalidOption('servername', 'a DNS name', servername)
  if (
    ca !== undefined &&
    (Array.isArray(ca)
      ? ca.some((pem) => typeof pem !== 'string' || pem === '')
      : typeof ca !== 'string' || ca === '')
  )
    throw invalidOption('ca', 'a PEM certificate string or an array of them', ca)
  for (const name of [
    'connections',
    'pipelining',
    'keepAliveTimeoutMs',
    'headersTimeoutMs',
    'bodyTimeoutMs',
  ] as const) {
    integerOption(name, options[name], 0)
  }
  if (options.passthrough !== undefined && typeof options.passthrough !== 'boolean')
    throw invalidOption('passthrough', 'a boolean', options.passthrough)
  return {
    origins: origins.map((o) => (o.includes('://') ? new URL(o).hostname : o).toLowerCase()),
    servername,
    // Extra CAs join Node's roots (Amazon Trust Services included), as documented. One array for
    // the dispatcher's life: core shares one secure context per bundle (parsing ~150 roots costs
    // ~20 ms per handshake otherwise).
    ca: ca === undefined ? undefined : [...rootCertificates, ...(Array.isArray(ca) ? ca : [ca])],
    connections: options.connections,
    client: {
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
      headersTimeout: options.headersTimeoutMs ?? 300_000,
      bodyTimeout: options.bodyTimeoutMs ?? 300_000,
      pipelining: options.pipelining ?? 1,
    },
    policy: retryPolicy(options.retry),
    passthrough: options.passthrough === true,
    stallMs: integerOption(
      'stallCheckMs',
      options.stallCheckMs,
      options.profile === 'lambda' ? 0 : 500,
    ),
    clock: options.clock ?? Date.now,
  }
}

/**
 * Every option checked, every default applied. A value that throws when read (a revoked Proxy, a
 * throwing getter) is ERR_INVALID_OPTION naming it, and a connector made here is closed again
 * when a later option is refused.
 */
export function resolveDispatcherOptions(options: EndpointDispatcherOptions): DispatcherConfig {
  checkOptions('options', options, () => undefined)
  let made: Connector | undefined
  try {
    if (typeof options !== 'object' || options === null)
      throw invalidOption('options', 'an object', options)
    const connector = connectorOf(options)
    const ownsConnector = connector !== options.endpoint
    if (ownsConnector) made = connector
    return { connector, ownsConnector, ...checkRest(options, connector) }
  } catch (error) {
    made?.close()
    throw asOptionError(options, error)
  }
}
