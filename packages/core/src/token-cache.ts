import { invalidOption, PrivateLinkError } from '@privatelink/dns'
import { checkOptions, integerOption } from './options.js'

/** AWS credentials as the SDK's providers return them; what a {@link TokenCache} signs with. */
export interface TokenCredentials {
  /** Access key ID (`AKIA...` long-term, `ASIA...` temporary). */
  accessKeyId: string
  /** Secret access key; never logged or put in an error. */
  secretAccessKey: string
  /** Session token of temporary (STS) credentials. */
  sessionToken?: string
  /** When temporary credentials lapse; a cached token never outlives them. Absent: no expiry. */
  expiration?: Date
}

/**
 * Any `AwsCredentialIdentityProvider`. `never` accepts every SDK provider's parameter shape; the
 * cache calls it with `{ forceRefresh: true }` when its credentials are about to lapse.
 */
export type TokenCredentialsProvider = (options?: never) => Promise<TokenCredentials>

type Refreshable = (options?: { forceRefresh?: boolean }) => Promise<TokenCredentials>

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
  /** Signs one token with resolved credentials. */
  sign: (credentials: TokenCredentials) => Promise<SignedToken>
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
}

/** Counters since the cache was created: a snapshot from `stats()`. */
export interface TokenCacheStats {
  /** Tokens signed, background refreshes included. */
  signed: number
  /** getToken() calls answered from the cache. */
  cached: number
  /** getToken() calls that waited for signing. */
  waited: number
  /** Background refreshes that failed while a valid token was kept. */
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
  /** A copy of the counters. */
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
  const { sign, credentials: credentialsOption, clock, refreshMarginMs } = options

  let defaultCredentials: Promise<TokenCredentialsProvider> | undefined
  const resolveCredentials = async (): Promise<TokenCredentials> => {
    if (typeof credentialsOption === 'function') {
      const credentials = await credentialsOption()
      const left = (credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY) - clock()
      // Like @aws-sdk/rds-signer: credentials about to lapse would make a short-lived token.
      if (left > 2 * refreshMarginMs) return credentials
      return await (credentialsOption as Refreshable)({ forceRefresh: true })
    }
    if (credentialsOption !== undefined) return credentialsOption
    defaultCredentials ??= options.loadDefaultCredentials()
    return await (await defaultCredentials)()
  }

  // The token lives in this closure only: never on an enumerable property.
  let cached: { token: string; life: TokenLife } | undefined
  let inFlight: Promise<{ token: string; life: TokenLife }> | undefined
  // After a failed background refresh, the next one waits a little.
  let backgroundAfter = 0
  const counts: TokenCacheStats = { signed: 0, cached: 0, waited: 0, refreshFailures: 0 }

  const signEntry = async (): Promise<{ token: string; life: TokenLife }> => {
    const started = performance.now()
    const credentials = await resolveCredentials()
    const signed = await sign(credentials)
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
    options.onSigned?.(life, performance.now() - started)
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
          options.onRefreshFailed?.(error, entry.life.usableUntil - clock())
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
  const credentials: unknown = options.credentials
  // Described by type only: a string here may well be a secret.
  if (
    credentials !== undefined &&
    (credentials === null || (typeof credentials !== 'object' && typeof credentials !== 'function'))
  )
    throw invalidOption(
      'credentials',
      'credentials { accessKeyId, secretAccessKey, sessionToken? } or a provider',
      credentials === null ? null : `(a ${typeof credentials})`,
    )
  return options
}
