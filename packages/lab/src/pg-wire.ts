/**
 * PostgreSQL frontend/backend protocol v3 framing: just what a proxy needs to answer the startup
 * handshake and authenticate to a server. No I/O: bytes in, messages out, and encoders.
 */

export const PROTOCOL_VERSION_3 = 196_608
export const SSL_REQUEST_CODE = 80_877_103
export const GSSENC_REQUEST_CODE = 80_877_104
export const CANCEL_REQUEST_CODE = 80_877_102
/** PostgreSQL refuses startup packets above 10000 bytes; the proxy does the same. */
export const MAX_STARTUP_LENGTH = 10_000
/** Handshake messages parsed by the lab (an IAM token is ~1.5 KB); larger is a protocol error. */
export const MAX_HANDSHAKE_MESSAGE = 1_048_576

export type StartupPacket =
  | { kind: 'ssl-request' }
  | { kind: 'gssenc-request' }
  | { kind: 'cancel'; processId: number; secretKey: Buffer; raw: Buffer }
  | { kind: 'startup'; protocol: number; parameters: Record<string, string> }

export interface BackendMessage {
  /** One ASCII letter: 'R' authentication, 'E' error, 'S' parameter status... */
  type: string
  body: Buffer
}

/** Accumulates bytes and cuts them into startup packets (untyped) or typed messages. */
export class MessageReader {
  #buffer: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
  }

  /** The untyped first packet a client sends; undefined until complete. Throws on a malformed one. */
  nextStartup(): StartupPacket | undefined {
    if (this.#buffer.length < 8) return undefined
    const length = this.#buffer.readInt32BE(0)
    if (length < 8 || length > MAX_STARTUP_LENGTH) throw new Error('invalid startup packet length')
    if (this.#buffer.length < length) return undefined
    const packet = this.#buffer.subarray(0, length)
    this.#buffer = this.#buffer.subarray(length)
    const code = packet.readInt32BE(4)
    if (code === SSL_REQUEST_CODE && length === 8) return { kind: 'ssl-request' }
    if (code === GSSENC_REQUEST_CODE && length === 8) return { kind: 'gssenc-request' }
    if (code === CANCEL_REQUEST_CODE && length >= 16)
      return {
        kind: 'cancel',
        processId: packet.readInt32BE(8),
        secretKey: Buffer.from(packet.subarray(12)),
        raw: Buffer.from(packet),
      }
    if (code >> 16 !== 3)
      throw new Error(`unsupported frontend protocol ${code >> 16}.${code & 0xffff}`)
    return {
      kind: 'startup',
      protocol: code,
      parameters: parseStartupParameters(packet.subarray(8)),
    }
  }

  /** The next complete typed message; undefined until complete. */
  next(): BackendMessage | undefined {
    if (this.#buffer.length < 5) return undefined
    const length = this.#buffer.readInt32BE(1)
    if (length < 4 || length > MAX_HANDSHAKE_MESSAGE) throw new Error('invalid message length')
    if (this.#buffer.length < length + 1) return undefined
    const type = String.fromCharCode(this.#buffer[0]!)
    const body = Buffer.from(this.#buffer.subarray(5, length + 1))
    this.#buffer = this.#buffer.subarray(length + 1)
    return { type, body }
  }

  /** Bytes received past the last message cut, handed over when the proxy starts relaying. */
  rest(): Buffer {
    const rest = this.#buffer
    this.#buffer = Buffer.alloc(0)
    return rest
  }
}

function parseStartupParameters(body: Buffer): Record<string, string> {
  const strings = body.toString('utf8').split('\0')
  const parameters: Record<string, string> = {}
  for (let i = 0; i + 1 < strings.length && strings[i] !== ''; i += 2)
    parameters[strings[i]!] = strings[i + 1]!
  return parameters
}

const cstring = (value: string) => Buffer.from(`${value}\0`, 'utf8')

/** A typed message: its letter, its length, its body. */
export function message(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts)
  const header = Buffer.alloc(5)
  header.write(type, 0, 'latin1')
  header.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([header, body])
}

const int32 = (value: number) => {
  const buffer = Buffer.alloc(4)
  buffer.writeInt32BE(value)
  return buffer
}

export const AUTH_OK = 0
export const AUTH_CLEARTEXT_PASSWORD = 3
export const AUTH_MD5_PASSWORD = 5
export const AUTH_SASL = 10
export const AUTH_SASL_CONTINUE = 11
export const AUTH_SASL_FINAL = 12

/** AuthenticationOk, AuthenticationCleartextPassword... with the request's extra bytes. */
export const authentication = (code: number, extra: Buffer = Buffer.alloc(0)) =>
  message('R', int32(code), extra)

export interface ErrorFields {
  /** ERROR or FATAL. */
  severity: 'ERROR' | 'FATAL'
  /** SQLSTATE, e.g. 28P01. */
  code: string
  message: string
  detail?: string
  hint?: string
}

/** An ErrorResponse with the localized (S) and non-localized (V) severity, as PostgreSQL 9.6+ sends. */
export function errorResponse(fields: ErrorFields): Buffer {
  const parts = [
    cstring(`S${fields.severity}`),
    cstring(`V${fields.severity}`),
    cstring(`C${fields.code}`),
    cstring(`M${fields.message}`),
  ]
  if (fields.detail !== undefined) parts.push(cstring(`D${fields.detail}`))
  if (fields.hint !== undefined) parts.push(cstring(`H${fields.hint}`))
  return message('E', ...parts, Buffer.from([0]))
}

/** ErrorResponse / NoticeResponse fields by their one-letter code. */
export function parseErrorFields(body: Buffer): Record<string, string> {
  const fields: Record<string, string> = {}
  let offset = 0
  while (offset < body.length && body[offset] !== 0) {
    const end = body.indexOf(0, offset + 1)
    if (end < 0) break
    fields[String.fromCharCode(body[offset]!)] = body.toString('utf8', offset + 1, end)
    offset = end + 1
  }
  return fields
}

export function startupMessage(parameters: Record<string, string>): Buffer {
  const body = Buffer.concat([
    int32(PROTOCOL_VERSION_3),
    ...Object.entries(parameters).flatMap(([name, value]) => [cstring(name), cstring(value)]),
    Buffer.from([0]),
  ])
  return Buffer.concat([int32(body.length + 4), body])
}

/** The password (or IAM token) in a PasswordMessage body. */
export const parsePasswordMessage = (body: Buffer): string => {
  const end = body.indexOf(0)
  return body.toString('utf8', 0, end < 0 ? body.length : end)
}

export const passwordMessage = (password: string) => message('p', cstring(password))

export const saslInitialResponse = (mechanism: string, data: string) => {
  const payload = Buffer.from(data, 'utf8')
  return message('p', cstring(mechanism), int32(payload.length), payload)
}

export const saslResponse = (data: string) => message('p', Buffer.from(data, 'utf8'))

/** SASL mechanism names offered in AuthenticationSASL. */
export const parseSaslMechanisms = (extra: Buffer): string[] =>
  extra
    .toString('utf8')
    .split('\0')
    .filter((name) => name !== '')
