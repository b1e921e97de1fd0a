import { randomBytes, randomUUID } from 'node:crypto'

/** A Secrets Manager error as the JSON protocol names it; the message never holds a secret value. */
export interface SecretsManagerFault {
  type: string
  message: string
}

/** The value of one version: exactly one of the two (SecretBinary as base64, as on the wire). */
export type SecretValue = { string: string } | { binary: string }

interface SecretVersion {
  id: string
  value: SecretValue
  stages: string[]
  createdAt: number
}

interface StoredSecret {
  name: string
  arn: string
  description: string | undefined
  createdAt: number
  changedAt: number
  /** Principal ARNs allowed to use the secret; undefined: every principal the lab knows. */
  readers: readonly string[] | undefined
  /** Oldest first. A version without stages is deprecated: reachable by VersionId only. */
  versions: SecretVersion[]
}

export interface SecretVersionView {
  arn: string
  name: string
  versionId: string
  value: SecretValue
  stages: string[]
  createdAt: number
}

export interface SecretDescription {
  arn: string
  name: string
  description: string | undefined
  createdAt: number
  changedAt: number
  versionIdsToStages: Record<string, string[]>
}

export const CURRENT = 'AWSCURRENT'
export const PREVIOUS = 'AWSPREVIOUS'

const namePattern = /^[A-Za-z0-9/_+=.@-]{1,512}$/
const tokenPattern = /^[A-Za-z0-9-]{32,64}$/
const MAX_VALUE_BYTES = 65_536

const fault = (type: string, message: string): SecretsManagerFault => ({ type, message })
const notFound = () =>
  fault('ResourceNotFoundException', "Secrets Manager can't find the specified secret.")

function arnSuffix(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  let suffix = ''
  for (const byte of randomBytes(6)) suffix += alphabet[byte % alphabet.length]
  return suffix
}

const sameValue = (a: SecretValue, b: SecretValue) =>
  'string' in a ? 'string' in b && a.string === b.string : 'binary' in b && a.binary === b.binary

function checkValue(value: SecretValue): SecretsManagerFault | undefined {
  const text = 'string' in value ? value.string : value.binary
  if (Buffer.byteLength(text) > MAX_VALUE_BYTES)
    return fault('InvalidParameterException', 'The secret value exceeds the 65536-byte quota.')
  return undefined
}

/**
 * The secrets of one lab Secrets Manager: names, ARNs, versions and staging labels, with the
 * rotation rule AWS applies (a new AWSCURRENT demotes the old one to AWSPREVIOUS). Values live
 * in a private field, so `util.inspect` of the store shows none.
 */
export class SecretsManagerStore {
  readonly #secrets = new Map<string, StoredSecret>()
  readonly #region: string
  readonly #accountId: string
  readonly #clock: () => number

  constructor(region: string, accountId: string, clock: () => number) {
    this.#region = region
    this.#accountId = accountId
    this.#clock = clock
  }

