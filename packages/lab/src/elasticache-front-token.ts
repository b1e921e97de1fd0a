import { parsePresignedUrl, verifyPresignedUrl } from './sigv4-presigned.js'
import type { KeyLookup, VerifyFailureDetail } from './sigv4-verifier.js'

/** Why the front refused an AUTH; in stats and events only (the client always gets WRONGPASS). */
export type ElastiCacheRefusal =
  | 'no-user'
  | 'user-not-allowed'
  | 'malformed-token'
  | 'wrong-host'
  | 'wrong-action'
  | 'user-mismatch'
  | 'wrong-resource-type'
  | 'expired-token'
  | 'not-yet-valid'
  | 'bad-signature'
  | 'unknown-key'
  | 'bad-session-token'
  | 'expired-credentials'
  | 'wrong-region'
  | 'wrong-service'

export interface ElastiCacheTokenCheck {
  /** Replication group ID, serverless cache name or MemoryDB cluster name: the token's host. */
  cacheName: string
  /** The user in AUTH / HELLO AUTH. */
  user: string
  serverless: boolean
  service: 'elasticache' | 'memorydb'
  region: string
  clock: () => number
  store: KeyLookup
}

export type ElastiCacheTokenResult =
  | { ok: true; principalArn: string; expiresAt: number }
  | { ok: false; reason: ElastiCacheRefusal; detail: string }

const fromVerifier: Record<VerifyFailureDetail, ElastiCacheRefusal> = {
  malformed: 'malformed-token',
  'bad-expires': 'malformed-token',
  'host-not-signed': 'malformed-token',
  'wrong-scope-date': 'malformed-token',
  'payload-hash-mismatch': 'bad-signature',
  'unsigned-payload-refused': 'bad-signature',
  'signature-mismatch': 'bad-signature',
  'signature-expired': 'expired-token',
  'presigned-expired': 'expired-token',
  'signature-not-yet-current': 'not-yet-valid',
  'wrong-region': 'wrong-region',
  'wrong-service': 'wrong-service',
  'unknown-key': 'unknown-key',
  'session-token-mismatch': 'bad-session-token',
  'credentials-expired': 'expired-credentials',
}

/** ElastiCache and MemoryDB IAM tokens live 15 minutes whatever X-Amz-Expires says. */
export const ELASTICACHE_TOKEN_LIFETIME_SECONDS = 900

/**
 * Checks an IAM AUTH token as ElastiCache does: a SigV4-presigned `GET http://{cacheName}/?Action=
 * connect&User={user}` (plus `ResourceType=ServerlessCache` for a serverless cache) with the scheme
 * stripped, for the user named in AUTH, signed for service elasticache (memorydb), this region,
 * within its 15 minutes by the lab clock, with the lab's keys. Details never hold the token.
 */
export function verifyElastiCacheToken(
  token: string,
  check: ElastiCacheTokenCheck,
): ElastiCacheTokenResult {
  const parsed = parsePresignedUrl(token)
  if (parsed === undefined || /^[a-z][a-z0-9+.-]*:\/\//i.test(token) || parsed.path !== '/')
    return {
      ok: false,
      reason: 'malformed-token',
      detail: 'the password is not an IAM token of the form cacheName/?Action=connect&User=...',
    }
  if (parsed.authority.toLowerCase() !== check.cacheName.toLowerCase())
    return {
      ok: false,
      reason: 'wrong-host',
      detail: `the token was signed for '${parsed.authority}'; this cache is '${check.cacheName}' (sign for the cache name, not a DNS name)`,
    }
  const value = (name: string) => parsed.query.find(([key]) => key === name)?.[1]
  if (value('Action') !== 'connect')
    return { ok: false, reason: 'wrong-action', detail: 'the token is not for Action=connect' }
  const user = value('User')
  if (user !== check.user)
    return {
      ok: false,
      reason: 'user-mismatch',
      detail: `the token is for User '${user ?? ''}', AUTH named '${check.user}'`,
    }
  const resourceType = value('ResourceType')
  if (check.serverless ? resourceType !== 'ServerlessCache' : resourceType !== undefined)
    return {
      ok: false,
      reason: 'wrong-resource-type',
      detail: check.serverless
        ? 'a serverless cache needs ResourceType=ServerlessCache in the token'
        : `ResourceType=${resourceType} in a token for a node-based cache`,
    }
  const verified = verifyPresignedUrl(token, {
    region: check.region,
    service: check.service,
    clock: check.clock,
    store: check.store,
    maxExpiresSeconds: ELASTICACHE_TOKEN_LIFETIME_SECONDS,
  })
  if (!verified.ok)
    return { ok: false, reason: fromVerifier[verified.detail], detail: verified.message }
  return { ok: true, principalArn: verified.principal.arn, expiresAt: verified.expiresAt! }
}
