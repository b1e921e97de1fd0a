import { PrivateLinkError } from '@privatelink/core'

/** What an authentication error is judged against: the proxy, the user, how they logged in. */
export interface AuthContext {
  proxyHost: string
  port: number
  user: string
  auth: 'iam' | 'password' | 'secret'
  region: string | undefined
  clock: () => number
}

/** Where the CAs a certificate is checked against come from: Node's roots, the RDS bundle, ssl.ca. */
export type CaSource = 'roots' | 'rds' | 'custom'

/** MySQL's ER_ACCESS_DENIED_ERROR (1045), ER_DBACCESS_DENIED_ERROR (1044), SQLSTATE 28000. */
export function isAuthFailure(error: unknown): boolean {
  const { errno, sqlState, code } = (error ?? {}) as {
    errno?: unknown
    sqlState?: unknown
    code?: unknown
  }
  if (errno === 1045 || sqlState === '28000' || code === 'ER_ACCESS_DENIED_ERROR') return true
  return PrivateLinkError.isInstance(error) && error.details['errno'] === 1045
}

type IamCause = 'expired' | 'wrong-host' | 'user-mismatch' | 'signature' | 'not-authorized'

const IAM_ERRORS: Record<IamCause, { code: string; message: string; hint: string }> = {
  expired: {
    code: 'ERR_MYSQL_TOKEN_EXPIRED',
    message: 'RDS Proxy refused an expired IAM token',
    hint: 'Tokens live 15 minutes from X-Amz-Date, and the credentials that signed must still be valid at connect time. Check the clock (NTP) and that temporary credentials are refreshed before they expire.',
  },
  'wrong-host': {
    code: 'ERR_MYSQL_TOKEN_WRONG_HOST',
    message: 'RDS Proxy refused the IAM token: it was not signed for this proxy and port',
    hint: 'Sign for the proxy endpoint name and port (proxyHost and port, 3306 by default), never the vpce DNS name you dial or a custom DNS name.',
  },
  'user-mismatch': {
    code: 'ERR_MYSQL_TOKEN_USER_MISMATCH',
    message: "RDS Proxy refused the IAM token: its DBUser is not the connection's user",
    hint: "The token's DBUser must equal the user the connection logs in as: use one 'user' option for both (createPool does).",
  },
  signature: {
    code: 'ERR_MYSQL_TOKEN_SIGNATURE',
    message: 'RDS Proxy refused the IAM token: the signature does not verify',
    hint: "Check the region (the proxy's), that the credentials are complete and current (session token included), and that nothing rewrites the token.",
  },
  'not-authorized': {
    code: 'ERR_MYSQL_IAM_NOT_AUTHORIZED',
    message:
      'RDS Proxy refused IAM authentication; the token is well-formed, for this host, user and time',
    hint: 'Most likely the signing role lacks rds-db:connect on arn:aws:rds-db:<region>:<account>:dbuser:prx-<proxy resource id>/<user> (the prx- id, not the proxy name), or the proxy has no IAM auth setting for this user. Less likely: a signature problem (region, credentials).',
  },
}

/**
 * Why an IAM token was refused. RDS Proxy answers every IAM failure with the same "Access denied",
 * so the token that was sent is checked here: host, port, user, lifetime and region.
 */
function iamCause(token: string | undefined, c: AuthContext): IamCause {
  if (token === undefined) return 'not-authorized'
  const query = new URLSearchParams(token.slice(token.indexOf('?') + 1))
  const authority = token.slice(0, token.indexOf('/')).toLowerCase()
  if (authority !== `${c.proxyHost}:${c.port}`) return 'wrong-host'
  if (query.get('DBUser') !== c.user) return 'user-mismatch'
  const signed = amzDate(query.get('X-Amz-Date'))
  if (signed !== undefined) {
    const expires = Number(query.get('X-Amz-Expires') ?? 900) * 1000
    if (c.clock() >= signed + Math.min(expires, 900_000)) return 'expired'
  }
  const scope = query.get('X-Amz-Credential')?.split('/')
  if (c.region !== undefined && scope !== undefined && scope[2] !== c.region) return 'signature'
  return 'not-authorized'
}

/** X-Amz-Date (`20260102T030405Z`) in ms since the epoch. */
export function amzDate(value: string | null | undefined): number | undefined {
  const match = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(value ?? '')
  if (match === null) return undefined
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[]
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!)
}