  /** By name, full ARN, or partial ARN (without the random 6-character suffix), as AWS accepts. */
  #find(secretId: string): StoredSecret | undefined {
    const byName = this.#secrets.get(secretId)
    if (byName !== undefined) return byName
    if (!secretId.startsWith('arn:')) return undefined
    for (const secret of this.#secrets.values()) {
      if (secret.arn === secretId || secret.arn.slice(0, -7) === secretId) return secret
    }
    return undefined
  }

  /**
   * The secret, or a fault: ResourceNotFoundException, or AccessDeniedException for a principal
   * it does not allow. No principal: the lab itself, which may do anything.
   */
  #access(
    secretId: unknown,
    principal: string | undefined,
    action: string,
  ): StoredSecret | SecretsManagerFault {
    if (typeof secretId !== 'string' || secretId === '')
      return fault('InvalidParameterException', 'You must provide a SecretId.')
    const secret = this.#find(secretId)
    if (secret === undefined) return notFound()
    if (
      principal !== undefined &&
      secret.readers !== undefined &&
      !secret.readers.includes(principal)
    )
      return fault(
        'AccessDeniedException',
        `User: ${principal} is not authorized to perform: secretsmanager:${action} on resource: ${secretId} because no resource-based policy allows the secretsmanager:${action} action`,
      )
    return secret
  }

  has(secretId: string): boolean {
    return this.#find(secretId) !== undefined
  }

  create(input: {
    name: unknown
    value?: SecretValue | undefined
    description?: unknown
    versionId?: unknown
    readers?: readonly string[] | undefined
  }): { arn: string; name: string; versionId: string | undefined } | SecretsManagerFault {
    const { name } = input
    if (typeof name !== 'string' || !namePattern.test(name))
      return fault(
        'InvalidParameterException',
        'Name must be 1-512 characters of letters, digits and /_+=.@-.',
      )
    if (this.#secrets.has(name))
      return fault(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      )
    if (input.description !== undefined && typeof input.description !== 'string')
      return fault('InvalidParameterException', 'Description must be a string.')
    const now = this.#clock()
    const secret: StoredSecret = {
      name,
      arn: `arn:aws:secretsmanager:${this.#region}:${this.#accountId}:secret:${name}-${arnSuffix()}`,
      description: input.description,
      createdAt: now,
      changedAt: now,
      readers: input.readers,
      versions: [],
    }
    let versionId: string | undefined
    if (input.value !== undefined) {
      const invalid = checkValue(input.value)
      if (invalid !== undefined) return invalid
      const token = this.#token(input.versionId)
      if (typeof token !== 'string') return token
      secret.versions.push({ id: token, value: input.value, stages: [CURRENT], createdAt: now })
      versionId = token
    }
    this.#secrets.set(name, secret)
    return { arn: secret.arn, name, versionId }
  }

  #token(token: unknown): string | SecretsManagerFault {
    if (token === undefined) return randomUUID()
    if (typeof token !== 'string' || !tokenPattern.test(token))
      return fault(
        'InvalidParameterException',
        'ClientRequestToken must be 32-64 characters of letters, digits and hyphens.',
      )
    return token
  }

  /**
   * A new version. Staging labels move to it (default AWSCURRENT); when AWSCURRENT moves, the
   * version that held it becomes AWSPREVIOUS, and the label leaves the one before. A repeated
   * ClientRequestToken with the same value is the same call (the SDK retries with it).
   */
  put(input: {
    secretId: unknown
    principal: string | undefined
    value: SecretValue
    versionId?: unknown
    stages?: unknown
  }): { arn: string; name: string; versionId: string; stages: string[] } | SecretsManagerFault {
    const secret = this.#access(input.secretId, input.principal, 'PutSecretValue')
    if ('type' in secret) return secret
    const invalid = checkValue(input.value)
    if (invalid !== undefined) return invalid
    const token = this.#token(input.versionId)
    if (typeof token !== 'string') return token
    const stages = input.stages ?? [CURRENT]
    if (
      !Array.isArray(stages) ||
      stages.length === 0 ||
      stages.some((s) => typeof s !== 'string' || s === '')
    )
      return fault('InvalidParameterException', 'VersionStages must be a list of staging labels.')
    const existing = secret.versions.find((v) => v.id === token)
    if (existing !== undefined) {
      if (!sameValue(existing.value, input.value))
        return fault(
          'ResourceExistsException',
          `You can't modify an existing version, you can only create a new version. VersionId: ${token}`,
        )
      return { arn: secret.arn, name: secret.name, versionId: token, stages: [...existing.stages] }
    }
    const labels = stages as string[]
    if (labels.includes(CURRENT)) {
      const current = secret.versions.find((v) => v.stages.includes(CURRENT))
      if (current !== undefined) {
        for (const version of secret.versions)
          version.stages = version.stages.filter((s) => s !== PREVIOUS)
        current.stages = [...current.stages.filter((s) => s !== CURRENT), PREVIOUS]
      }
    }
    for (const version of secret.versions)
      version.stages = version.stages.filter((s) => !labels.includes(s))
    const now = this.#clock()
    secret.versions.push({ id: token, value: input.value, stages: [...labels], createdAt: now })
    secret.changedAt = now
    return { arn: secret.arn, name: secret.name, versionId: token, stages: [...labels] }
  }

  get(input: {
    secretId: unknown
    principal: string
    versionId?: unknown
    stage?: unknown
  }): SecretVersionView | SecretsManagerFault {
    const secret = this.#access(input.secretId, input.principal, 'GetSecretValue')
    if ('type' in secret) return secret
    const { versionId, stage } = input
    if (versionId !== undefined && typeof versionId !== 'string')
      return fault('InvalidParameterException', 'VersionId must be a string.')
    if (stage !== undefined && typeof stage !== 'string')
      return fault('InvalidParameterException', 'VersionStage must be a string.')
    const label = versionId === undefined && stage === undefined ? CURRENT : stage
    const version = secret.versions.find(
      (v) =>
        (versionId === undefined || v.id === versionId) &&
        (label === undefined || v.stages.includes(label)),
    )
    if (version === undefined) {
      const wanted = [
        ...(versionId === undefined ? [] : [`VersionId: ${versionId}`]),
        ...(label === undefined ? [] : [`staging label: ${label}`]),
      ].join(' and ')
      return fault(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for ${wanted}`,
      )
    }
    return {
      arn: secret.arn,
      name: secret.name,
      versionId: version.id,
      value: version.value,
      stages: [...version.stages],
      createdAt: version.createdAt,
    }
  }

  describe(
    secretId: unknown,
    principal: string | undefined,
  ): SecretDescription | SecretsManagerFault {
    const secret = this.#access(secretId, principal, 'DescribeSecret')
    if ('type' in secret) return secret
    const versionIdsToStages: Record<string, string[]> = {}
    for (const version of secret.versions) {
      if (version.stages.length > 0) versionIdsToStages[version.id] = [...version.stages]
    }
    return {
      arn: secret.arn,
      name: secret.name,
      description: secret.description,
      createdAt: secret.createdAt,
      changedAt: secret.changedAt,
      versionIdsToStages,
    }
  }

  /** Replaces who may use a secret (undefined: everyone the lab knows). */
  setReaders(secretId: string, readers: readonly string[] | undefined): boolean {
    const secret = this.#find(secretId)
    if (secret === undefined) return false
    secret.readers = readers === undefined ? undefined : [...readers]
    return true
  }
}
