import { createHash, randomBytes } from 'node:crypto'

// MySQL client/server protocol pieces the RDS Proxy for MySQL emulator speaks (no I/O here).

/** Capability flags used here. */
export const CAP = {
  CONNECT_WITH_DB: 0x8,
  COMPRESS: 0x20,
  PROTOCOL_41: 0x200,
  SSL: 0x800,
  SECURE_CONNECTION: 0x8000,
  PLUGIN_AUTH: 0x80000,
  CONNECT_ATTRS: 0x100000,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 0x200000,
  SESSION_TRACK: 0x800000,
  DEPRECATE_EOF: 0x1000000,
  ZSTD_COMPRESSION: 0x4000000,
} as const

/** One packet: its sequence ID and payload. */
export interface Packet {
  sequence: number
  payload: Buffer
}

/** Splits a byte stream into packets (payloads of 16 MB and more are not needed in the handshake). */
export class PacketReader {
  #buffer: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
  }

  next(): Packet | undefined {
    if (this.#buffer.length < 4) return undefined
    const length = this.#buffer.readUIntLE(0, 3)
    if (this.#buffer.length < 4 + length) return undefined
    const packet = { sequence: this.#buffer[3]!, payload: this.#buffer.subarray(4, 4 + length) }
    this.#buffer = this.#buffer.subarray(4 + length)
    return packet
  }

  /** Bytes read past the last packet (a pipelined first command). */
  rest(): Buffer {
    const rest = this.#buffer
    this.#buffer = Buffer.alloc(0)
    return rest
  }
}

/** Frames `payload` as one packet with `sequence`. */
export function packet(sequence: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4)
  header.writeUIntLE(payload.length, 0, 3)
  header[3] = sequence & 0xff
  return Buffer.concat([header, payload])
}

const nul = (text: string) => Buffer.from(`${text}\0`, 'utf8')

/** An ERR packet: 0xff, error number, '#', SQLSTATE, message. */
export function errPacket(
  sequence: number,
  errno: number,
  sqlState: string,
  message: string,
): Buffer {
  const head = Buffer.alloc(3)
  head[0] = 0xff
  head.writeUInt16LE(errno, 1)
  return packet(sequence, Buffer.concat([head, Buffer.from(`#${sqlState}${message}`, 'utf8')]))
}

/** The server's greeting (HandshakeV10), as far as the emulator reads or writes it. */
export interface Greeting {
  serverVersion: string
  connectionId: number
  /** The 20-byte auth scramble. */
  scramble: Buffer
  capabilities: number
  charset: number
  status: number
  /** MariaDB's extended capabilities (the last 4 of the 10 reserved bytes); 0 from MySQL. */
  mariadbCapabilities: number
  authPlugin: string
}

export function parseGreeting(payload: Buffer): Greeting {
  if (payload[0] !== 10) throw new Error(`not a MySQL greeting (first byte ${payload[0]})`)
  let at = payload.indexOf(0, 1)
  const serverVersion = payload.toString('latin1', 1, at)
  at += 1
  const connectionId = payload.readUInt32LE(at)
  const part1 = payload.subarray(at + 4, at + 12)
  at += 13
  let capabilities = payload.readUInt16LE(at)
  const charset = payload[at + 2]!
  const status = payload.readUInt16LE(at + 3)
  capabilities |= payload.readUInt16LE(at + 5) << 16
  capabilities >>>= 0
  const dataLength = payload[at + 7]!
  const mariadbCapabilities = payload.readUInt32LE(at + 14)
  at += 18
  const part2Length = Math.max(13, dataLength - 8)
  const part2 = payload.subarray(at, at + part2Length - 1)
  at += part2Length
  const end = payload.indexOf(0, at)
  const authPlugin = payload.toString('latin1', at, end < 0 ? payload.length : end)
  return {
    serverVersion,
    connectionId,
    scramble: Buffer.concat([part1, part2]).subarray(0, 20),
    capabilities,
    charset,
    status,
    mariadbCapabilities,
    authPlugin,
  }
}

export function greetingPayload(greeting: Greeting): Buffer {
  const fixed = Buffer.alloc(4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10)
  let at = 0
  fixed.writeUInt32LE(greeting.connectionId, at)
  greeting.scramble.copy(fixed, 4, 0, 8)
  at = 13
  fixed.writeUInt16LE(greeting.capabilities & 0xffff, at)
  fixed[at + 2] = greeting.charset
  fixed.writeUInt16LE(greeting.status, at + 3)
  fixed.writeUInt16LE((greeting.capabilities >>> 16) & 0xffff, at + 5)
  fixed[at + 7] = 21
  fixed.writeUInt32LE(greeting.mariadbCapabilities, at + 14)
  return Buffer.concat([
    Buffer.from([10]),
    nul(greeting.serverVersion),
    fixed,
    greeting.scramble.subarray(8, 20),
    Buffer.from([0]),
    nul(greeting.authPlugin),
  ])
}

/** A fresh 20-byte scramble of printable bytes, as servers send. */
export function newScramble(): Buffer {
  return Buffer.from(randomBytes(20).map((byte) => 0x21 + (byte % 94)))
}

/** The client's HandshakeResponse41 (or its SSLRequest prefix). */
export interface HandshakeResponse {
  capabilities: number
  maxPacket: number
  charset: number
  mariadbCapabilities: number
  /** Only the 32-byte SSLRequest: the client asks for TLS before the rest. */
  sslRequest: boolean
  user: string
  authResponse: Buffer
  database: string | undefined
  authPlugin: string | undefined
}

function lengthEncoded(payload: Buffer, at: number): [number, number] {
  const first = payload[at]!
  if (first < 0xfb) return [first, at + 1]
  if (first === 0xfc) return [payload.readUInt16LE(at + 1), at + 3]
  if (first === 0xfd) return [payload.readUIntLE(at + 1, 3), at + 4]
  return [Number(payload.readBigUInt64LE(at + 1)), at + 9]
}

export function parseHandshakeResponse(payload: Buffer): HandshakeResponse {
  const capabilities = payload.readUInt32LE(0)
  const base = {
    capabilities,
    maxPacket: payload.readUInt32LE(4),
    charset: payload[8]!,
    mariadbCapabilities: payload.length >= 32 ? payload.readUInt32LE(28) : 0,
  }
  if (payload.length === 32)
    return {
      ...base,
      sslRequest: true,
      user: '',
      authResponse: Buffer.alloc(0),
      database: undefined,
      authPlugin: undefined,
    }
  let at = 32
  const userEnd = payload.indexOf(0, at)
  const user = payload.toString('utf8', at, userEnd)
  at = userEnd + 1
  let authResponse: Buffer
  if (capabilities & CAP.PLUGIN_AUTH_LENENC_CLIENT_DATA) {
    const [length, from] = lengthEncoded(payload, at)
    authResponse = payload.subarray(from, from + length)
    at = from + length
  } else if (capabilities & CAP.SECURE_CONNECTION) {
    const length = payload[at]!
    authResponse = payload.subarray(at + 1, at + 1 + length)
    at += 1 + length
  } else {
    const end = payload.indexOf(0, at)
    authResponse = payload.subarray(at, end)
    at = end + 1
  }
  let database: string | undefined
  if (capabilities & CAP.CONNECT_WITH_DB && at < payload.length) {
    const end = payload.indexOf(0, at)
    database = payload.toString('utf8', at, end)
    at = end + 1
  }
  let authPlugin: string | undefined
  if (capabilities & CAP.PLUGIN_AUTH && at < payload.length) {
    const end = payload.indexOf(0, at)
    authPlugin = payload.toString('latin1', at, end < 0 ? payload.length : end)
  }
  return { ...base, sslRequest: false, user, authResponse, database, authPlugin }
}

/** The HandshakeResponse41 the proxy sends its database, with the client's capabilities. */
export function handshakeResponsePayload(fields: {
  capabilities: number
  maxPacket: number
  charset: number
  mariadbCapabilities: number
  user: string
  authResponse: Buffer
  database: string | undefined
  authPlugin: string
}): Buffer {
  const fixed = Buffer.alloc(32)
  fixed.writeUInt32LE(fields.capabilities >>> 0, 0)
  fixed.writeUInt32LE(fields.maxPacket, 4)
  fixed[8] = fields.charset
  fixed.writeUInt32LE(fields.mariadbCapabilities >>> 0, 28)
  return Buffer.concat([
    fixed,
    nul(fields.user),
    Buffer.from([fields.authResponse.length]),
    fields.authResponse,
    ...(fields.database === undefined ? [] : [nul(fields.database)]),
    nul(fields.authPlugin),
  ])
}

/** An AuthSwitchRequest (0xfe) to `plugin`, with `data` for it. */
export function authSwitchPayload(plugin: string, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xfe]), nul(plugin), data])
}

/** mysql_native_password: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))); empty for ''. */
export function nativePassword(password: string, scramble: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0)
  const sha1 = (data: Buffer) => createHash('sha1').update(data).digest()
  const stage1 = sha1(Buffer.from(password, 'utf8'))
  const stage2 = sha1(stage1)
  const mix = sha1(Buffer.concat([scramble.subarray(0, 20), stage2]))
  return Buffer.from(stage1.map((byte, index) => byte ^ mix[index]!))
}

/** An ERR packet's fields. */
export function parseErr(payload: Buffer): { errno: number; sqlState: string; message: string } {
  const errno = payload.readUInt16LE(1)
  const hasState = payload[3] === 0x23
  return {
    errno,
    sqlState: hasState ? payload.toString('latin1', 4, 9) : 'HY000',
    message: payload.toString('utf8', hasState ? 9 : 3),
  }
}
