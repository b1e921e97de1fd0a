import {
  type AwsCredentials,
  type AwsCredentialsProvider,
  credentialsOption,
  invalidOption,
  invalidOptionDescribed,
  invalidSecretOption,
} from '@privatelink/base'
import {
  type Connector,
  type ConnectorTarget,
  type ConnectorTlsOptions,
  createConnector,
  type Endpoint,
} from '@privatelink/core'
import type { Authenticator } from './authenticate.js'
import type { EndpointAuthOptions, IamAuthOptions, ResolvedAuthOptions } from './options.js'
import { createElastiCacheTokenProvider } from './token-provider.js'

/** A secondary target for createRedis: an endpoint and the cache behind it, in priority order. */
export interface RedisFailoverTarget {
  /** The endpoint to this target's cache (another region's, or a cross-region endpoint). */
  endpoint: Endpoint
  /** The name on this target's certificate: its cache's primary or serverless endpoint name. Required with TLS. */
  servername?: string
  /**
   * The replication group ID or serverless cache name this target's IAM tokens are signed for
   * (a Global Datastore's secondary has its own). IAM only. @default auth.iam.cacheName
   */
  cacheName?: string
  /** The region this target's tokens are signed for. IAM only. @default endpoint.serviceRegion, else endpoint.region */
  region?: string
  /** Signs this target's tokens (e.g. a role in a disaster-recovery account). IAM only. @default auth.iam.credentials */
  credentials?: AwsCredentials | AwsCredentialsProvider
}

/** How a connection in one target is verified and authenticated. */
export interface TargetAuth {
  servername: string
  tls: ConnectorTlsOptions | false
  authenticator: Authenticator | undefined
}

const TARGET_KEYS = new Set(['endpoint', 'servername', 'cacheName', 'region', 'credentials'])
const TARGET_SHAPE = '{ endpoint, servername, cacheName?, region?, credentials? }'
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/

const isEndpoint = (value: unknown): value is Endpoint =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as Endpoint).zones) &&
  (value as Endpoint).zones.length > 0 &&
  typeof (value as Endpoint).region === 'string'

/**
 * Every target in priority order, the first from the client's own options: each with its TLS name
 * and, with IAM, its own token provider (its cache name, its region: service region first, its
 * credentials). Validated here, so an error names the entry (`failover[1].servername`).
 */
export function resolveFailoverTargets(
  options: EndpointAuthOptions & { failover?: unknown },
  primary: ResolvedAuthOptions,
): { targets: TargetAuth[]; endpoints: ConnectorTarget[] } {
  const { failover } = options
  if (!Array.isArray(failover) || failover.length === 0)
    throw invalidSecretOption('failover', `a non-empty array of ${TARGET_SHAPE}`, failover)
  if (options.connector !== undefined)
    throw invalidOptionDescribed(
      'connector',
      'nothing when failover is set: the client creates one connector over every target (each with its own TLS name); pass its settings in connectorOptions',
      'a Connector',
    )
  const { auth } = options
  const iam = auth !== undefined && 'iam' in auth ? auth.iam : undefined
  const targets: TargetAuth[] = [
    { servername: primary.servername, tls: primary.tls, authenticator: primary.authenticator },
  ]
  const primaryProvider =
    primary.authenticator?.kind === 'iam' ? primary.authenticator.provider : undefined
  const endpoints: ConnectorTarget[] = [
    {
      endpoint: options.endpoint,
      // The region its tokens are signed for (auth.iam.region, else the endpoint's service region).
      ...(primaryProvider === undefined ? {} : { region: primaryProvider.region }),
      ...(primary.tls === false ? {} : { tls: primary.tls }),
    },
  ]
  for (const [index, entry] of (failover as unknown[]).entries()) {
    const name = `failover[${index}]`
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw invalidSecretOption(name, TARGET_SHAPE, entry)
    for (const key of Object.keys(entry))
      if (!TARGET_KEYS.has(key))
        // An unknown key may be `password`: its value is described by its type only.
        throw invalidSecretOption(
          `${name}.${key}`,
          `nothing: a target takes ${[...TARGET_KEYS].join(', ')} (auth and tls settings are shared)`,
          (entry as Record<string, unknown>)[key],
        )
    const target = entry as RedisFailoverTarget
    if (!isEndpoint(target.endpoint))
      throw invalidOption(
        `${name}.endpoint`,
        'an Endpoint (discoverEndpoint or endpointFromConfig)',
        target.endpoint,
      )
    const tlsOn = primary.tls !== false
    if (
      (tlsOn || target.servername !== undefined) &&
      (typeof target.servername !== 'string' || !/^[a-z0-9*.-]+$/i.test(target.servername))
    )
      throw invalidOption(
        `${name}.servername`,
        "this target's cache endpoint name on its certificate, e.g. master.my-cache.def456.use1.cache.amazonaws.com",
        target.servername,
      )
    if (
      target.region !== undefined &&
      (typeof target.region !== 'string' || !REGION.test(target.region))
    )
      throw invalidOption(`${name}.region`, 'a region name such as us-east-1', target.region)
    if (iam === undefined) {
      const expected = 'nothing without auth: { iam } (only IAM tokens are signed per target)'
      if (target.cacheName !== undefined)
        throw invalidOption(`${name}.cacheName`, expected, target.cacheName)
      if (target.credentials !== undefined)
        throw invalidSecretOption(`${name}.credentials`, expected, target.credentials)
    }
    if (
      target.cacheName !== undefined &&
      (typeof target.cacheName !== 'string' ||
        target.cacheName === '' ||
        target.cacheName.includes('.'))
    )
      throw invalidOption(
        `${name}.cacheName`,
        "this target's replication group ID or serverless cache name, not a DNS name",
        target.cacheName,
      )
    credentialsOption(`${name}.credentials`, target.credentials)
    const servername =
      target.servername ??
      target.endpoint.privateDnsName ??
      target.endpoint.dnsName ??
      target.endpoint.id
    const region = target.region ?? target.endpoint.serviceRegion ?? target.endpoint.region
    const tls: ConnectorTlsOptions | false =
      primary.tls === false ? false : { ...primary.tls, servername }
    targets.push({ servername, tls, authenticator: authenticatorFor(primary, iam, target, region) })
    endpoints.push({ endpoint: target.endpoint, region, ...(tls === false ? {} : { tls }) })
  }
  return { targets, endpoints }
}

function authenticatorFor(
  primary: ResolvedAuthOptions,
  iam: IamAuthOptions | undefined,
  target: RedisFailoverTarget,
  region: string,
): Authenticator | undefined {
  const base = primary.authenticator
  if (base?.kind !== 'iam' || iam === undefined) return base
  const credentials = target.credentials ?? iam.credentials
  const provider = createElastiCacheTokenProvider({
    ...iam,
    cacheName: target.cacheName ?? iam.cacheName,
    region,
    clock: primary.clock,
    ...(credentials === undefined ? {} : { credentials }),
  })
  return { kind: 'iam', user: base.user, provider }
}

/** One connector over every target (core's priority groups), owned by the client. */
export function failoverConnector(
  options: EndpointAuthOptions,
  endpoints: ConnectorTarget[],
  port: number,
): Connector {
  return createConnector({
    ...options.connectorOptions,
    endpoint: endpoints,
    port,
    // The first target's TLS also decides that health checks include a handshake; each target's
    // own name comes from its entry.
    ...(endpoints[0]!.tls === undefined ? {} : { tls: endpoints[0]!.tls }),
    ...(options.locality === undefined ? {} : { locality: options.locality }),
  })
}
