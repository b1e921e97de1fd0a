import { inspect } from 'node:util'
import {
  awsErrorFacts,
  createTokenCache,
  invalidOption,
  PrivateLinkError,
  sanitizedCause,
  type TokenLife,
} from '@privatelink/core'
import { tokenRefreshedChannel, tokenRefreshFailedChannel } from './diagnostics.js'
import { amzDate } from './errors.js'
import { invalidSecretOption } from './options.js'

/** AWS credentials as the SDK's providers return them. */
export interface AwsCredentials {
  /** Access key ID. */
  accessKeyId: string
  /** Secret access key; never logged or put in an error. */
  secretAccessKey: string
  /** Session token of temporary credentials. */
  sessionToken?: string
  /** When temporary credentials expire; a token is never served past it. */
  expiration?: Date
}

/** Any `AwsCredentialIdentityProvider`, e.g. `fromTemporaryCredentials({ params: { RoleArn } })`. */
export type AwsCredentialsProvider = (options?: never) => Promise<AwsCredentials>

/** Options of `createIamTokenProvider`. */
export interface IamTokenProviderOptions {
  /** The RDS Proxy endpoint name the token is signed for (never the vpce name you dial). */
  hostname: string
  /** The proxy's port, part of what is signed. @default 3306 */
  port?: number
  /** The database user; the token's DBUser. */
  username: string
  /** The proxy's region. */
  region: string
  /** Credentials that sign the tokens. @default the SDK's default chain, loaded on first use */
  credentials?: AwsCredentials | AwsCredentialsProvider
  /** Milliseconds since the epoch. @default Date.now */
  clock?: () => number
  /** A token counts as expired this long before it really does. @default 60000 */
  refreshMarginMs?: number
}

/** Counters since a provider was created, for metrics and tests. */
export interface IamTokenProviderStats {
  /** Tokens signed. */
  signed: number
  /** getToken() calls answered from the cache. */
  cached: number
  /** getToken() calls that had to wait for signing. */
  waited: number
  /** Background refreshes that failed while a valid token was kept. */
  refreshFailures: number
}

/** Caches and refreshes the RDS IAM token for one proxy, port and user. */
export interface IamTokenProvider {
  /** The RDS Proxy endpoint name the tokens are signed for. */
  readonly hostname: string
  /** The port the tokens are signed for. */
  readonly port: number
  /** The database user (DBUser). */
  readonly username: string
  /** The region the tokens are signed in. */
  readonly region: string
  /** A token valid for at least `refreshMarginMs`; waits for signing only when none is. */
  getToken(): Promise<string>
  /** Drops the cached token and signs a new one (after an authentication failure). */
  refresh(): Promise<void>
  /** When the cached token stops being served (ms since the epoch), if there is one. */
  expiresAt(): number | undefined
  /** A snapshot of the counters since the provider was created. */
  stats(): IamTokenProviderStats
}

/** RDS IAM tokens live 15 minutes. */
const TOKEN_LIFETIME_MS = 900_000

/**
 * RDS IAM tokens for RDS Proxy for MySQL, on core's token cache (one token, refreshed ahead in
 * the background, concurrent refreshes collapsed); `@aws-sdk/rds-signer` signs, loaded on first use.
 */
