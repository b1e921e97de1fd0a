import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import {
  CAP,
  type Greeting,
  type HandshakeResponse,
  handshakeResponsePayload,
  nativePassword,
  PacketReader,
  packet,
  parseErr,
  parseGreeting,
} from './mysql-wire.js'
import { readPacket } from './mysql-wire-socket.js'

/** The real MySQL or MariaDB behind the proxy, and the credentials the proxy logs in with. */
export interface MysqlUpstream {
  /** The server's address (loopback). */
  host: string
  /** Its port. */
  port: number
  /** The user the proxy logs in as (mysql_native_password). */
  user: string
  /** Its password. @default '' */
  password?: string
  /** @default the database the client asked for */
  database?: string
}

/** The database refused the proxy's login: its ERR packet's fields, forwarded to the client. */
export class MysqlUpstreamRefused extends Error {
  constructor(
    readonly errno: number,
    readonly sqlState: string,
    message: string,
  ) {
    super(message)
  }
}

/** An upstream connection between its greeting and the proxy's login. */
export interface UpstreamGreeted {
  socket: Socket
  greeting: Greeting
  /** Logs in with the client's capabilities; resolves with the database's OK packet payload. */
  login(client: HandshakeResponse): Promise<Buffer>
}

// Never asked of the database: the proxy does its own TLS, compression and attributes.
const PROXY_ONLY = CAP.SSL | CAP.COMPRESS | CAP.ZSTD_COMPRESSION | CAP.CONNECT_ATTRS

/** Connects to the database and reads its greeting; the login waits for the client's handshake. */
export async function openMysqlUpstream(upstream: MysqlUpstream): Promise<UpstreamGreeted> {
  const socket = connect({ host: upstream.host, port: upstream.port })
  socket.setNoDelay(true)
  await once(socket, 'connect')
  const reader = new PacketReader()
  const first = await readPacket(socket, reader)
  if (first.payload[0] === 0xff) {
    const err = parseErr(first.payload)
    socket.destroy()
    throw new MysqlUpstreamRefused(err.errno, err.sqlState, err.message)
  }
  const greeting = parseGreeting(first.payload)
  return {
    socket,
    greeting,
    async login(client) {
      const database = upstream.database ?? client.database
      const capabilities =
        (client.capabilities & ~PROXY_ONLY & ~CAP.CONNECT_WITH_DB & greeting.capabilities) |
        CAP.PLUGIN_AUTH |
        CAP.SECURE_CONNECTION |
        (database === undefined || database === '' ? 0 : CAP.CONNECT_WITH_DB)
      const password = upstream.password ?? ''
      socket.write(
        packet(
          1,
          handshakeResponsePayload({
            capabilities: capabilities & ~CAP.PLUGIN_AUTH_LENENC_CLIENT_DATA,
            maxPacket: client.maxPacket,
            charset: client.charset,
            mariadbCapabilities: client.mariadbCapabilities & greeting.mariadbCapabilities,
            user: upstream.user,
            authResponse: nativePassword(password, greeting.scramble),
            database: database === '' ? undefined : database,
            authPlugin: 'mysql_native_password',
          }),
        ),
      )
      for (;;) {
        const answer = await readPacket(socket, reader)
        const marker = answer.payload[0]
        if (marker === 0x00) return answer.payload
        if (marker === 0xff) {
          const err = parseErr(answer.payload)
          throw new MysqlUpstreamRefused(err.errno, err.sqlState, err.message)
        }
        if (marker === 0xfe) {
          // AuthSwitchRequest: the database wants mysql_native_password with a new scramble.
          const nameEnd = answer.payload.indexOf(0, 1)
          const plugin = answer.payload.toString('latin1', 1, nameEnd)
          if (plugin !== 'mysql_native_password')
            throw new MysqlUpstreamRefused(
              1251,
              '08004',
              `the lab proxy cannot log in with ${plugin}`,
            )
          const scramble = answer.payload.subarray(nameEnd + 1, nameEnd + 21)
          socket.write(packet(answer.sequence + 1, nativePassword(password, scramble)))
          continue
        }
        throw new MysqlUpstreamRefused(
          2027,
          'HY000',
          `unexpected packet 0x${marker?.toString(16)} at login`,
        )
      }
    },
  }
}
