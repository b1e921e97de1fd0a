import type { AwsCredentials, AwsCredentialsProvider } from '@privatelink/base'
import { invalidOption, PrivateLinkError, requiredStringOption } from '@privatelink/base'
import type { TokenCache, TokenCacheStats, TokenLife, TokenSigningOptions } from '@privatelink/core'
import { createTokenProvider } from '@privatelink/core'
import type { SignatureV4 } from '@smithy/signature-v4'
import { withCheckedOptions } from './checked-options.js'
import { tokenRefreshedChannel, tokenRefreshFailedChannel } from './diagnostics.js'
import { invalidSecretOption } from './secret-option.js'

// One credential type for every package (the SDK's AwsCredentialIdentity), under redis's names. A
// token never outlives the credentials' `expiration`, and a provider whose credentials lapse
// within twice `refreshMarginMs` is asked to force-refresh before signing.
export type { AwsCredentials, AwsCredentialsProvider } from '@privatelink/base'

/**
 * Options of createElastiCacheTokenProvider. Checked at construction: a bad value throws
 * `ERR_INVALID_OPTION` naming the option.
 */
export interface ElastiCacheTokenProviderOptions extends TokenSigningOptions {
  /** The IAM-enabled user's ID; ElastiCache requires its user name to be the same. */
  userId: string
  /**
   * The replication group ID or serverless cache name (MemoryDB: the cluster name): the token's
   * host. Never the DNS name you dial.
   */
  cacheName: string
  /** The cache's region. */
  region: string
  /** A serverless cache: the token carries `ResourceType=ServerlessCache`. @default false */
  serverless?: boolean
  /** The signing service: `'memorydb'` for MemoryDB (with its cluster name as `cacheName`). @default 'elasticache' */
  service?: 'elasticache' | 'memorydb'
}

/** Counters since the provider was created, from `stats()` (core's TokenCacheStats). */
export type ElastiCacheTokenProviderStats = TokenCacheStats

/**
 * IAM auth tokens for one user of one cache, from createElastiCacheTokenProvider: one cached token,
 * refreshed ahead of expiry. createRedis and createRedisCluster make one from `auth: { iam }`; use
 * it yourself to authenticate a client they do not create. The token never shows in `inspect`.
 * `getToken`, `refresh` (after a refused AUTH), `expiresAt` and `stats` are core's TokenCache.
 */
export interface ElastiCacheTokenProvider extends TokenCache {
  /** The IAM user ID tokens are signed for, also the AUTH user name. */
  readonly userId: string
  /** The replication group ID or serverless cache name (MemoryDB: cluster name) tokens are for. */
  readonly cacheName: string
  /** The region tokens are signed for. */
  readonly region: string
  /** The signing service: `'elasticache'` or `'memorydb'`. */
  readonly service: 'elasticache' | 'memorydb'
  /** Whether tokens carry `ResourceType=ServerlessCache`. */
  readonly serverless: boolean
}

/** ElastiCache and MemoryDB tokens live 15 minutes. */
export const TOKEN_LIFETIME_SECONDS = 900

const uriEscape = (value: string) =>
  encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )

/**
 * ElastiCache / MemoryDB IAM auth tokens: a SigV4-presigned `GET http://{cacheName}/?Action=connect
 * &User={userId}` without its scheme, signed with `@smithy/signature-v4` (loaded on first use). One
 * cached token, refreshed ahead of expiry, concurrent refreshes collapsed into one.
 */
export function createElastiCacheTokenProvider(
  options: ElastiCacheTokenProviderOptions,
): ElastiCacheTokenProvider {
  return withCheckedOptions(options, () => buildTokenProvider(options))
}

