import type { Channel } from 'node:diagnostics_channel'
import {
  type AwsCredentials,
  type AwsCredentialsProvider,
  awsErrorFacts,
  credentialSource,
  credentialsOption,
  invalidOption,
  PrivateLinkError,
} from '@privatelink/base'
import { checkOptions, integerOption } from './options.js'

/** AWS credentials as the SDK's providers return them (base's `AwsCredentials`); what a {@link TokenCache} signs with. */
export type TokenCredentials = AwsCredentials

/**
 * Any `AwsCredentialIdentityProvider` (base's `AwsCredentialsProvider`). The cache calls it with
 * `{ forceRefresh: true }` when its credentials are about to lapse.
 */
export type TokenCredentialsProvider = AwsCredentialsProvider

/** What a package's signer returns: the token and its own life, before the credentials cut it. */
export interface SignedToken {
  /** The token; kept in the cache's closure only. */
  token: string
  /** When it was signed (ms since the epoch); a background refresh starts half way from here. */
  signedAt: number
  /** When the token itself expires (ms since the epoch), e.g. its signing second plus 15 minutes. */
  expiresAt: number
}

/** The life of a cached token, without the token: what the cache's callbacks are told. */
export interface TokenLife {
  /** When it was signed (ms since the epoch). */
  signedAt: number
  /** When it really expires: its own expiry or the credentials', whichever comes first. */
  expiresAt: number
  /** No longer served from the cache from here on: `expiresAt - refreshMarginMs`. */
  usableUntil: number
  /** A background refresh starts from here on: half way from `signedAt` to `usableUntil`. */
  refreshFrom: number
  /** Whether the credentials' expiration, not the token's own, bounds its life. */
  boundByCredentials: boolean
}

/** Options of {@link createTokenCache}: how to sign, when a token is stale, which errors to throw. */
export interface TokenCacheOptions {
  /** Signs one token with resolved credentials; `now` is `clock()` once they are resolved. */
  sign: (credentials: TokenCredentials, now: number) => Promise<SignedToken>
  /** Fixed credentials, a provider, or `undefined` for `loadDefaultCredentials`. */
  credentials: TokenCredentials | TokenCredentialsProvider | undefined
  /**
   * Loads the default credential chain, called once on first use; it lives in the adapter so that
   * the adapter's own dependency resolves `@aws-sdk/credential-providers`.
   */
  loadDefaultCredentials: () => Promise<TokenCredentialsProvider>
  /** Milliseconds since the epoch. */
  clock: () => number
  /** A token is no longer served this long before it expires; validated by the adapter. */
  refreshMarginMs: number
  /**
   * Whether a token a caller waited for can be served after all: return the typed error to throw
   * (e.g. credentials already expired), or `undefined` to serve it. Adapters differ on the limit.
   */
  checkFresh: (life: TokenLife, now: number) => PrivateLinkError | undefined
  /** Wraps a signing failure in the adapter's typed error (with no secret in it). */
  signingError: (cause: unknown) => PrivateLinkError
  /** After each signing (for diagnostics). `signMs` includes resolving the credentials. */
  onSigned?: (life: TokenLife, signMs: number) => void
  /** After a failed background refresh, while the cached token is still served. */
  onRefreshFailed?: (error: unknown, tokenValidForMs: number) => void
  /**
   * The adapter's diagnostics channels: the cache publishes its signings and failed background
   * refreshes there, every payload starting with `subject`. Nothing is built while a channel has
   * no subscribers. @default none
   */
  diagnostics?: TokenCacheDiagnostics
}

/**
 * Where a token cache publishes, and what its payloads start with. Payloads never carry the token,
 * the credentials or an SDK error's raw message.
 */