/** A typed error for a connection refused at authentication; mysql2's error is the cause. */
export function authError(error: unknown, context: AuthContext, token?: string): PrivateLinkError {
  const { errno, sqlState, sqlMessage, message } = error as {
    errno?: number
    sqlState?: string
    sqlMessage?: string
    message?: string
  }
  const details = {
    errno: errno ?? null,
    sqlState: sqlState ?? null,
    user: context.user,
    proxyHost: context.proxyHost,
    port: context.port,
    serverMessage: String(sqlMessage ?? message ?? ''),
  }
  if (context.auth === 'iam') {
    const entry = IAM_ERRORS[iamCause(token, context)]
    return new PrivateLinkError(
      entry.code,
      `${entry.message} (${context.user}@${context.proxyHost}:${context.port})`,
      { hint: entry.hint, details, cause: error },
    )
  }
  return new PrivateLinkError(
    'ERR_MYSQL_AUTH_FAILED',
    `Authentication failed for ${context.user}@${context.proxyHost}: ${details.serverMessage}`,
    {
      hint:
        context.auth === 'secret'
          ? 'The secret was read again once after this failure; check that it holds the current { username, password } and that the proxy uses the same secret.'
          : 'Check the user name and password.',
      details,
      cause: error,
    },
  )
}

/** The server refused a connection without TLS (MySQL 3159, or its wording). */
const TLS_REQUIRED = /insecure transport|requires? (TLS|SSL)|secure transport/i

/** Maps what mysql2 rejects a new connection with to our typed errors; anything else as it is. */
export function connectError(
  error: unknown,
  context: AuthContext,
  token: string | undefined,
): unknown {
  if (PrivateLinkError.isInstance(error)) return error
  const { errno, message, code } = (error ?? {}) as {
    errno?: number
    message?: string
    code?: string
  }
  if (errno === 3159 || TLS_REQUIRED.test(String(message))) {
    return new PrivateLinkError(
      'ERR_MYSQL_TLS_REQUIRED',
      `${context.proxyHost} refused a connection without TLS`,
      {
        hint: "RDS Proxy with IAM authentication requires TLS: remove ssl.insecure 'plaintext' (TLS verified against proxyHost is the default).",
        details: { proxyHost: context.proxyHost, serverMessage: String(message) },
        cause: error,
      },
    )
  }
  if (code === 'HANDSHAKE_SSL_ERROR') return tlsError(error, context.proxyHost)
  if (isAuthFailure(error)) return authError(error, context, token)
  return error
}

// RDS Proxy's certificates come from ACM and chain to Amazon Trust Services roots (in Node's
// store); the RDS CA bundle verifies database instances only. The lab signs with its own CA.
const LAB_CA =
  'Against the privatelink lab, trust the CA of the lab running now: ssl: { ca: lab.ca.certificatePem }, or with `privatelink lab` the NODE_EXTRA_CA_CERTS it prints.'
const UNTRUSTED_HINTS: Record<CaSource, string> = {
  roots: `RDS Proxy's certificates chain to Amazon Trust Services roots, which Node trusts: this endpoint led to something other than the proxy (check proxyHost and the endpoint), or a TLS-inspecting middlebox answered (add its CA with NODE_EXTRA_CA_CERTS). ${LAB_CA}`,
  rds: `ssl.ca 'rds' trusts the RDS CA bundle, which verifies database instances, not RDS Proxy: for a proxy leave ssl.ca unset (Amazon Trust Services roots, which Node trusts). ${LAB_CA}`,
  custom: `ssl.ca replaces Node's roots, and no CA in it signed this certificate. For RDS Proxy leave ssl.ca unset; for a database instance use ssl: { ca: 'rds' }. ${LAB_CA}`,
}

/**
 * mysql2 reports every failed TLS upgrade as HANDSHAKE_SSL_ERROR (it overwrites the code): the
 * Node error's own traits (reason, message) tell a name mismatch from an untrusted chain.
 */
