import { newAccessKeyId, newSecret } from './identifiers.js'

export interface LabCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  /** Lab-clock time; absent for long-term keys. */
  expiration?: Date
}

export interface StoredKey extends LabCredentials {
  /** The principal's ARN, as GetCallerIdentity reports it. */
  arn: string
  account: string
  userId: string
}

/** Access keys the lab's AWS APIs accept: one long-term key, plus sessions its STS issues. */
export class CredentialsStore {
  readonly #keys = new Map<string, StoredKey>()
  readonly #clock: () => number
  readonly root: StoredKey

  constructor(account: string, clock: () => number) {
    this.#clock = clock
    this.root = {
      accessKeyId: newAccessKeyId('AKIA'),
      secretAccessKey: newSecret(),
      arn: `arn:aws:iam::${account}:user/privatelink-lab`,
      account,
      userId: newAccessKeyId('AKIA').replace(/^AKIA/, 'AIDA'),
    }
    this.#keys.set(this.root.accessKeyId, this.root)
  }

  get(accessKeyId: string): StoredKey | undefined {
    return this.#keys.get(accessKeyId)
  }

  isExpired(key: StoredKey): boolean {
    return key.expiration !== undefined && key.expiration.getTime() <= this.#clock()
  }

  issueSession(arn: string, account: string, userId: string, durationSeconds: number): StoredKey {
    const key: StoredKey = {
      accessKeyId: newAccessKeyId('ASIA'),
      secretAccessKey: newSecret(),
      sessionToken: Buffer.from(`privatelink-lab:${newSecret()}${newSecret()}`).toString('base64'),
      expiration: new Date(this.#clock() + durationSeconds * 1000),
      arn,
      account,
      userId,
    }
    this.#keys.set(key.accessKeyId, key)
    return key
  }
}
