import { PrivateLinkError } from '@privatelink/core'

export interface AuthContext {
  proxyHost: string
  port: number
  user: string
  auth: 'iam' | 'password' | 'secret'
}

const AUTH_STATES = new Set(['28000', '28P01'])

/** SQLSTATE 28000 (invalid authorization) or 28P01 (invalid password), from pg's DatabaseError. */
export function isAuthFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && AUTH_STATES.has(code)) return true
  return PrivateLinkError.isInstance(error) && error.details['sqlState'] !== undefined
}

interface AuthRule {
  code: string
  test: RegExp
  message: (c: AuthContext) => string
  hint: (c: AuthContext) => string
}

// Ordered: the first match wins. Wording follows RDS Proxy's messages (and the lab's emulator).
const AUTH_RULES: AuthRule[] = [
  {
    code: 'ERR_PG_TOKEN_EXPIRED',
    test: /expired|X-Amz-Expires|request time|too old|not yet valid/i,
    message: (c) => `RDS Proxy refused an expired IAM token for ${c.user}@${c.proxyHost}`,
    hint: () =>
      'Tokens live 15 minutes from X-Amz-Date and the credentials that signed must still be valid at connect time. Check the clock (NTP) and that temporary credentials are refreshed before they expire.',
  },
  {
    code: 'ERR_PG_TOKEN_WRONG_HOST',
    test: /host|endpoint name|signed for/i,
    message: (c) =>
      `RDS Proxy refused the IAM token: it was not signed for ${c.proxyHost}:${c.port}`,
    hint: (c) =>
      `Sign for the proxy endpoint name and port (proxyHost '${c.proxyHost}', port ${c.port}), never the vpce DNS name you dial or a custom DNS name.`,
  },
  {
    code: 'ERR_PG_TOKEN_USER_MISMATCH',
    test: /DBUser|user name|does not match|mismatch/i,
    message: (c) => `RDS Proxy refused the IAM token: its DBUser is not the startup user ${c.user}`,
    hint: () =>
      "The token's DBUser must equal the user the connection logs in as: use one 'user' option for both (createPool does).",
  },
  {
    code: 'ERR_PG_TOKEN_SIGNATURE',
    test: /signature/i,
    message: (c) => `RDS Proxy refused the IAM token for ${c.user}@${c.proxyHost}: bad signature`,
    hint: () =>
      "The signature did not verify: check the region (the proxy's, not the caller's), that the credentials are complete (session token included) and that nothing rewrites the token.",
  },
  {
    code: 'ERR_PG_IAM_NOT_AUTHORIZED',
    test: /not authorized|rds-db:connect|access ?denied|permission|IAM/i,
    message: (c) =>
      `RDS Proxy refused IAM authentication for ${c.user}@${c.proxyHost}: the signing role may lack rds-db:connect`,
    hint: (c) =>
      `Allow rds-db:connect on arn:aws:rds-db:<region>:<account>:dbuser:prx-<proxy resource id>/${c.user} in the role's policy (the prx- id, not the proxy name), and map the user in the proxy's IAM authentication settings.`,
  },
]

/** A typed error for a connection refused at authentication; the original is the cause. */
export function authError(error: unknown, context: AuthContext): PrivateLinkError {
  const sqlState = (error as { code?: string }).code ?? 'unknown'
  const serverMessage = String((error as Error).message ?? '')
  const details = { sqlState, user: context.user, proxyHost: context.proxyHost, port: context.port }
  if (context.auth === 'iam') {
    const rule = AUTH_RULES.find((r) => r.test.test(serverMessage))
    if (rule !== undefined) {
      return new PrivateLinkError(rule.code, rule.message(context), {
        hint: rule.hint(context),
        details: { ...details, serverMessage },
        cause: error,
      })
    }
  }
  return new PrivateLinkError(
    'ERR_PG_AUTH_FAILED',
    `Authentication failed for ${context.user}@${context.proxyHost} (SQLSTATE ${sqlState}): ${serverMessage}`,
    {
      hint:
        context.auth === 'iam'
          ? "Check the role's rds-db:connect policy, that the proxy requires IAM auth for this user, and proxyHost/port/region/user."
          : context.auth === 'secret'
            ? 'The secret was re-read once after this failure; check that it holds the current { username, password } and that the proxy uses the same secret.'
            : 'Check the user name and password.',
      details: { ...details, serverMessage },
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
export function connectError(error: unknown, context: AuthContext, plaintext: boolean): unknown {
  if (PrivateLinkError.isInstance(error)) return error
  const code = (error as { code?: unknown } | null)?.code
  if (plaintext && (code === '28000' || code === '08P01' || code === '08004')) {
    if (TLS_REQUIRED.test(String((error as Error).message))) return tlsRequiredError(error, context)
  }
  if (typeof code === 'string' && AUTH_STATES.has(code)) return authError(error, context)
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

export function tlsError(
  error: unknown,
  servername: string,
  presented: string | undefined,
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
        hint: "RDS Proxy certificates chain to Amazon Trust Services roots, which Node trusts already: leave ssl.ca unset for a proxy. A database instance behind the NLB needs the RDS CA bundle (ssl: { ca: 'rds' }).",
        details: { servername, cause: code },
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
