import { PrivateLinkError } from '@privatelink/core'

export interface AuthContext {
  proxyHost: string
  port: number
  user: string
  auth: 'iam' | 'password' | 'secret'
  region: string | undefined
  clock: () => number
}

const AUTH_STATES = new Set(['28000', '28P01'])

/** SQLSTATE 28000 (invalid authorization) or 28P01 (invalid password), from pg's DatabaseError. */
export function isAuthFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && AUTH_STATES.has(code)) return true
  return PrivateLinkError.isInstance(error) && error.details['sqlState'] !== undefined
}

type IamCause = 'expired' | 'wrong-host' | 'user-mismatch' | 'signature' | 'not-authorized'

const IAM_ERRORS: Record<
  IamCause,
  { code: string; message: (c: AuthContext) => string; hint: (c: AuthContext) => string }
> = {
  expired: {
    code: 'ERR_PG_TOKEN_EXPIRED',
    message: (c) => `RDS Proxy refused an expired IAM token for ${c.user}@${c.proxyHost}`,
    hint: () =>
      'Tokens live 15 minutes from X-Amz-Date, and the credentials that signed must still be valid at connect time. Check the clock (NTP) and that temporary credentials are refreshed before they expire.',
  },
  'wrong-host': {
    code: 'ERR_PG_TOKEN_WRONG_HOST',
    message: (c) =>
      `RDS Proxy refused the IAM token: it was not signed for ${c.proxyHost}:${c.port}`,
    hint: (c) =>
      `Sign for the proxy endpoint name and port (proxyHost '${c.proxyHost}', port ${c.port}), never the vpce DNS name you dial or a custom DNS name.`,
  },
  'user-mismatch': {
    code: 'ERR_PG_TOKEN_USER_MISMATCH',
    message: (c) => `RDS Proxy refused the IAM token: its DBUser is not the startup user ${c.user}`,
    hint: () =>
      "The token's DBUser must equal the user the connection logs in as: use one 'user' option for both (createPool does).",
  },
  signature: {
    code: 'ERR_PG_TOKEN_SIGNATURE',
    message: (c) =>
      `RDS Proxy refused the IAM token for ${c.user}@${c.proxyHost}: the signature does not verify`,
    hint: () =>
      "Check the region (the proxy's), that the credentials are complete and current (session token included), and that nothing rewrites the token.",
  },
  'not-authorized': {
    code: 'ERR_PG_IAM_NOT_AUTHORIZED',
    message: (c) =>
      `RDS Proxy refused IAM authentication for ${c.user}@${c.proxyHost}; the token is well-formed, for this host, user and time`,
    hint: (c) =>
      `Most likely the signing role lacks rds-db:connect on arn:aws:rds-db:<region>:<account>:dbuser:prx-<proxy resource id>/${c.user} (the prx- id, not the proxy name), or the proxy has no IAM auth setting for this user. Less likely: a signature problem (region, credentials).`,
  },
}

// The emulator (and any proxy that gives one) tells the cause in the ErrorResponse detail.
const DETAIL_CAUSES: Record<string, IamCause> = {
  'wrong-host': 'wrong-host',
  'user-mismatch': 'user-mismatch',
  'expired-token': 'expired',
  'expired-credentials': 'expired',
  'not-yet-valid': 'expired',
  'bad-signature': 'signature',
  'unknown-key': 'signature',
  'bad-session-token': 'signature',
  'wrong-region': 'signature',
  'wrong-service': 'signature',
  'malformed-token': 'signature',
  'user-not-allowed': 'not-authorized',
}

/**
 * Why an IAM token was refused. RDS Proxy answers every IAM failure with the same message, so
 * the token we sent is checked here: host, port, user, region and lifetime.
 */
function iamCause(detail: string | undefined, token: string | undefined, c: AuthContext): IamCause {
  const fromDetail = detail === undefined ? undefined : DETAIL_CAUSES[detail.split(':')[0]!.trim()]
  if (fromDetail !== undefined) return fromDetail
  if (token !== undefined) {
    const query = new URLSearchParams(token.slice(token.indexOf('?') + 1))
    const authority = token.slice(0, token.indexOf('/')).toLowerCase()
    if (authority !== `${c.proxyHost}:${c.port}`) return 'wrong-host'
    if (query.get('DBUser') !== c.user) return 'user-mismatch'
    const date = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(query.get('X-Amz-Date') ?? '')
    if (date !== null) {
      const [, y, mo, d, h, mi, sec] = date.map(Number) as number[]
      const signed = Date.UTC(y!, mo! - 1, d!, h!, mi!, sec!)
      const expires = Number(query.get('X-Amz-Expires') ?? 900) * 1000
      if (c.clock() >= signed + Math.min(expires, 900_000)) return 'expired'
    }
    const scope = query.get('X-Amz-Credential')?.split('/')
    if (c.region !== undefined && scope !== undefined && scope[2] !== c.region) return 'signature'
  }
  return 'not-authorized'
}