export interface TokenCacheDiagnostics {
  /** Who the tokens are for (host, user, region, ...): the start of every payload. Never a secret. */
  subject: Readonly<Record<string, unknown>>
  /** Gets `{ ...subject, validForMs, signMs }` after each signing. */
  refreshed: Channel
  /**
   * Gets `{ ...subject, code, message, tokenValidForMs }` after a failed background refresh:
   * `code` is the error's own code or its name, `message` its redacted message.
   */
  refreshFailed: Channel
}

/** Counters since the cache was created: a snapshot from `stats()`. */
export interface TokenCacheStats {
  /** Tokens signed, background refreshes included. */
  signed: number
  /** getToken() calls answered with the cached token, without waiting. */
  cached: number
  /** getToken() calls that waited for signing (no valid token at hand). */
  waited: number
  /**
   * Background refreshes that failed while the cached token was still served (each published on
   * the adapter's `token-refresh-failed` channel; the next try waits 5 s). A failure a caller
   * waited for rejects its getToken() instead and is not counted here.
   */
  refreshFailures: number
}

/** One cached token, refreshed ahead of expiry; from {@link createTokenCache}. */
export interface TokenCache {
  /** A token valid for at least `refreshMarginMs`; waits for signing only when none is cached. */
  getToken(): Promise<string>
  /** Drops the cached token and signs a new one (after an authentication failure). */
  refresh(): Promise<void>
  /** When the cached token stops being served (ms since the epoch), if there is one. */
  expiresAt(): number | undefined
  /** A copy of the signing and cache counters, for metrics and tests: a snapshot. */
  stats(): TokenCacheStats
}

/** Wait between failed background refreshes while a valid token is still served: no STS storm. */
const REFRESH_RETRY_MS = 5_000

/**
 * The token engine shared by the pg and redis IAM token providers, shaped like smithy's memoize:
 * one cached token, a background refresh once it is past half its life, concurrent signings
 * collapsed into one, its life cut to the credentials' expiration. No timers: staleness is read
 * from `clock` on each call.
 */
export function createTokenCache(given: TokenCacheOptions): TokenCache {
  const options = checkOptions('options', given, () => tokenCacheOptions(given))
  const { sign, credentials, clock, refreshMarginMs } = options

  // Like @aws-sdk/rds-signer: credentials about to lapse would make a short-lived token.
  const resolveCredentials = credentialSource({
    credentials,
    loadDefault: options.loadDefaultCredentials,
    clock,
    minValidityMs: 2 * refreshMarginMs,
  })
  const published = publisher(options)

  // The token lives in this closure only: never on an enumerable property.
  let cached: { token: string; life: TokenLife } | undefined
  let inFlight: Promise<{ token: string; life: TokenLife }> | undefined
  // After a failed background refresh, the next one waits a little.
  let backgroundAfter = 0
  const counts: TokenCacheStats = { signed: 0, cached: 0, waited: 0, refreshFailures: 0 }

  const signEntry = async (): Promise<{ token: string; life: TokenLife }> => {
    const started = performance.now()
    const credentials = await resolveCredentials()
    const signed = await sign(credentials, clock())
    counts.signed++
    const expiresAt = Math.min(
      signed.expiresAt,
      credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY,
    )
    const usableUntil = expiresAt - refreshMarginMs
    const life: TokenLife = {
      signedAt: signed.signedAt,
      expiresAt,
      usableUntil,
      refreshFrom: signed.signedAt + Math.max(0, usableUntil - signed.signedAt) / 2,
      boundByCredentials: expiresAt < signed.expiresAt,
    }
    published.signed(life, performance.now() - started)
    return { token: signed.token, life }
  }

  const refreshOnce = () => {
    inFlight ??= signEntry()
      .then((entry) => {
        cached = entry
        return entry
      })
      .finally(() => {
        inFlight = undefined
      })
    return inFlight
  }

  const getToken = async (): Promise<string> => {
    const now = clock()
    const entry = cached
    if (entry !== undefined && now < entry.life.usableUntil) {
      counts.cached++
      if (now >= entry.life.refreshFrom && now >= backgroundAfter && inFlight === undefined) {
        refreshOnce().catch((error: unknown) => {
          counts.refreshFailures++
          backgroundAfter = clock() + REFRESH_RETRY_MS
          published.refreshFailed(error, entry.life.usableUntil - clock())
        })
      }
      return entry.token
    }
    counts.waited++
    try {
      const fresh = await refreshOnce()
      const now = clock()
      const unusable = options.checkFresh(fresh.life, now)
      if (unusable !== undefined) throw unusable
      return fresh.token
    } catch (error) {
      throw PrivateLinkError.isInstance(error) ? error : options.signingError(error)
    }
  }

  return {
    getToken,
    async refresh() {
      cached = undefined
      await refreshOnce().catch((error: unknown) => {
        throw options.signingError(error)
      })
    },
    expiresAt: () => cached?.life.usableUntil,
    stats: () => ({ ...counts }),
  }
}

