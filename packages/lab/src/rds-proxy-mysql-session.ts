import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { type SecureContext, TLSSocket } from 'node:tls'
import {
  authSwitchPayload,
  CAP,
  errPacket,
  type Greeting,
  greetingPayload,
  type HandshakeResponse,
  newScramble,
  PacketReader,
  packet,
  parseHandshakeResponse,
} from './mysql-wire.js'
import { readPacket } from './mysql-wire-socket.js'
import {
  type MysqlUpstream,
  MysqlUpstreamRefused,
  openMysqlUpstream,
  type UpstreamGreeted,
} from './rds-proxy-mysql-upstream.js'
import type { RdsProxyRefusal } from './rds-proxy-token.js'
import { verifyRdsToken } from './rds-proxy-token.js'
import type { KeyLookup } from './sigv4-verifier.js'

/** What a MySQL session needs from its front. */
export interface MysqlSessionContext {
  proxyHost: string
  port: number
  region: string
  clock: () => number
  store: KeyLookup
  secureContext: SecureContext
  upstream: MysqlUpstream
  users: readonly string[] | undefined
  requireTls: boolean
  /** The next connection ID the proxy gives a client. */
  nextConnectionId(): number
  /**
   * The database's greeting, once one session has read it: later sessions greet from it and open
   * their database connection only after the client authenticated (a health check's bare TCP
   * connect then costs the database nothing, as with RDS Proxy).
   */
  known: { greeting?: Greeting }
  track(socket: Duplex): void
  report(event: MysqlSessionEvent): void
}

/** What a session tells its front. */
export type MysqlSessionEvent =
  | { type: 'tls' }
  | { type: 'tls-failed' }
  | { type: 'refused'; reason: RdsProxyRefusal; user?: string; database?: string; tls: boolean }
  | { type: 'connected'; user: string; database?: string; principal: string; tls: boolean }
  | { type: 'closed'; user: string }

/**
 * RDS Proxy's MySQL refusal for an IAM token: MySQL's ER_ACCESS_DENIED_ERROR, the same whatever
 * was wrong with the token (the reason goes to the front's events only).
 */
export const accessDenied = (user: string) =>
  `Access denied for user '${user}'@'%' (using password: YES)`

/** MySQL's wording (ER_SECURE_TRANSPORT_REQUIRED, 3159) for a client that did not ask for TLS. */
export const TLS_REQUIRED_MESSAGE =
  'Connections using insecure transport are prohibited while --require_secure_transport=ON.'

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

/**
 * One client connection, as RDS Proxy for MySQL handles it with IAM authentication: the greeting
 * (the database's version and capabilities, TLS offered, the proxy's own connection ID and
 * scramble), SSLRequest and TLS with the proxy's certificate, the handshake response, an
 * AuthSwitchRequest to mysql_clear_password, the IAM token check by the lab's own SigV4 code, the
 * proxy's own login to the database as its user, then a byte relay.
 */
export async function runMysqlSession(socket: Socket, context: MysqlSessionContext): Promise<void> {
  let upstream: UpstreamGreeted | undefined
  try {
    await handshake(socket, context, (opened) => {
      upstream = opened
    })
  } catch (error) {
    // The client left (or broke the protocol) before the relay: its database connection goes too.
    upstream?.socket.destroy()
    throw error
  }
}

/** Opens the database connection (reporting a refusal to the client), tracked by the front. */
async function openUpstream(
  socket: Duplex,
  context: MysqlSessionContext,
  sequence: number,
): Promise<UpstreamGreeted | undefined> {
  try {
    const upstream = await openMysqlUpstream(context.upstream)
    context.track(upstream.socket)
    upstream.socket.on('error', () => {})
    context.known.greeting ??= upstream.greeting
    return upstream
  } catch (error) {
    context.report({ type: 'refused', reason: 'upstream-failed', tls: false })
    const refused = error instanceof MysqlUpstreamRefused ? error : undefined
    socket.end(
      errPacket(
        sequence,
        refused?.errno ?? 2003,
        refused?.sqlState ?? 'HY000',
        refused?.message ?? 'RDS Proxy could not connect to the database',
      ),
    )
    return undefined
  }
}

