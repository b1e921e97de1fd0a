import { invalidSecretOption } from '@privatelink/base'
import { awsErrorFacts, invalidOption, PrivateLinkError, sanitizedCause } from '@privatelink/core'

/** The part of SecretsManagerClient we use (inject one in tests, or to share a client). */
export interface SecretsManagerClientLike {
  /** Runs a GetSecretValue command (a `GetSecretValueCommand`, or `{ input: { SecretId } }` for a double). */
  send(command: unknown): Promise<{
    /** The secret's text: RDS's JSON `{ "username", "password" }`. */
    SecretString?: string | undefined
  }>
}

/**
 * `SecretsManagerClientConfig` from @aws-sdk/client-secrets-manager, typed structurally so that
 * this package's types do not need the optional peer installed.
 */
export type SecretsManagerClientConfigLike = Readonly<Record<string, unknown>>

/**
 * `auth` for a password kept in Secrets Manager: read on first connect, cached, and read again
 * after an authentication failure (the secret was rotated).
 */
export interface SecretAuth {
  /** The secret's name or ARN; its value is the JSON `{ "username", "password" }` RDS writes. */
  secretId: string
  /** The secret's region. @default the pool's region */
  region?: string
  /**
   * A SecretsManagerClient of your own (shared, or configured as you like); anything with the
   * same `send()` works too (a test double receives `{ input: { SecretId } }`).
   * @default a SecretsManagerClient from @aws-sdk/client-secrets-manager, loaded on first use
   */
  client?: SecretsManagerClientLike
  /**
   * Config for the SecretsManagerClient pg creates (not with `client`), spread after `region` and
   * the pool's `credentials`: e.g. `{ requestHandler: createAwsRequestHandler(...) }` from
   * @privatelink/aws-sdk to reach Secrets Manager through its interface endpoint.
   * @default {}
   */
  clientConfig?: SecretsManagerClientConfigLike
}

export interface SecretPassword {
  /** The password: from the cache, or read once. */
  get(): Promise<string>
  /** Drops the cache so the next get() reads the secret again (after an auth failure: rotation). */
  invalidate(): void
}

type Sdk = typeof import('@aws-sdk/client-secrets-manager')

/**
 * Reads `{ username, password }` from Secrets Manager, caches it, and reads it again only after
 * `invalidate()` (an authentication failure: the secret was probably rotated).
 */
export function secretPassword(
  auth: SecretAuth,
  user: string,
  region: string | undefined,
  credentials: unknown,
): SecretPassword {
  validateClientConfig(auth)
  let cached: Promise<string> | undefined
  let client:
    | Promise<{ client: SecretsManagerClientLike; command: (id: string) => unknown }>
    | undefined
  const load = async () => {
    client ??= (async () => {
      const given = auth.client
      if (given !== undefined) {
        // A real SDK client runs the command's own middleware (resolveMiddleware): it needs a
        // GetSecretValueCommand, not the bare `{ input }` a client-like double accepts.
        if (!isSdkClient(given))
          return { client: given, command: (id: string) => ({ input: { SecretId: id } }) }
        const sdk = await loadSdk(auth.secretId)
        return {
          client: given,
          command: (id: string) => new sdk.GetSecretValueCommand({ SecretId: id }),
        }
      }
      const sdk = await loadSdk(auth.secretId)
      const region_ = auth.region ?? region
      const instance = new sdk.SecretsManagerClient({
        ...(region_ === undefined ? {} : { region: region_ }),
        ...(credentials === undefined ? {} : { credentials: credentials as never }),
        ...auth.clientConfig,
      })
      return {
        client: instance as SecretsManagerClientLike,
        command: (id: string) => new sdk.GetSecretValueCommand({ SecretId: id }),
      }
    })().catch((error: unknown) => {
      client = undefined
      throw error
    })
    const { client: instance, command } = await client
    let text: string | undefined
    try {
      text = (await instance.send(command(auth.secretId))).SecretString
    } catch (cause) {
      // The SDK's error holds the signed request ($response): only its redacted facts are kept.
      throw secretError(
        auth.secretId,
        `could not be read: ${awsErrorFacts(cause).message}`,
        sanitizedCause(cause),
      )
    }
    let value: { username?: unknown; password?: unknown }
    try {
      value = JSON.parse(text ?? '')
    } catch {
      throw secretError(auth.secretId, 'is not JSON with { username, password }')
    }
    if (typeof value.password !== 'string')
      throw secretError(auth.secretId, 'has no string "password" field')
    if (value.username !== undefined && value.username !== user) {
      throw secretError(
        auth.secretId,
        `is for user ${JSON.stringify(value.username)}, not ${JSON.stringify(user)}`,
      )
    }
    return value.password
  }
  return {
    get() {
      cached ??= load().catch((error: unknown) => {
        cached = undefined
        throw error
      })
      return cached
    },
    invalidate() {
      cached = undefined
    },
  }
}

function validateClientConfig(auth: SecretAuth): void {
  const config: unknown = auth.clientConfig
  if (config === undefined) return
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw invalidSecretOption('auth.clientConfig', 'a SecretsManagerClient config object', config)
  if (auth.client !== undefined)
    throw invalidOption(
      'auth.clientConfig',
      'no clientConfig beside auth.client (it configures the client pg creates)',
      '[object]',
    )
}

/** Smithy clients carry a middleware stack; a client-like double has only `send()`. */
function isSdkClient(client: SecretsManagerClientLike): boolean {
  const stack = (client as { middlewareStack?: { resolve?: unknown } }).middlewareStack
  return typeof stack === 'object' && stack !== null && typeof stack.resolve === 'function'
}

async function loadSdk(secretId: string): Promise<Sdk> {
  return import('@aws-sdk/client-secrets-manager').catch((cause: unknown) => {
    throw new PrivateLinkError(
      'ERR_PG_SECRETS_MANAGER_MISSING',
      'auth: { secretId } needs @aws-sdk/client-secrets-manager, which is not installed',
      {
        hint: 'Install it next to @privatelink/pg (npm i @aws-sdk/client-secrets-manager), or pass auth.client.',
        details: { secretId },
        cause,
      },
    )
  })
}

function secretError(secretId: string, why: string, cause?: unknown): PrivateLinkError {
  return new PrivateLinkError('ERR_PG_SECRET_INVALID', `Secret ${secretId} ${why}`, {
    hint: 'The secret must be the JSON RDS writes ({"username": ..., "password": ...}) for the same user as the pool, readable with secretsmanager:GetSecretValue (and kms:Decrypt for a customer key).',
    details: { secretId },
    ...(cause === undefined ? {} : { cause }),
  })
}