export function tlsError(
  error: unknown,
  servername: string,
  caSource: CaSource = 'roots',
): PrivateLinkError {
  const { message, reason, cert } = (error ?? {}) as {
    message?: string
    reason?: string
    cert?: { subject?: { CN?: string }; subjectaltname?: string }
  }
  const text = `${reason ?? ''} ${message ?? ''}`
  if (/does not match certificate's altnames|Hostname\/IP does not match/i.test(text)) {
    const presented = cert?.subjectaltname ?? cert?.subject?.CN ?? null
    return new PrivateLinkError(
      'ERR_TLS_NAME_MISMATCH',
      `The proxy's certificate is not valid for ${servername} (it names ${presented ?? 'nothing'})`,
      {
        hint: 'TLS is verified against proxyHost, not the vpce name you dial: set proxyHost to the RDS Proxy endpoint name (…proxy-….rds.amazonaws.com) and make sure this endpoint leads to that proxy.',
        details: { expected: servername, presented },
        cause: error,
      },
    )
  }
  if (/certificate|self[- ]signed|issuer|verify/i.test(text)) {
    return new PrivateLinkError(
      'ERR_TLS_UNTRUSTED',
      `The proxy's certificate for ${servername} could not be verified (${message ?? 'unknown'})`,
      { hint: UNTRUSTED_HINTS[caSource], details: { servername, caSource }, cause: error },
    )
  }
  return new PrivateLinkError(
    'ERR_TLS_HANDSHAKE',
    `TLS handshake with ${servername} failed (${message ?? 'unknown'})`,
    {
      hint: 'Check that the NLB listener is TCP (TLS passes through to the proxy) and that the proxy is available.',
      details: { servername },
      cause: error,
    },
  )
}

/** The server's greeting did not offer TLS (no CLIENT_SSL capability). */
export function tlsRefusedError(proxyHost: string, serverVersion: string): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_MYSQL_TLS_REFUSED',
    `The server behind the endpoint for ${proxyHost} (${serverVersion}) offers no TLS`,
    {
      hint: "RDS Proxy always offers TLS: this endpoint probably leads to something else (a MySQL or MariaDB without TLS). For a local test database without TLS use ssl: { insecure: 'plaintext' }.",
      details: { proxyHost, serverVersion },
    },
  )
}

/** TCP connected but no greeting came within the handshake timeout: the zone hangs. */
export function greetingTimeoutError(servername: string, timeoutMs: number): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_TLS_HANDSHAKE_TIMEOUT',
    `TCP connected to the endpoint for ${servername}, but no MySQL greeting came within ${timeoutMs} ms`,
    {
      hint: 'TCP connected, so security groups and NACLs let the port through: the proxy (or the NLB target in that zone) hangs, or this port does not lead to MySQL / RDS Proxy (check the port and the NLB listener, which must be TCP).',
      details: { servername, timeoutMs, stage: 'greeting' },
    },
  )
}

/** What came first on the connection is not a MySQL greeting (protocol 10). */
export function notMysqlError(servername: string, first: number): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_MYSQL_PROTOCOL',
    `The server behind the endpoint for ${servername} did not greet as MySQL (first byte ${first})`,
    {
      hint: 'This port leads to something that is not MySQL / RDS Proxy for MySQL: check the port (3306) and the NLB listener.',
      details: { servername, first },
    },
  )
}

export function connectionLostError(
  proxyHost: string,
  zone: string | undefined,
  cause: unknown,
  why: string,
): PrivateLinkError {
  const code = (cause as { code?: unknown } | null)?.code
  return new PrivateLinkError(
    'ERR_MYSQL_CONNECTION_LOST',
    `The connection to ${proxyHost}${zone ? ` in ${zone}` : ''} was lost while a query was outstanding (${why})`,
    {
      hint: 'The query may or may not have run. The pool replaces the connection and new connections avoid the failing zone; retry if the statement is idempotent or inside a transaction that rolled back.',
      details: { proxyHost, zone: zone ?? null, cause: typeof code === 'string' ? code : why },
      ...(cause === undefined ? {} : { cause }),
    },
  )
}

export function idleClosedError(
  proxyHost: string,
  zone: string | undefined,
  why: string,
): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_MYSQL_IDLE_CLOSED',
    `${proxyHost} closed an idle connection${zone ? ` in ${zone}` : ''} (${why})`,
    {
      hint: "RDS Proxy closes client connections idle longer than its IdleClientTimeout (30 min by default): keep the pool's idleTimeout below it. The pool drops the connection and opens a new one when needed.",
      details: { proxyHost, zone: zone ?? null, cause: why },
    },
  )
}

/** A refusal to send a password or token over a connection that is not TLS. */
export function cleartextRefusedError(proxyHost: string): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_MYSQL_CLEARTEXT_REFUSED',
    `Refused to send a password or IAM token in clear text to ${proxyHost}: the connection is not TLS`,
    {
      hint: "The cleartext plugin (mysql_clear_password) sends the secret as it is: it is only sent over TLS verified against proxyHost. For a local test database without TLS, ssl: { insecure: 'plaintext' } allows it (warned once).",
      details: { proxyHost },
    },
  )
}