async function handshake(
  socket: Socket,
  context: MysqlSessionContext,
  opened: (upstream: UpstreamGreeted) => void,
): Promise<void> {
  let upstream: UpstreamGreeted | undefined
  if (context.known.greeting === undefined) {
    upstream = await openUpstream(socket, context, 0)
    if (upstream === undefined) return
    opened(upstream)
  }
  const database0 = context.known.greeting!
  const greeting = {
    ...database0,
    connectionId: context.nextConnectionId(),
    scramble: newScramble(),
    capabilities:
      ((database0.capabilities | CAP.SSL | CAP.PLUGIN_AUTH) &
        ~CAP.COMPRESS &
        ~CAP.ZSTD_COMPRESSION) >>>
      0,
    authPlugin: 'mysql_native_password',
  }
  let client: Duplex = socket
  let tls = false
  let reader = new PacketReader()
  client.write(packet(0, greetingPayload(greeting)))
  let answer = await readPacket(client, reader)
  let response: HandshakeResponse = parseHandshakeResponse(answer.payload)
  if (response.sslRequest) {
    // A client sends its TLS ClientHello right after the SSLRequest, without waiting: bytes read
    // past the packet go back to the socket, where the TLS socket finds them.
    const early = reader.rest()
    if (early.length > 0) socket.unshift(early)
    try {
      client = await upgrade(socket, context.secureContext)
    } catch {
      context.report({ type: 'tls-failed' })
      socket.destroy()
      upstream?.socket.destroy()
      return
    }
    context.track(client)
    context.report({ type: 'tls' })
    tls = true
    reader = new PacketReader()
    answer = await readPacket(client, reader)
    response = parseHandshakeResponse(answer.payload)
  }
  const { user } = response
  const database = response.database
  let sequence = answer.sequence + 1
  const refuse = (reason: RdsProxyRefusal, errno: number, sqlState: string, message: string) => {
    context.report({
      type: 'refused',
      reason,
      user,
      ...(database === undefined ? {} : { database }),
      tls,
    })
    client.end(errPacket(sequence, errno, sqlState, message))
    upstream?.socket.destroy()
  }
  if (!tls && context.requireTls) {
    refuse('no-tls', 3159, 'HY000', TLS_REQUIRED_MESSAGE)
    return
  }
  if (context.users !== undefined && !context.users.includes(user)) {
    refuse('user-not-allowed', 1045, '28000', accessDenied(user))
    return
  }
  // The token comes with the cleartext plugin: asked for unless the client already used it.
  let token: Buffer = response.authResponse
  if (response.authPlugin !== 'mysql_clear_password') {
    client.write(packet(sequence, authSwitchPayload('mysql_clear_password', Buffer.alloc(0))))
    const switched = await readPacket(client, reader)
    token = switched.payload
    sequence = switched.sequence + 1
  }
  const text = token.toString('utf8').replace(/\0$/, '')
  if (text === '') {
    refuse(
      'no-password',
      1045,
      '28000',
      `Access denied for user '${user}'@'%' (using password: NO)`,
    )
    return
  }
  const verdict = verifyRdsToken(text, {
    proxyHost: context.proxyHost,
    port: context.port,
    user,
    region: context.region,
    clock: context.clock,
    store: context.store,
  })
  if (!verdict.ok) {
    refuse(verdict.reason, 1045, '28000', accessDenied(user))
    return
  }
  if (upstream === undefined) {
    upstream = await openUpstream(client, context, sequence)
    if (upstream === undefined) return
    opened(upstream)
  }
  let ok: Buffer
  try {
    ok = await upstream.login(response)
  } catch (error) {
    const refused = error instanceof MysqlUpstreamRefused ? error : undefined
    refuse(
      'upstream-failed',
      refused?.errno ?? 2013,
      refused?.sqlState ?? 'HY000',
      refused?.message ?? (error as Error).message,
    )
    return
  }
  context.report({
    type: 'connected',
    user,
    ...(database === undefined ? {} : { database }),
    principal: verdict.principalArn,
    tls,
  })
  client.write(packet(sequence, ok))
  const early = reader.rest()
  if (early.length > 0) upstream.socket.write(early)
  relay(client, upstream.socket, () => context.report({ type: 'closed', user }))
}

function relay(client: Duplex, upstream: Socket, onClosed: () => void): void {
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
  client.pipe(upstream)
  upstream.pipe(client)
  client.resume()
  upstream.resume()
}
