import { newAccessKeyId, newSecret } from './identifiers.js'

/** Credentials the lab issued, shaped like the AWS SDK's. Random per lab: never real keys. */
export interface LabCredentials {
  /** `AKIA...` for the lab's long-term key, `ASIA...` for STS sessions. */
  accessKeyId: string
  /** The signing secret. */
  secretAccessKey: string
  /** Present on STS sessions. */
  sessionToken?: string
  /** Lab-clock time; absent for long-term keys. */
  expiration?: Date
}

/** A key the lab's APIs accept, with the principal it belongs to. */
export interface StoredKey extends LabCredentials {
  /** The principal's ARN, as GetCallerIdentity reports it. */
  arn: string
  /** The principal's 12-digit account ID. */
  account: string
  /** The principal's unique ID (`AIDA...` for the user, `AROA...:session` for a role session). */
  userId: string
}

/** Access keys the lab's AWS APIs accept: one long-term key, plus sessions its STS issues. */
export class CredentialsStore {
  readonly #keys = new Map<string, StoredKey>()
  readonly #clock: () => number
  /** The lab's long-term key, of an IAM user in the lab's account. */
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

  /** The key with this access key ID, expired or not. */
  get(accessKeyId: string): StoredKey | undefined {
    return this.#keys.get(accessKeyId)
  }

  /** Whether a session key has expired by the lab clock (long-term keys never do). */
  isExpired(key: StoredKey): boolean {
    return key.expiration !== undefined && key.expiration.getTime() <= this.#clock()
  }

  /** Issues a session key (STS) for a principal, valid `durationSeconds` by the lab clock. */
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
