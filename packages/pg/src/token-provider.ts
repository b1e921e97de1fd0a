import type { AwsCredentialsProvider } from '@privatelink/base'
import { invalidOption, PrivateLinkError, requiredStringOption } from '@privatelink/base'
import type { TokenCache, TokenCacheStats, TokenLife, TokenSigningOptions } from '@privatelink/core'
import { createTokenProvider } from '@privatelink/core'
import { tokenRefreshedChannel, tokenRefreshFailedChannel } from './diagnostics.js'
import { readOptions } from './read-options.js'

// One credential type for every package (the SDK's AwsCredentialIdentity), under pg's names.
export type { AwsCredentials, AwsCredentialsProvider } from '@privatelink/base'

/**
 * Options of `createIamTokenProvider`: what the token is for; `credentials`, `clock` and
 * `refreshMarginMs` (core's TokenSigningOptions) say how to sign and refresh it.
 */
export interface IamTokenProviderOptions extends TokenSigningOptions {
  /** The RDS Proxy endpoint name the token is signed for (never the vpce name you dial). */
  hostname: string
  /** The proxy's port, part of what is signed. @default 5432 */
  port?: number
  /** The database user; the token's DBUser. */
  username: string
  /** The proxy's region (a vpce name does not tell it reliably). */
  region: string
}

/** Counters since the provider was created, for metrics and tests (core's TokenCacheStats). */
export type IamTokenProviderStats = TokenCacheStats

/**
 * Caches and refreshes the RDS IAM token for one proxy, user and region; share one between pools
 * with the `tokenProvider` option. `getToken`, `refresh`, `expiresAt` and `stats` are core's
 * TokenCache.
 */
export interface IamTokenProvider extends TokenCache {
  /** The RDS Proxy endpoint name the tokens are signed for. */
  readonly hostname: string
  /** The port the tokens are signed for. */
  readonly port: number
  /** The database user (DBUser) the tokens are for. */
  readonly username: string
  /** The region the tokens are signed in. */
  readonly region: string
}

/** RDS IAM tokens live 15 minutes (X-Amz-Expires=900). */
const TOKEN_LIFETIME_MS = 900_000

type SignerModule = typeof import('@aws-sdk/rds-signer')

/**
 * IAM authentication tokens for RDS Proxy, shaped like smithy's memoize: one cached token per
 * provider, refreshed ahead of expiry in the background, concurrent refreshes collapsed. The
 * caching, credentials and diagnostics are core's `createTokenProvider`; this file signs and
 * names the errors.
 */
export function createIamTokenProvider(given: IamTokenProviderOptions): IamTokenProvider {
  const options = readOptions(
    given,
    '',
    'an object of options',
  ) as unknown as IamTokenProviderOptions
  const hostname = requiredStringOption('hostname', options.hostname, 'the RDS Proxy endpoint name')
  const username = requiredStringOption('username', options.username, 'the database user name')
  const region = requiredStringOption(
    'region',
    options.region,
    "the proxy's region, e.g. us-west-2",
  )
  const port = options.port ?? 5432
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw invalidOption('port', 'an integer from 1 to 65535', options.port)
  let signerModule: Promise<SignerModule> | undefined
  const base = { hostname, port, username, region }

  return createTokenProvider({
    subject: base,
    label: `IamTokenProvider { ${username}@${hostname}:${port} (${region}) }`,
    given: options,
    loadDefaultCredentials: () =>
      import('@aws-sdk/credential-providers').then(
        ({ fromNodeProviderChain }) => fromNodeProviderChain() as AwsCredentialsProvider,
      ),
    async sign(credentials, now) {
      signerModule ??= import('@aws-sdk/rds-signer')
      const { Signer } = await signerModule
      // Static credentials: the token is signed with exactly the identity whose expiry we know.
      const signer = new Signer({ hostname, port, username, region, credentials })
      const token = await signer.getAuthToken()
      const issuedAt = signedAt(token) ?? now
      return { token, signedAt: issuedAt, expiresAt: issuedAt + TOKEN_LIFETIME_MS }
    },
    // Inside the margin but not expired: better to try than to fail here.
    checkFresh: (life, now) =>
      now >= life.expiresAt ? unusableTokenError(base, life, now) : undefined,
    signingError: (reason, cause) => signingError(base, reason, cause),
    channels: { refreshed: tokenRefreshedChannel, refreshFailed: tokenRefreshFailedChannel },
  })
}

/** X-Amz-Date from the token: the signing time the proxy checks, whatever our clock says. */
function signedAt(token: string): number | undefined {
  const query = token.slice(token.indexOf('?') + 1)
  const date = new URLSearchParams(query).get('X-Amz-Date')
  const match = date === null ? null : /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(date)
  if (match === null) return undefined
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[]
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!)
}

type Base = { hostname: string; port: number; username: string; region: string }

/** `reason` and `cause` come sanitised from core: the SDK's error holds the signed request. */
function signingError(base: Base, reason: string, cause: Error | undefined): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_PG_TOKEN_SIGNING_FAILED',
    `Could not sign an IAM token for ${base.username}@${base.hostname}:${base.port}: ${reason}`,
    {
      hint: 'The token is signed with the credentials you pass (or the default chain): check that they resolve here (role assumption, ExternalId, STS reachability) and that region is set.',
      details: { ...base },
      cause,
    },
  )
}

function unusableTokenError(base: Base, entry: TokenLife, now: number): PrivateLinkError {
  if (entry.boundByCredentials) {
    return new PrivateLinkError(
      'ERR_PG_CREDENTIALS_EXPIRING',
      `The credentials signing IAM tokens for ${base.username}@${base.hostname} have expired (${Math.round((now - entry.expiresAt) / 1000)} s ago)`,
      {
        hint: 'Temporary credentials must still be valid when the proxy checks the token: use a provider that refreshes them (fromTemporaryCredentials, fromNodeProviderChain) rather than a fixed set.',
        details: { ...base },
      },
    )
  }
  return new PrivateLinkError(
    'ERR_PG_TOKEN_EXPIRED',
    `A freshly signed IAM token for ${base.username}@${base.hostname} is already expired by this clock (signed ${Math.round((now - entry.signedAt) / 1000)} s ago)`,
    {
      hint: 'Tokens live 15 minutes from X-Amz-Date, which comes from the system clock: check that the clock option agrees with it (and that the host clock is synchronised).',
      details: { ...base },
    },
  )
}
