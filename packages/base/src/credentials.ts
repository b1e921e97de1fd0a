import type { AwsCredentialIdentity } from '@smithy/types'
import { invalidOptionDescribed, invalidSecretOption } from './invalid-option.js'

/**
 * AWS credentials: the SDK's own `AwsCredentialIdentity` (`accessKeyId`, `secretAccessKey`,
 * `sessionToken?`, `expiration?`, `accountId?`, `credentialScope?`), so what any SDK provider
 * returns is accepted as it is. A secret access key or session token is never logged or put in an
 * error.
 */
export type AwsCredentials = AwsCredentialIdentity

/**
 * Any `AwsCredentialIdentityProvider`, e.g. `fromNodeProviderChain()` or
 * `fromTemporaryCredentials({ params: { RoleArn, ExternalId } })`. The parameter is `never` so
 * that every SDK provider's parameter shape fits; we only ever call it with nothing or with
 * `{ forceRefresh: true }`.
 */
export type AwsCredentialsProvider = (options?: never) => Promise<AwsCredentials>

const UNREADABLE = 'a readable value (this one is a revoked Proxy or has a throwing getter)'

/** How we call a provider when its credentials are about to lapse (the SDK providers honour it). */
type Refreshable = (options?: { forceRefresh?: boolean }) => Promise<AwsCredentials>

/**
 * The `credentials` option every package takes, checked at construction: `undefined` (the SDK's
 * default chain), a provider, or an object whose `accessKeyId` is a string. Refused values are
 * described by type only: a string here may well be a secret.
 */
export function credentialsOption(
  option: string,
  value: unknown,
): AwsCredentials | AwsCredentialsProvider | undefined {
  if (value === undefined || typeof value === 'function')
    return value as AwsCredentialsProvider | undefined
  const expected = 'AWS credentials or a credential provider (e.g. fromTemporaryCredentials(...))'
  if (typeof value !== 'object' || value === null)
    throw invalidSecretOption(option, expected, value)
  let accessKeyId: unknown
  try {
    Reflect.getPrototypeOf(value)
  } catch (cause) {
    throw invalidOptionDescribed(option, UNREADABLE, 'a revoked Proxy', cause)
  }
  try {
    accessKeyId = (value as { accessKeyId?: unknown }).accessKeyId
  } catch (cause) {
    throw invalidOptionDescribed(`${option}.accessKeyId`, UNREADABLE, 'a getter that throws', cause)
  }
  if (typeof accessKeyId !== 'string') throw invalidSecretOption(option, expected, value)
  return value as AwsCredentials
}

/** Where credentials come from: what {@link credentialSource} needs. */
export interface CredentialSourceOptions {
  /** Fixed credentials, a provider, or `undefined` for `loadDefault`. */
  credentials: AwsCredentials | AwsCredentialsProvider | undefined
  /**
   * Loads the default chain, once, on first use. It lives in the caller so that the caller's own
   * dependency resolves `@aws-sdk/credential-providers` (and importing it costs nothing until
   * credentials are needed).
   */
  loadDefault: () => Promise<AwsCredentialsProvider>
  /** Milliseconds since the epoch. @default Date.now */
  clock?: () => number
  /**
   * A provider whose credentials lapse within this many milliseconds is asked again with
   * `{ forceRefresh: true }`, as `@aws-sdk/rds-signer` does: credentials about to lapse would
   * sign something short-lived. With 0, only credentials already expired are. @default 0
   */
  minValidityMs?: number
}

/**
 * One function that resolves the credentials to sign with, whatever form they were given in:
 * fixed credentials as they are, a provider called each time (and asked to force-refresh
 * credentials about to lapse), or the default chain, loaded once.
 */
export function credentialSource(options: CredentialSourceOptions): () => Promise<AwsCredentials> {
  const { credentials, loadDefault } = options
  const clock = options.clock ?? Date.now
  const minValidityMs = options.minValidityMs ?? 0
  if (typeof credentials === 'function') {
    return async () => {
      const resolved = await credentials()
      const left = (resolved.expiration?.getTime() ?? Number.POSITIVE_INFINITY) - clock()
      if (left > minValidityMs) return resolved
      return await (credentials as Refreshable)({ forceRefresh: true })
    }
  }
  if (credentials !== undefined) return async () => credentials
  let chain: Promise<AwsCredentialsProvider> | undefined
  return async () => {
    chain ??= loadDefault().catch((error: unknown) => {
      // A failed load (a missing package) is tried again on the next call, not cached.
      chain = undefined
      throw error
    })
    return await (await chain)()
  }
}