export function createIamTokenProvider(options: IamTokenProviderOptions): IamTokenProvider {
  if (typeof options !== 'object' || options === null)
    throw invalidSecretOption('options', 'an object of options', options)
  const { hostname, username, region } = options
  for (const [name, value] of [
    ['hostname', hostname],
    ['username', username],
    ['region', region],
  ] as const)
    if (typeof value !== 'string' || value === '')
      throw invalidOption(name, 'a non-empty string', value)
  const port = options.port ?? 3306
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw invalidOption('port', 'an integer from 1 to 65535', options.port)
  const clock = options.clock ?? Date.now
  const refreshMarginMs = options.refreshMarginMs ?? 60_000
  if (!Number.isInteger(refreshMarginMs) || refreshMarginMs < 0 || refreshMarginMs >= 600_000)
    throw invalidOption('refreshMarginMs', 'an integer from 0 to 599999', refreshMarginMs)
  const credentials = options.credentials
  if (
    credentials !== undefined &&
    typeof credentials !== 'function' &&
    typeof credentials?.accessKeyId !== 'string'
  )
    throw invalidSecretOption(
      'credentials',
      'AWS credentials or a credential provider',
      credentials,
    )
  const base = { hostname, port, username, region }
  let signer: Promise<typeof import('@aws-sdk/rds-signer')> | undefined
  const cache = createTokenCache({
    credentials,
    loadDefaultCredentials: () =>
      import('@aws-sdk/credential-providers').then(
        ({ fromNodeProviderChain }) => fromNodeProviderChain() as AwsCredentialsProvider,
      ),
    clock,
    refreshMarginMs,
    async sign(resolved) {
      signer ??= import('@aws-sdk/rds-signer')
      const { Signer } = await signer
      const token = await new Signer({ ...base, credentials: resolved }).getAuthToken()
      const signedAt =
        amzDate(new URLSearchParams(token.slice(token.indexOf('?') + 1)).get('X-Amz-Date')) ??
        clock()
      return { token, signedAt, expiresAt: signedAt + TOKEN_LIFETIME_MS }
    },
    checkFresh: (life, now) => (now >= life.expiresAt ? unusableError(base, life) : undefined),
    signingError: (cause) =>
      new PrivateLinkError(
        'ERR_MYSQL_TOKEN_SIGNING_FAILED',
        `Could not sign an IAM token for ${username}@${hostname}:${port}: ${awsErrorFacts(cause).message}`,
        {
          hint: 'The token is signed with the credentials you pass (or the default chain): check that they resolve here (role assumption, ExternalId, STS reachability) and that region is set.',
          details: { ...base },
          cause: sanitizedCause(cause),
        },
      ),
    onSigned(life, signMs) {
      if (tokenRefreshedChannel.hasSubscribers)
        tokenRefreshedChannel.publish({ ...base, validForMs: life.usableUntil - clock(), signMs })
    },
    onRefreshFailed(error, tokenValidForMs) {
      if (!tokenRefreshFailedChannel.hasSubscribers) return
      const facts = awsErrorFacts(error)
      const code = (error as { code?: unknown } | null)?.code
      tokenRefreshFailedChannel.publish({
        ...base,
        code: typeof code === 'string' ? code : facts.name,
        message: facts.message,
        tokenValidForMs,
      })
    },
  })
  const provider: IamTokenProvider = {
    ...base,
    getToken: cache.getToken,
    refresh: cache.refresh,
    expiresAt: cache.expiresAt,
    stats: cache.stats,
  }
  Object.defineProperty(provider, inspect.custom, {
    enumerable: false,
    value: () => `IamTokenProvider { ${username}@${hostname}:${port} (${region}) }`,
  })
  return provider
}

function unusableError(
  base: { username: string; hostname: string },
  life: TokenLife,
): PrivateLinkError {
  return life.boundByCredentials
    ? new PrivateLinkError(
        'ERR_MYSQL_CREDENTIALS_EXPIRING',
        `The credentials signing IAM tokens for ${base.username}@${base.hostname} have expired`,
        {
          hint: 'Temporary credentials must still be valid when the proxy checks the token: use a provider that refreshes them (fromTemporaryCredentials, fromNodeProviderChain) rather than a fixed set.',
          details: { ...base },
        },
      )
    : new PrivateLinkError(
        'ERR_MYSQL_TOKEN_EXPIRED',
        `A freshly signed IAM token for ${base.username}@${base.hostname} is already expired by this clock`,
        {
          hint: 'Tokens live 15 minutes from X-Amz-Date, which comes from the system clock: check that the clock option agrees with it.',
          details: { ...base },
        },
      )
}
