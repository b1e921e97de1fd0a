import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import {
  AUTH_CLEARTEXT_PASSWORD,
  AUTH_MD5_PASSWORD,
  AUTH_OK,
  AUTH_SASL,
  AUTH_SASL_CONTINUE,
  AUTH_SASL_FINAL,
  MessageReader,
  message,
  parseErrorFields,
  parseSaslMechanisms,
  passwordMessage,
  saslInitialResponse,
  saslResponse,
  startupMessage,
} from './pg-wire.js'
import { md5Password, scramClient } from './pg-wire-auth.js'
import { readUntil } from './pg-wire-socket.js'

/** The real PostgreSQL behind the proxy, and the credentials the proxy logs in with. */
export interface RdsProxyUpstream {
  /** The PostgreSQL server's address (loopback). */
  host: string
  /** Its port. */
  port: number
  /** The user the proxy logs in as. */
  user: string
  /** For cleartext, MD5 or SCRAM-SHA-256 servers; not needed for trust. */
  password?: string
  /** @default the database the client asked for */
  database?: string
}

/** The upstream refused: its ErrorResponse fields, forwarded to the client as they came. */
export class UpstreamRefused extends Error {
  constructor(readonly fields: Record<string, string>) {
    super(fields['M'] ?? 'upstream refused the connection')
  }
}

const needPassword = (upstream: RdsProxyUpstream): string => {
  if (upstream.password === undefined)
    throw new Error('upstream asks for a password: set upstream.password')
  return upstream.password
}

/**
 * After AuthenticationOk the server still sets the session up (and may refuse: a missing database
 * is reported only now); the messages up to ReadyForQuery are kept for the client.
 */
async function untilReady(socket: Socket, reader: MessageReader): Promise<Buffer> {
  const messages: Buffer[] = []
  for (;;) {
    const next = await readUntil(socket, reader, (r) => r.next())
    if (next.type === 'E') throw new UpstreamRefused(parseErrorFields(next.body))
    messages.push(message(next.type, next.body))
    if (next.type === 'Z') return Buffer.concat([...messages, reader.rest()])
  }
}

/**
 * Logs in to the upstream PostgreSQL with the proxy's own credentials (trust, cleartext, MD5 or
 * SCRAM-SHA-256) and resolves once the session is ready, with what the server sent after
 * AuthenticationOk (ParameterStatus, BackendKeyData, ReadyForQuery) for the client.
 */
export async function openUpstream(
  upstream: RdsProxyUpstream,
  parameters: Record<string, string>,
): Promise<{ socket: Socket; pending: Buffer }> {
  const socket = connect({ host: upstream.host, port: upstream.port })
  try {
    await once(socket, 'connect')
    socket.write(startupMessage(parameters))
    const reader = new MessageReader()
    let scram: ReturnType<typeof scramClient> | undefined
    for (;;) {
      const answer = await readUntil(socket, reader, (r) => r.next())
      if (answer.type === 'E') throw new UpstreamRefused(parseErrorFields(answer.body))
      if (answer.type === 'N') continue
      if (answer.type !== 'R') throw new Error(`unexpected upstream message '${answer.type}'`)
      const code = answer.body.readInt32BE(0)
      const extra = answer.body.subarray(4)
      if (code === AUTH_OK) return { socket, pending: await untilReady(socket, reader) }
      if (code === AUTH_CLEARTEXT_PASSWORD) {
        socket.write(passwordMessage(needPassword(upstream)))
      } else if (code === AUTH_MD5_PASSWORD) {
        socket.write(passwordMessage(md5Password(upstream.user, needPassword(upstream), extra)))
      } else if (code === AUTH_SASL) {
        if (!parseSaslMechanisms(extra).includes('SCRAM-SHA-256'))
          throw new Error('upstream offers no SASL mechanism the lab speaks')
        scram = scramClient(needPassword(upstream))
        socket.write(saslInitialResponse('SCRAM-SHA-256', scram.first()))
      } else if (code === AUTH_SASL_CONTINUE && scram !== undefined) {
        socket.write(saslResponse(scram.final(extra.toString('utf8'))))
      } else if (code === AUTH_SASL_FINAL && scram !== undefined) {
        if (!scram.verify(extra.toString('utf8')))
          throw new Error('upstream SCRAM server signature does not match')
      } else {
        throw new Error(
          `upstream asks for authentication method ${code}, which the lab does not speak`,
        )
      }
    }
  } catch (error) {
    socket.destroy()
    throw error
  }
}

/**
 * Runs `SHOW <name>` on a logged-in upstream connection before the relay starts, as the proxy
 * reads the database's `max_connections` to size its pool; undefined when the server refused.
 */
export async function showSetting(socket: Socket, name: string): Promise<string | undefined> {
  socket.write(message('Q', Buffer.from(`SHOW ${name}\0`, 'utf8')))
  const reader = new MessageReader()
  let value: string | undefined
  for (;;) {
    const next = await readUntil(socket, reader, (r) => r.next())
    if (next.type === 'D' && next.body.readInt16BE(0) >= 1) {
      const length = next.body.readInt32BE(2)
      if (length >= 0) value = next.body.toString('utf8', 6, 6 + length)
    } else if (next.type === 'Z') {
      return value
    }
  }
}