function buildTokenProvider(options: ElastiCacheTokenProviderOptions): ElastiCacheTokenProvider {
  if (typeof options !== 'object' || options === null)
    throw invalidSecretOption('options', 'an object', options)
  const userId = requiredStringOption('userId', options.userId, 'the IAM-enabled user ID')
  const cacheName = requiredStringOption(
    'cacheName',
    options.cacheName,
    'the replication group ID or serverless cache name',
  )
  if (cacheName.includes('.'))
    throw invalidOption(
      'cacheName',
      'the replication group ID or serverless cache name, not a DNS name',
      cacheName,
    )
  const region = requiredStringOption(
    'region',
    options.region,
    "the cache's region, e.g. us-west-2",
  )
  const serverless = options.serverless ?? false
  if (typeof serverless !== 'boolean') throw invalidOption('serverless', 'a boolean', serverless)
  const service = options.service ?? 'elasticache'
  if (service !== 'elasticache' && service !== 'memorydb')
    throw invalidOption('service', "'elasticache' or 'memorydb'", service)
  let signerClass: Promise<(credentials: AwsCredentials) => SignatureV4> | undefined
  const loadSigner = () => {
    signerClass ??= Promise.all([import('@smithy/signature-v4'), import('@smithy/hash-node')])
      .then(([{ SignatureV4 }, { Hash }]) => {
        // SHA-256 and HMAC from node:crypto, not a pure-JS hash.
        class Sha256 extends Hash {
          constructor(secret?: Parameters<typeof Hash.prototype.update>[0]) {
            super('sha256', secret)
          }
        }
        return (credentials: AwsCredentials) =>
          new SignatureV4({ service, region, credentials, sha256: Sha256 })
      })
      .catch((error: unknown) => {
        signerClass = undefined
        throw error
      })
    return signerClass
  }

  const base = { userId, cacheName, region, service, serverless }

  return createTokenProvider({
    subject: base,
    label: `ElastiCacheTokenProvider { ${userId}@${cacheName} (${service}, ${region}${serverless ? ', serverless' : ''}) }`,
    given: options,
    loadDefaultCredentials: () =>
      import('@aws-sdk/credential-providers').then(
        ({ fromNodeProviderChain }) => fromNodeProviderChain() as AwsCredentialsProvider,
      ),
    async sign(credentials, signedAt) {
      const signer = (await loadSigner())(credentials)
      const query: Record<string, string> = { Action: 'connect', User: userId }
      if (serverless) query['ResourceType'] = 'ServerlessCache'
      const presigned = await signer.presign(
        {
          method: 'GET',
          protocol: 'http:',
          hostname: cacheName,
          path: '/',
          query,
          headers: { host: cacheName },
        },
        { expiresIn: TOKEN_LIFETIME_SECONDS, signingDate: new Date(signedAt) },
      )
      const queryString = Object.entries(presigned.query ?? {})
        .map(([key, value]) => `${uriEscape(key)}=${uriEscape(String(value))}`)
        .join('&')
      return {
        token: `${cacheName}/?${queryString}`,
        signedAt,
        // X-Amz-Date has whole seconds: the token's life starts at the second it was signed in.
        expiresAt: Math.floor(signedAt / 1000) * 1000 + TOKEN_LIFETIME_SECONDS * 1000,
      }
    },
    // Unlike pg, a token already inside the margin is refused: it would die during the AUTH.
    checkFresh: (life, now) =>
      now >= life.usableUntil ? credentialsExpiringError(base, life, now) : undefined,
    signingError: (reason, cause) => signingError(base, reason, cause),
    channels: { refreshed: tokenRefreshedChannel, refreshFailed: tokenRefreshFailedChannel },
  })
}

type Base = { userId: string; cacheName: string; region: string; service: string }

/**
 * The AWS SDK's error (a credential provider's, STS's) holds the HTTP exchange, whose request
 * carries the caller's Authorization header and session token: only its sanitised facts are kept.
 */
function signingError(base: Base, reason: string, cause: Error | undefined): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_REDIS_TOKEN_SIGNING_FAILED',
    `Could not sign an IAM token for ${base.userId}@${base.cacheName}: ${reason}`,
    {
      hint: 'The token is signed with the credentials you pass (or the default chain): check that they resolve here (role assumption, ExternalId, STS reachability), and that @smithy/signature-v4 and @smithy/hash-node are installed.',
      details: { ...base },
      cause,
    },
  )
}

function credentialsExpiringError(base: Base, entry: TokenLife, now: number): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_REDIS_CREDENTIALS_EXPIRING',
    `The credentials signing IAM tokens for ${base.userId}@${base.cacheName} expire too soon: a new token would be valid for ${Math.round((entry.usableUntil - now) / 1000)} s after the margin`,
    {
      hint: 'Temporary credentials must still be valid when ElastiCache checks the token. Refresh them earlier (credential providers do so ahead of expiry) or lower refreshMarginMs.',
      details: { ...base },
    },
  )
}
