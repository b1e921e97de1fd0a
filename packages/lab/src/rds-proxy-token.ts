import { parsePresignedUrl, verifyPresignedUrl } from './sigv4-presigned.js'
import type { KeyLookup, VerifyFailureDetail } from './sigv4-verifier.js'

/** Why the emulator refused a connection; shown in stats, events and the ErrorResponse detail. */
export type RdsProxyRefusal =
  | 'no-tls'
  | 'no-password'
  | 'user-not-allowed'
  | 'malformed-token'
  | 'wrong-host'
  | 'wrong-action'
  | 'user-mismatch'
  | 'expired-token'
  | 'not-yet-valid'
  | 'bad-signature'
  | 'unknown-key'
  | 'bad-session-token'
  | 'expired-credentials'
  | 'wrong-region'
  | 'wrong-service'
  | 'upstream-failed'

export interface RdsTokenCheck {
  proxyHost: string
  port: number
  /** The user in the client's StartupMessage. */
  user: string
  region: string
  clock: () => number
  store: KeyLookup
}

export type RdsTokenResult =
  | { ok: true; principalArn: string; expiresAt: number }
  | { ok: false; reason: RdsProxyRefusal; detail: string }

const fromVerifier: Record<VerifyFailureDetail, RdsProxyRefusal> = {
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

/** RDS IAM tokens live 15 minutes whatever X-Amz-Expires says. */
export const RDS_TOKEN_LIFETIME_SECONDS = 900

/**
 * Checks an IAM auth token as RDS Proxy does: the presigned-URL shape `host:port/?Action=connect
 * &DBUser=...`, signed for this proxy's name and port (not the name the client dialled), for the
 * user in the startup message, then the SigV4 signature, scope and lifetime against the lab's keys
 * and clock. Details name hosts and users, never the token or a key.
 */
export function verifyRdsToken(token: string, check: RdsTokenCheck): RdsTokenResult {
  const parsed = parsePresignedUrl(token)
  if (
    parsed === undefined ||
    /^[a-z][a-z0-9+.-]*:\/\//i.test(token) ||
    !/^[^:/]+:\d+$/.test(parsed.authority) ||
    parsed.path !== '/' ||
    !parsed.query.some(([name]) => name === 'X-Amz-Signature')
  )
    return {
      ok: false,
      reason: 'malformed-token',
      detail: 'the password is not an IAM token of the form host:port/?Action=connect&DBUser=...',
    }
  const expectedAuthority = `${check.proxyHost}:${check.port}`
  if (parsed.authority.toLowerCase() !== expectedAuthority)
    return {
      ok: false,
      reason: 'wrong-host',
      detail: `the token was signed for ${parsed.authority}; this proxy is ${expectedAuthority} (sign for the proxy endpoint, not the name you dial)`,
    }
  const value = (name: string) => parsed.query.find(([key]) => key === name)?.[1]
  if (value('Action') !== 'connect')
    return { ok: false, reason: 'wrong-action', detail: 'the token is not for Action=connect' }
  const dbUser = value('DBUser')
  if (dbUser !== check.user)
    return {
      ok: false,
      reason: 'user-mismatch',
      detail: `the token is for DBUser '${dbUser ?? ''}', the connection is for user '${check.user}'`,
    }
  const verified = verifyPresignedUrl(token, {
    region: check.region,
    service: 'rds-db',
    clock: check.clock,
    store: check.store,
    maxExpiresSeconds: RDS_TOKEN_LIFETIME_SECONDS,
  })
  if (!verified.ok)
    return { ok: false, reason: fromVerifier[verified.detail], detail: verified.message }
  return { ok: true, principalArn: verified.principal.arn, expiresAt: verified.expiresAt! }
}
