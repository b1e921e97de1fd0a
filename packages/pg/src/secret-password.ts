import { PrivateLinkError } from '@privatelink/core'

/** The part of SecretsManagerClient we use (inject one in tests, or to share a client). */
export interface SecretsManagerClientLike {
  send(command: unknown): Promise<{ SecretString?: string | undefined }>
}

export interface SecretAuth {
  secretId: string
  /** @default the pool's region */
  region?: string
  /** @default a SecretsManagerClient from @aws-sdk/client-secrets-manager, loaded on first use */
  client?: SecretsManagerClientLike
}

export interface SecretPassword {
  /** The password: from the cache, or read once. */
  get(): Promise<string>
  /** Drops the cache so the next get() reads the secret again (after an auth failure: rotation). */
  invalidate(): void
}

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
  let cached: Promise<string> | undefined
  let client:
    | Promise<{ client: SecretsManagerClientLike; command: (id: string) => unknown }>
    | undefined
  const load = async () => {
    client ??= (async () => {
      if (auth.client !== undefined)
        return { client: auth.client, command: (id: string) => ({ input: { SecretId: id } }) }
      const sdk = await import('@aws-sdk/client-secrets-manager').catch((cause: unknown) => {
        throw new PrivateLinkError(
          'ERR_PG_SECRETS_MANAGER_MISSING',
          'auth: { secretId } needs @aws-sdk/client-secrets-manager, which is not installed',
          {
            hint: 'Install it next to @privatelink/pg (npm i @aws-sdk/client-secrets-manager), or pass auth.client.',
            details: { secretId: auth.secretId },
            cause,
          },
        )
      })
      const region_ = auth.region ?? region
      const instance = new sdk.SecretsManagerClient({
        ...(region_ === undefined ? {} : { region: region_ }),
        ...(credentials === undefined ? {} : { credentials: credentials as never }),
      })
      return {
        client: instance as SecretsManagerClientLike,
        command: (id: string) => new sdk.GetSecretValueCommand({ SecretId: id }),
      }
    })()
    const { client: instance, command } = await client
    let text: string | undefined
    try {
      text = (await instance.send(command(auth.secretId))).SecretString
    } catch (cause) {
      throw secretError(auth.secretId, `could not be read: ${(cause as Error).message}`, cause)
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

function secretError(secretId: string, why: string, cause?: unknown): PrivateLinkError {
  return new PrivateLinkError('ERR_PG_SECRET_INVALID', `Secret ${secretId} ${why}`, {
    hint: 'The secret must be the JSON RDS writes ({"username": ..., "password": ...}) for the same user as the pool, readable with secretsmanager:GetSecretValue (and kms:Decrypt for a customer key).',
    details: { secretId },
    ...(cause === undefined ? {} : { cause }),
  })
}