/** A typed error for a connection refused at authentication; the original is the cause. */
export function authError(error: unknown, context: AuthContext, token?: string): PrivateLinkError {
  const sqlState = (error as { code?: string }).code ?? 'unknown'
  const serverMessage = String((error as Error).message ?? '')
  const serverDetail = (error as { detail?: string }).detail
  const details = {
    sqlState,
    user: context.user,
    proxyHost: context.proxyHost,
    port: context.port,
    serverMessage,
    ...(serverDetail === undefined ? {} : { serverDetail }),
  }
  if (context.auth === 'iam') {
    const cause = iamCause(serverDetail, token, context)
    const entry = IAM_ERRORS[cause]
    return new PrivateLinkError(entry.code, entry.message(context), {
      hint: entry.hint(context),
      details,
      cause: error,
    })
  }
  return new PrivateLinkError(
    'ERR_PG_AUTH_FAILED',
    `Authentication failed for ${context.user}@${context.proxyHost} (SQLSTATE ${sqlState}): ${serverMessage}`,
    {
      hint:
        context.auth === 'secret'
          ? 'The secret was re-read once after this failure; check that it holds the current { username, password } and that the proxy uses the same secret.'
          : 'Check the user name and password.',
      details,
      cause: error,
    },
  )
}

/** The proxy (or PostgreSQL) answered a plain startup: RDS Proxy with IAM refuses it. */
export function tlsRequiredError(error: unknown, context: AuthContext): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_PG_TLS_REQUIRED',
    `${context.proxyHost} refused a connection without TLS`,
    {
      hint: "RDS Proxy with IAM authentication requires TLS: remove ssl.insecure 'plaintext' (TLS with verify-full is the default).",
      details: { proxyHost: context.proxyHost, serverMessage: String((error as Error).message) },
      cause: error,
    },
  )
}

const TLS_REQUIRED = /SSL|TLS|encrypt/i

/** Maps what pg rejects a new connection with to our typed errors; anything else is returned as is. */
export function connectError(
  error: unknown,
  context: AuthContext,
  plaintext: boolean,
  token: string | undefined,
): unknown {
  if (PrivateLinkError.isInstance(error)) return error
  const code = (error as { code?: unknown } | null)?.code
  if (plaintext && (code === '28000' || code === '08P01' || code === '08004')) {
    if (TLS_REQUIRED.test(String((error as Error).message))) return tlsRequiredError(error, context)
  }
  if (typeof code === 'string' && AUTH_STATES.has(code)) return authError(error, context, token)
  return error
}

export function tlsRefusedError(proxyHost: string): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_PG_TLS_REFUSED',
    `The server behind the endpoint answered "no TLS" to ${proxyHost}'s SSLRequest`,
    {
      hint: "RDS Proxy always offers TLS: this endpoint probably leads to something else (a PostgreSQL without ssl = on). For a local test database without TLS use ssl: { insecure: 'plaintext' }.",
      details: { proxyHost },
    },
  )
}

/**
 * SSLRequest + TLS not done within handshakeTimeoutMs over a TCP connection that did connect: the
 * proxy or its zone hangs (the next zone is tried), or the port leads to something that is not
 * PostgreSQL. A plaintext PostgreSQL answers 'N' at once (ERR_PG_TLS_REFUSED), so it is not that.
 */
export function handshakeTimeoutError(
  servername: string,
  timeoutMs: number,
  stage: 'sslrequest' | 'tls',
): PrivateLinkError {
  const what =
    stage === 'sslrequest' ? 'no answer to the SSLRequest' : 'the TLS handshake did not complete'
  return new PrivateLinkError(
    'ERR_TLS_HANDSHAKE_TIMEOUT',
    `TCP connected to the endpoint for ${servername}, but ${what} within ${timeoutMs} ms`,
    {
      hint: "TCP connected, so security groups and NACLs let the port through: the proxy (or the NLB's target in that zone) hangs, or this port does not lead to PostgreSQL / RDS Proxy (check the port and the NLB listener, which must be TCP). A plaintext PostgreSQL would have answered 'N' at once. Raise handshakeTimeoutMs only for a proxy known to be slow.",
      details: { servername, timeoutMs, stage },
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
    'ERR_PG_CONNECTION_LOST',
    `The connection to ${proxyHost}${zone ? ` in ${zone}` : ''} was lost while a query was outstanding (${why})`,
    {
      hint: 'The query may or may not have run. The pool replaces the connection and new connections avoid the failing zone; retry if the statement is idempotent or inside a transaction that rolled back.',
      details: { proxyHost, zone: zone ?? null, cause: typeof code === 'string' ? code : why },
      cause,
    },
  )
}

/**
 * A request on a connection idle past the path's idle timeout with nothing to keep the path's
 * flow (keep-alive off, or the process frozen): refused before it was sent.
 */
export function pathIdleLostError(
  proxyHost: string,
  zone: string | undefined,
  pathIdleTimeoutMs: number,
): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_PG_CONNECTION_LOST',
    `The connection to ${proxyHost}${zone ? ` in ${zone}` : ''} was idle past the path's idle timeout (${pathIdleTimeoutMs / 1000} s): the query was not sent`,
    {
      hint: 'The PrivateLink endpoint (and the NLB) forget a connection idle that long, and its next query would get a reset. Keep TCP keep-alive on (connectorOptions.keepAlive, on by default), or take connections from a pool (createPool replaces such a connection before use) rather than holding a client idle. The query did not run: retry it on a new connection.',
      details: { proxyHost, zone: zone ?? null, cause: 'path-idle', pathIdleTimeoutMs },
    },
  )
}

