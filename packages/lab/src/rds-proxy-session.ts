import { connect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { type SecureContext, TLSSocket } from 'node:tls'
import {
  AUTH_CLEARTEXT_PASSWORD,
  AUTH_OK,
  authentication,
  type ErrorFields,
  errorResponse,
  MessageReader,
  parsePasswordMessage,
  type StartupPacket,
} from './pg-wire.js'
import { readUntil } from './pg-wire-socket.js'
import type { ProxySession } from './rds-proxy-observer.js'
import type { RdsProxyRefusal } from './rds-proxy-token.js'
import { verifyRdsToken } from './rds-proxy-token.js'
import {
  openUpstream,
  type RdsProxyUpstream,
  showSetting,
  UpstreamRefused,
} from './rds-proxy-upstream.js'
import type { KeyLookup } from './sigv4-verifier.js'

/** What a session needs from its front: settings, lab context, and where to report. */
export interface SessionContext {
  proxyHost: string
  port: number
  region: string
  clock: () => number
  store: KeyLookup
  secureContext: SecureContext
  upstream: RdsProxyUpstream
  users: readonly string[] | undefined
  requireTls: boolean
  track(socket: Duplex): void
  report(event: SessionEvent): void
  /** A session starts relaying: its observer, which the front's metrics read. */
  openSession(options: { tls: boolean; user: string; database: string }): ProxySession
  /** The relay ended. */
  closeSession(session: ProxySession): void
  /** Whether the front still needs the database's `max_connections` (read once). */
  needsMaxConnections(): boolean
  /** The database's `max_connections`, read by the first session. */
  setMaxConnections(value: number): void
}

export type SessionEvent =
  | { type: 'tls' }
  | { type: 'tls-failed' }
  | { type: 'refused'; reason: RdsProxyRefusal; user?: string; database?: string; tls: boolean }
  | { type: 'connected'; user: string; database: string; principal: string }
  | { type: 'closed'; user: string }
  | { type: 'cancel' }

/** RDS Proxy's wording for a refused IAM token (the same text whatever went wrong). */
export const iamFailureMessage = (user: string) =>
  `The IAM authentication failed for the role ${user}. Check the IAM token for this role and try again.`

function upgrade(socket: Socket, secureContext: SecureContext): Promise<TLSSocket> {
  const secure = new TLSSocket(socket, { isServer: true, secureContext })
  return new Promise((resolve, reject) => {
    secure.once('secure', () => {
      secure.off('error', reject)
      resolve(secure)
    })
    secure.once('error', reject)
  })
}

function refuse(client: Duplex, fields: Omit<ErrorFields, 'severity'>): void {
  client.end(errorResponse({ severity: 'FATAL', ...fields }))
}

function forwardCancel(
  packet: Extract<StartupPacket, { kind: 'cancel' }>,
  context: SessionContext,
) {
  const upstream = connect({ host: context.upstream.host, port: context.upstream.port })
  context.track(upstream)
  upstream.on('error', () => {})
  upstream.end(packet.raw)
}

/**
 * One client connection, as RDS Proxy handles it: optional GSSENC refusal, SSLRequest and TLS with
 * the proxy's certificate, StartupMessage, AuthenticationCleartextPassword, the IAM token check,
 * the proxy's own login to the database, then a byte relay.
 */
export async function runSession(socket: Socket, context: SessionContext): Promise<void> {
  let client: Duplex = socket
  let tls = false
  let reader = new MessageReader()
  let packet = await readUntil(client, reader, (r) => r.nextStartup())
  for (;;) {
    if (packet.kind === 'gssenc-request') {
      client.write('N')
    } else if (packet.kind === 'ssl-request' && !tls) {
      client.write('S')
      try {
        client = await upgrade(socket, context.secureContext)
      } catch {
        context.report({ type: 'tls-failed' })
        socket.destroy()
        return
      }
      context.track(client)
      context.report({ type: 'tls' })
      tls = true
      reader = new MessageReader()
    } else {
      break
    }
    packet = await readUntil(client, reader, (r) => r.nextStartup())
  }
  if (packet.kind === 'cancel') {
    context.report({ type: 'cancel' })
    forwardCancel(packet, context)
    client.end()
    return
  }
  if (packet.kind !== 'startup') throw new Error('unexpected startup packet')
  const user = packet.parameters['user'] ?? ''
  const database = packet.parameters['database'] ?? user
  const refused = (reason: RdsProxyRefusal, fields: Omit<ErrorFields, 'severity'>) => {
    context.report({ type: 'refused', reason, user, database, tls })
    refuse(client, fields)
  }
  if (!tls && context.requireTls) {
    refused('no-tls', { code: '28000', message: 'This RDS Proxy requires TLS connections' })
    return
  }
  const iamRefusal = (reason: RdsProxyRefusal, detail: string) =>
    refused(reason, {
      code: '28P01',
      message: iamFailureMessage(user),
      detail: `${reason}: ${detail}`,
    })
  if (context.users !== undefined && !context.users.includes(user)) {
    iamRefusal(
      'user-not-allowed',
      `the proxy allows IAM authentication for ${context.users.join(', ')}`,
    )
    return
  }
  client.write(authentication(AUTH_CLEARTEXT_PASSWORD))
  const answer = await readUntil(client, reader, (r) => r.next())
  if (answer.type !== 'p') {
    // libpq hangs up without a word when it has no password to give.
    context.report({ type: 'refused', reason: 'no-password', user, database, tls })
    client.destroy()
    return
  }
  const token = parsePasswordMessage(answer.body)
  if (token === '') {
    iamRefusal('no-password', 'the client sent an empty password instead of an IAM token')
    return
  }
  const verdict = verifyRdsToken(token, {
    proxyHost: context.proxyHost,
    port: context.port,
    user,
    region: context.region,
    clock: context.clock,
    store: context.store,
  })
  if (!verdict.ok) {
    iamRefusal(verdict.reason, verdict.detail)
    return
  }
  const parameters = {
    ...packet.parameters,
    user: context.upstream.user,
    database: context.upstream.database ?? database,
  }
  let upstream: Awaited<ReturnType<typeof openUpstream>>
  try {
    upstream = await openUpstream(context.upstream, parameters)
  } catch (error) {
    context.report({ type: 'refused', reason: 'upstream-failed', user, database, tls })
    const fields = error instanceof UpstreamRefused ? error.fields : undefined
    refuse(client, {
      code: fields?.['C'] ?? '08001',
      message: fields?.['M'] ?? 'RDS Proxy could not connect to the database',
      detail: `upstream-failed: ${fields?.['D'] ?? (error as Error).message}`,
    })
    return
  }
  context.track(upstream.socket)
  if (context.needsMaxConnections()) {
    const value = await showSetting(upstream.socket, 'max_connections').catch(() => undefined)
    if (value !== undefined && /^\d+$/.test(value)) context.setMaxConnections(Number(value))
  }
  context.report({ type: 'connected', user, database, principal: verdict.principalArn })
  const session = context.openSession({ tls, user, database })
  // The handshake's BackendKeyData and ReadyForQuery: the session's id and its idle state.
  session.fromServer(upstream.pending)
  client.write(authentication(AUTH_OK))
  client.write(upstream.pending)
  const early = reader.rest()
  if (early.length > 0) {
    session.fromClient(early)
    upstream.socket.write(early)
  }
  relay(client, upstream.socket, session, () => {
    context.closeSession(session)
    context.report({ type: 'closed', user })
  })
}

function relay(
  client: Duplex,
  upstream: Socket,
  session: ProxySession,
  onClosed: () => void,
): void {
  let closed = false
  const close = () => {
    if (closed) return
    closed = true
    client.destroy()
    upstream.destroy()
    onClosed()
  }
  for (const side of [client, upstream]) {
    side.on('error', close)
    side.on('close', close)
  }
  // Watched on the way through (listeners before pipe: each chunk is seen, then forwarded).
  client.on('data', (chunk: Buffer) => session.fromClient(chunk))
  upstream.on('data', (chunk: Buffer) => session.fromServer(chunk))
  client.pipe(upstream)
  upstream.pipe(client)
}
