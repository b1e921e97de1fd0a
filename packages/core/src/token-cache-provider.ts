import type { Channel } from 'node:diagnostics_channel'
import { inspect } from 'node:util'
import {
  type AwsCredentials,
  type AwsCredentialsProvider,
  awsErrorFacts,
  credentialsOption,
  invalidOption,
  type PrivateLinkError,
  sanitizedCause,
} from '@privatelink/base'
import {
  createTokenCache,
  type SignedToken,
  type TokenCache,
  type TokenLife,
} from './token-cache.js'

/**
 * The options every IAM token provider (pg's, redis's, mysql's) takes besides what its tokens are
 * for; an adapter's options interface extends this one.
 */
export interface TokenSigningOptions {
  /**
   * Signs the tokens: fixed credentials, or a provider (called for each signing; asked to
   * force-refresh when its credentials expire within twice `refreshMarginMs`). A token never
   * outlives the credentials' `expiration`.
   * @default the SDK's default chain (`fromNodeProviderChain()`), loaded on first use
   */
  credentials?: AwsCredentials | AwsCredentialsProvider
  /** Milliseconds since the epoch: the signing date and when a token is stale. @default Date.now */
  clock?: () => number
  /**
   * A token is no longer handed out this long before it expires (clock skew, a slow handshake); a
   * background refresh starts once it is past half its life. An integer from 0 to 599999.
   * @default 60000
   */
  refreshMarginMs?: number
}

/** Tokens live 15 minutes: a margin must leave some of it. */
const MAX_MARGIN_MS = 599_999

/**
 * What an adapter's IAM token provider (pg's RDS Proxy tokens, redis's ElastiCache ones) gives
 * {@link createTokenProvider}: who the tokens are for, how to sign one, and its own errors and
 * channels. The caching, the credentials and the diagnostics are core's.
 */
export interface TokenProviderOptions<Subject extends object> {
  /** Who the tokens are for (host, user, region, ...): the provider's own fields and the start of every diagnostics payload. Never a secret. */
  subject: Subject
  /** What `util.inspect` shows for the provider: the token is never on it. */
  label: string
  /**
   * The user's `credentials`, `clock` and `refreshMarginMs`, checked and defaulted here:
   * credentials as base's credentialsOption checks them (the default chain when absent),
   * `clock` Date.now, `refreshMarginMs` 60000 (an integer from 0 to 599999).
   */
  given: {
    /** The user's `credentials` option. */
    credentials?: unknown
    /** The user's `clock` option. */
    clock?: unknown
    /** The user's `refreshMarginMs` option. */
    refreshMarginMs?: unknown
  }
  /**
   * Loads the SDK's default chain on first use; it lives in the adapter so that the adapter's own
   * dependency resolves `@aws-sdk/credential-providers`.
   */
  loadDefaultCredentials: () => Promise<AwsCredentialsProvider>
  /** Signs one token; `now` is the clock's time once the credentials are resolved. */
  sign: (credentials: AwsCredentials, now: number) => Promise<SignedToken>
  /** The error to throw when a token a caller waited for cannot be served, or `undefined`. */
  checkFresh: (life: TokenLife, now: number) => PrivateLinkError | undefined
  /**
   * The adapter's typed error for a failed signing. `reason` is the failure's redacted message,
   * `cause` its sanitised copy: the SDK's error (with the signed request on it) never gets here.
   */
  signingError: (reason: string, cause: Error | undefined) => PrivateLinkError
  /** The adapter's `token-refreshed` and `token-refresh-failed` channels (see TokenCacheDiagnostics). */
  channels: {
    /** `token-refreshed`: `{ ...subject, validForMs, signMs }` after each signing. */
    refreshed: Channel
    /** `token-refresh-failed`: `{ ...subject, code, message, tokenValidForMs }`. */
    refreshFailed: Channel
  }
}

/**
 * An IAM token provider: the adapter's `subject` fields with a token cache's four methods
 * (`getToken`, `refresh`, `expiresAt`, `stats`), its options checked, its signings and failed
 * background refreshes published on the adapter's channels. The token lives in the cache's
 * closure only.
 */
export function createTokenProvider<Subject extends object>(
  options: TokenProviderOptions<Subject>,
): Subject & TokenCache {
  const { subject, given } = options
  const clock = given.clock ?? Date.now
  if (typeof clock !== 'function') throw invalidOption('clock', 'a function', clock)
  const refreshMarginMs = given.refreshMarginMs ?? 60_000
  if (
    typeof refreshMarginMs !== 'number' ||
    !Number.isInteger(refreshMarginMs) ||
    refreshMarginMs < 0 ||
    refreshMarginMs > MAX_MARGIN_MS
  )
    throw invalidOption('refreshMarginMs', `an integer from 0 to ${MAX_MARGIN_MS}`, refreshMarginMs)
  const cache = createTokenCache({
    credentials: credentialsOption('credentials', given.credentials),
    clock: clock as () => number,
    refreshMarginMs,
    loadDefaultCredentials: options.loadDefaultCredentials,
    sign: options.sign,
    checkFresh: options.checkFresh,
    signingError: (cause) =>
      options.signingError(awsErrorFacts(cause).message, sanitizedCause(cause)),
    diagnostics: { subject: subject as Readonly<Record<string, unknown>>, ...options.channels },
  })
  const provider = {
    ...subject,
    getToken: cache.getToken,
    refresh: cache.refresh,
    expiresAt: cache.expiresAt,
    stats: cache.stats,
  }
  Object.defineProperty(provider, inspect.custom, { enumerable: false, value: () => options.label })
  return provider
}