/**
 * An idle pooled connection closed after a freeze (a thawed Lambda sandbox) because the path may
 * have forgotten it: benign, emitted on the pool only to be counted.
 */
export function pathIdleClosedError(proxyHost: string, zone: string): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_PG_IDLE_CLOSED',
    `Closed an idle connection to ${proxyHost} in ${zone}: idle past the path's idle timeout across a freeze`,
    {
      hint: 'Nothing to do: the endpoint forgets connections idle past its timeout (350 s), and a frozen process sends no keep-alive. The pool opens a new connection when needed.',
      details: { proxyHost, zone, cause: 'path-idle' },
    },
  )
}

export function idleClosedError(
  proxyHost: string,
  zone: string | undefined,
  why: string,
): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_PG_IDLE_CLOSED',
    `${proxyHost} closed an idle connection${zone ? ` in ${zone}` : ''} (${why})`,
    {
      hint: "RDS Proxy closes client connections idle longer than its IdleClientTimeout (30 min by default): keep the pool's idleTimeoutMillis below it. The pool drops the connection and opens a new one when needed.",
      details: { proxyHost, zone: zone ?? null, cause: why },
    },
  )
}

export function zoneEjectedError(proxyHost: string, zone: string): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_PG_ZONE_EJECTED',
    `Closed an idle connection to ${proxyHost} in ${zone}: the zone was ejected`,
    {
      hint: 'Nothing to do: the pool opens new connections in healthy zones. Emitted on the pool only so you can count it.',
      details: { proxyHost, zone },
    },
  )
}

/** Where the CAs a certificate is checked against come from: Node's roots, the RDS bundle, ssl.ca. */
export type CaSource = 'roots' | 'rds' | 'custom'

// RDS Proxy's certificates come from ACM and chain to Amazon Trust Services roots (in Node's
// store); the RDS CA bundle verifies database instances only. The lab signs with its own test CA.
const LAB_CA =
  'Against the privatelink lab, trust the CA of the lab running now (each start makes a new one): ssl: { ca: lab.ca.certificatePem } with @privatelink/lab, or, with `privatelink lab`, leave ssl.ca unset and start node with the NODE_EXTRA_CA_CERTS it prints.'
const UNTRUSTED_HINTS: Record<CaSource, string> = {
  roots: `RDS Proxy's certificates chain to Amazon Trust Services roots, which Node trusts: against AWS, this endpoint led to something other than the proxy (check proxyHost and the endpoint), or a TLS-inspecting middlebox answered (add its CA with NODE_EXTRA_CA_CERTS). ${LAB_CA}`,
  rds: `ssl.ca 'rds' replaces Node's roots with the RDS CA bundle, which verifies database instances, not RDS Proxy: for a proxy leave ssl.ca unset (its certificates chain to Amazon Trust Services roots, which Node trusts). ${LAB_CA}`,
  custom: `ssl.ca replaces Node's roots, and no CA in it signed this certificate. For RDS Proxy leave ssl.ca unset (Amazon Trust Services roots, which Node trusts; the RDS CA bundle does not verify a proxy); for a database instance use ssl: { ca: 'rds' }. ${LAB_CA}`,
}

export function tlsError(
  error: unknown,
  servername: string,
  presented: string | undefined,
  caSource: CaSource = 'roots',
): PrivateLinkError {
  const code = (error as { code?: string } | null)?.code ?? 'UNKNOWN'
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new PrivateLinkError(
      'ERR_TLS_NAME_MISMATCH',
      `The proxy's certificate is not valid for ${servername} (it names ${presented ?? 'nothing'})`,
      {
        hint: 'TLS is verified against proxyHost, not the vpce name you dial: set proxyHost to the RDS Proxy endpoint name (…proxy-….rds.amazonaws.com) and make sure this endpoint leads to that proxy.',
        details: { expected: servername, presented: presented ?? null, cause: code },
        cause: error,
      },
    )
  }
  if (code.startsWith('ERR_TLS') || /CERT|SIGNATURE|ISSUER|SELF_SIGNED/.test(code)) {
    return new PrivateLinkError(
      'ERR_TLS_UNTRUSTED',
      `The proxy's certificate for ${servername} could not be verified (${code})`,
      {
        hint: UNTRUSTED_HINTS[caSource],
        details: { servername, cause: code, caSource },
        cause: error,
      },
    )
  }
  return new PrivateLinkError(
    'ERR_TLS_HANDSHAKE',
    `TLS handshake with ${servername} failed (${code})`,
    {
      hint: 'Check that the NLB listener is TCP (TLS passes through to the proxy) and that the proxy is available.',
      details: { servername, cause: code },
      cause: error,
    },
  )
}
