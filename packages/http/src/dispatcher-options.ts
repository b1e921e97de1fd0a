import {
  type Connector,
  type ConnectorTarget,
  type EjectionOptions,
  type Endpoint,
  type HealthCheckOptions,
  integerOption,
  invalidOption,
  type Locality,
} from '@privatelink/core'
import type { Resolver } from '@privatelink/dns'
import { type HttpConnectorSettings, resolveWithConnector } from './connector-source.js'
import { keepAliveTimeouts, pathIdleOf } from './keep-alive-timeouts.js'
import { type RetryOptions, type RetryPolicy, retryPolicy } from './retry-policy.js'
import { targetOptions } from './target-options.js'

/** Options of {@link createEndpointDispatcher}; each is validated at construction. */
export interface EndpointDispatcherOptions {
  /**
   * What to reach: the endpoint (discoverEndpoint / endpointFromConfig), or targets in priority
   * order (regions: traffic moves to the next only when every zone of the current one is out).
   * Not with `connector`. A Connector here is the older spelling of `connector`: still accepted,
   * with a one-time deprecation warning (`PRIVATELINK_DEP_HTTP_CONNECTOR_AS_ENDPOINT`).
   */
  endpoint?: Endpoint | readonly ConnectorTarget[] | Connector
  /**
   * A Connector from `createConnector` (@privatelink/core) to share with other clients of the
   * endpoint (a pg pool, a Redis client): one zone health, one set of checks. The dispatcher
   * neither configures nor closes it. @default one made from `endpoint` and `connectorOptions`
   */
  connector?: Connector
  /**
   * Settings for the connector made from `endpoint` (locality, resolver, ejection, healthCheck,
   * attemptDelayMs, ...; see @privatelink/core); they win over the older top-level spellings
   * below. Not with `connector`. @default {}
   */
  connectorOptions?: HttpConnectorSettings
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
  /**
   * Idle keep-alive sockets close after this long (undici's default). Must stay below four fifths
   * of the path's idle timeout (the connector's `pathIdleTimeoutMs`, 350 s): a socket idle longer
   * is forgotten by the endpoint and its next request gets a reset, so a longer value is refused
   * (ERR_INVALID_OPTION with a hint). A server's `Keep-Alive: timeout` hint is followed up to
   * that limit, not undici's 10 minutes. @default 4000
   */
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
  /** Older spelling of `connectorOptions.attemptDelayMs` (see @privatelink/core for defaults). */
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
    keepAliveMaxTimeout: number
    headersTimeout: number
    bodyTimeout: number
    pipelining: number
  }
  policy: RetryPolicy
  passthrough: boolean
  stallMs: number
  clock: () => number
}

function checkRest(options: EndpointDispatcherOptions, connector: Connector) {
  for (const name of ['connections', 'pipelining', 'headersTimeoutMs', 'bodyTimeoutMs'] as const) {
    integerOption(name, options[name], 0)
  }
  if (options.passthrough !== undefined && typeof options.passthrough !== 'boolean')
    throw invalidOption('passthrough', 'a boolean', options.passthrough)
  return {
    ...targetOptions(options, connector),
    connections: options.connections,
    client: {
      ...keepAliveTimeouts(options.keepAliveTimeoutMs, pathIdleOf(connector)),
      headersTimeout: options.headersTimeoutMs ?? 300_000,
      bodyTimeout: options.bodyTimeoutMs ?? 300_000,
      pipelining: options.pipelining ?? 1,
    },
    policy: retryPolicy(options.retry),
    passthrough: options.passthrough === true,
    stallMs: integerOption(
      'stallCheckMs',
      options.stallCheckMs,
      (options.connectorOptions?.profile ?? options.profile) === 'lambda' ? 0 : 500,
    ),
    clock: options.clock ?? Date.now,
  }
}

/** Every option checked, every default applied (see resolveWithConnector). */
export function resolveDispatcherOptions(options: EndpointDispatcherOptions): DispatcherConfig {
  return resolveWithConnector(options, 443, checkRest)
}