const FUNCTIONS = ['sign', 'loadDefaultCredentials', 'clock', 'checkFresh', 'signingError'] as const
const OPTIONAL_FUNCTIONS = ['onSigned', 'onRefreshFailed'] as const

/** The engine's options, checked once: the adapters build them, but a bad one must not hide. */
function tokenCacheOptions(given: unknown): TokenCacheOptions {
  if (typeof given !== 'object' || given === null)
    throw invalidOption('options', 'an object', given)
  const options = { ...(given as TokenCacheOptions) }
  for (const name of FUNCTIONS)
    if (typeof options[name] !== 'function') throw invalidOption(name, 'a function', options[name])
  for (const name of OPTIONAL_FUNCTIONS)
    if (options[name] !== undefined && typeof options[name] !== 'function')
      throw invalidOption(name, 'a function', options[name])
  integerOption('refreshMarginMs', options.refreshMarginMs, 0, 0)
  // Described by type only: a string here may well be a secret.
  credentialsOption('credentials', options.credentials)
  const diagnostics: unknown = options.diagnostics
  if (diagnostics !== undefined) diagnosticsOption(diagnostics)
  return options
}

function diagnosticsOption(value: unknown): void {
  const diagnostics = value as Partial<TokenCacheDiagnostics> | null
  if (typeof diagnostics !== 'object' || diagnostics === null)
    throw invalidOption('diagnostics', '{ subject, refreshed, refreshFailed }', value)
  if (typeof diagnostics.subject !== 'object' || diagnostics.subject === null)
    throw invalidOption('diagnostics.subject', 'an object', diagnostics.subject)
  for (const name of ['refreshed', 'refreshFailed'] as const)
    if (typeof diagnostics[name]?.publish !== 'function')
      throw invalidOption(`diagnostics.${name}`, 'a diagnostics_channel Channel', diagnostics[name])
}

/** The cache's callbacks and channels behind two calls: what happened, never the token. */
function publisher(options: TokenCacheOptions): {
  signed: (life: TokenLife, signMs: number) => void
  refreshFailed: (error: unknown, tokenValidForMs: number) => void
} {
  const { diagnostics, clock } = options
  return {
    signed(life, signMs) {
      options.onSigned?.(life, signMs)
      if (diagnostics?.refreshed.hasSubscribers === true)
        diagnostics.refreshed.publish({
          ...diagnostics.subject,
          validForMs: life.usableUntil - clock(),
          signMs,
        })
    },
    refreshFailed(error, tokenValidForMs) {
      options.onRefreshFailed?.(error, tokenValidForMs)
      if (diagnostics?.refreshFailed.hasSubscribers !== true) return
      // The raw SDK error may repeat what it signed: only its redacted facts leave here.
      const facts = awsErrorFacts(error)
      const code = (error as { code?: unknown } | null)?.code
      diagnostics.refreshFailed.publish({
        ...diagnostics.subject,
        code: typeof code === 'string' ? code : facts.name,
        message: facts.message,
        tokenValidForMs,
      })
    },
  }
}
