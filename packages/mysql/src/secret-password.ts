import { awsErrorFacts, PrivateLinkError, sanitizedCause } from '@privatelink/core'

/** The part of SecretsManagerClient used here (inject one in tests, or to share a client). */
export interface SecretsManagerClientLike {
  /** Runs a GetSecretValue command (a double receives `{ input: { SecretId } }`). */
  send(command: unknown): Promise<{
    /** The secret's text: RDS's JSON `{ "username", "password" }`. */
    SecretString?: string | undefined
  }>
}

/**
 * `auth` for a password kept in Secrets Manager: read on first connect, cached, and read again
 * after an authentication failure (the secret was rotated).
 */
export interface SecretAuth {
  /** The secret's name or ARN; its value is the JSON `{ "username", "password" }` RDS writes. */
  secretId: string
  /** The secret's region. @default the pool's region */
  region?: string
  /** A SecretsManagerClient of your own. @default one from @aws-sdk/client-secrets-manager, loaded on first use */
  client?: SecretsManagerClientLike
  /** Config for the client this package creates (not with `client`), e.g. a `requestHandler`. @default {} */
  clientConfig?: Readonly<Record<string, unknown>>
}

/** The secret's password, cached until `invalidate()`. */
export interface SecretPassword {
  get(): Promise<string>
  invalidate(): void
}

type Sdk = typeof import('@aws-sdk/client-secrets-manager')

/** Reads `{ username, password }` from Secrets Manager once, and again after `invalidate()`. */
export function secretPassword(
  auth: SecretAuth,
  user: string,
  region: string | undefined,
  credentials: unknown,
): SecretPassword {
  let cached: Promise<string> | undefined
  const send = async (): Promise<string | undefined> => {
    const given = auth.client
    const isSdkClient =
      typeof (given as { middlewareStack?: unknown } | undefined)?.middlewareStack === 'object'
    if (given !== undefined && !isSdkClient)
      return (await given.send({ input: { SecretId: auth.secretId } })).SecretString
    const sdk = await loadSdk(auth.secretId)
    const secretRegion = auth.region ?? region
    const client =
      given ??
      (new sdk.SecretsManagerClient({
        ...(secretRegion === undefined ? {} : { region: secretRegion }),
        ...(credentials === undefined ? {} : { credentials: credentials as never }),
        ...auth.clientConfig,
      }) as SecretsManagerClientLike)
    return (await client.send(new sdk.GetSecretValueCommand({ SecretId: auth.secretId })))
      .SecretString
  }
  const load = async (): Promise<string> => {
    let text: string | undefined
    try {
      text = await send()
    } catch (cause) {
      if (PrivateLinkError.isInstance(cause)) throw cause
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
    if (value.username !== undefined && value.username !== user)
      throw secretError(
        auth.secretId,
        `is for user ${JSON.stringify(value.username)}, not ${JSON.stringify(user)}`,
      )
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

async function loadSdk(secretId: string): Promise<Sdk> {
  return import('@aws-sdk/client-secrets-manager').catch((cause: unknown) => {
    throw new PrivateLinkError(
      'ERR_MYSQL_SECRETS_MANAGER_MISSING',
      'auth: { secretId } needs @aws-sdk/client-secrets-manager, which is not installed',
      {
        hint: 'Install it next to @privatelink/mysql (npm i @aws-sdk/client-secrets-manager), or pass auth.client.',
        details: { secretId },
        cause,
      },
    )
  })
}

function secretError(secretId: string, why: string, cause?: unknown): PrivateLinkError {
  return new PrivateLinkError('ERR_MYSQL_SECRET_INVALID', `Secret ${secretId} ${why}`, {
    hint: 'The secret must be the JSON RDS writes ({"username": ..., "password": ...}) for the same user as the pool, readable with secretsmanager:GetSecretValue (and kms:Decrypt for a customer key).',
    details: { secretId },
    ...(cause === undefined ? {} : { cause }),
  })
}
