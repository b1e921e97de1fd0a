/** One command from a client: its arguments, and the exact bytes it arrived as (relayed untouched). */
export interface RespCommand {
  args: Buffer[]
  raw: Buffer
}

const CRLF = Buffer.from('\r\n')

/** Thrown for bytes no Redis client sends: the front then closes the connection, as Redis does. */
export class RespProtocolError extends Error {}

/**
 * Splits a client's byte stream into commands: multibulk (`*2\r\n$3\r\nGET\r\n...`), as every
 * client library sends, and inline commands (`PING\r\n`), as telnet users and redis-cli's
 * `--no-raw` do.
 */
export class CommandReader {
  #buffer: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
  }

  next(): RespCommand | undefined {
    const buffer = this.#buffer
    if (buffer.length === 0) return undefined
    const parsed = buffer[0] === 0x2a ? multibulk(buffer) : inline(buffer)
    if (parsed === undefined) return undefined
    this.#buffer = buffer.subarray(parsed.end)
    return { args: parsed.args, raw: buffer.subarray(0, parsed.end) }
  }
}

function readLine(buffer: Buffer, offset: number): { line: string; next: number } | undefined {
  const end = buffer.indexOf(CRLF, offset)
  if (end < 0) {
    if (buffer.length - offset > 64 * 1024) throw new RespProtocolError('line too long')
    return undefined
  }
  return { line: buffer.toString('latin1', offset, end), next: end + 2 }
}

function multibulk(buffer: Buffer): { args: Buffer[]; end: number } | undefined {
  const head = readLine(buffer, 1)
  if (head === undefined) return undefined
  const count = Number(head.line)
  if (!Number.isInteger(count) || count > 1024 * 1024)
    throw new RespProtocolError('invalid multibulk length')
  let offset = head.next
  const args: Buffer[] = []
  for (let index = 0; index < count; index++) {
    if (offset >= buffer.length) return undefined
    if (buffer[offset] !== 0x24)
      throw new RespProtocolError(`expected '$', got '${String.fromCharCode(buffer[offset]!)}'`)
    const length = readLine(buffer, offset + 1)
    if (length === undefined) return undefined
    const size = Number(length.line)
    if (!Number.isInteger(size) || size < 0) throw new RespProtocolError('invalid bulk length')
    if (buffer.length < length.next + size + 2) return undefined
    args.push(buffer.subarray(length.next, length.next + size))
    offset = length.next + size + 2
  }
  return { args, end: offset }
}

function inline(buffer: Buffer): { args: Buffer[]; end: number } | undefined {
  const end = buffer.indexOf(0x0a)
  if (end < 0) {
    if (buffer.length > 64 * 1024) throw new RespProtocolError('inline command too long')
    return undefined
  }
  const line = buffer.toString('utf8', 0, end).replace(/\r$/, '')
  const args = line
    .split(' ')
    .filter((part) => part !== '')
    .map((part) => Buffer.from(part))
  return { args, end: end + 1 }
}

const TYPE_SIMPLE = new Set(['+', '-', ':', '_', '#', ',', '('])
const TYPE_BLOB = new Set(['$', '!', '='])
const TYPE_AGGREGATE = new Set(['*', '~', '>'])

/**
 * The offset just past one complete RESP2/RESP3 reply starting at `start`, or -1 when more bytes
 * are needed. Lets the front keep its own replies (AUTH's +OK) in order with relayed ones.
 */
export function replyEnd(buffer: Buffer, start: number): number {
  let pending = 1
  let offset = start
  while (pending > 0) {
    if (offset >= buffer.length) return -1
    const type = String.fromCharCode(buffer[offset]!)
    const end = buffer.indexOf(CRLF, offset)
    if (end < 0) return -1
    const count = Number(buffer.toString('latin1', offset + 1, end))
    offset = end + 2
    pending--
    if (TYPE_SIMPLE.has(type)) continue
    if (TYPE_BLOB.has(type)) {
      if (count >= 0) {
        if (buffer.length < offset + count + 2) return -1
        offset += count + 2
      }
    } else if (TYPE_AGGREGATE.has(type)) {
      if (count > 0) pending += count
    } else if (type === '%') {
      if (count > 0) pending += 2 * count
    } else if (type === '|') {
      // An attribute map precedes the value it describes.
      pending += 2 * count + 1
    } else throw new RespProtocolError(`unknown reply type '${type}'`)
  }
  return offset
}

/** Encodes a command as a multibulk request. */
export function encodeCommand(args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const arg of args) {
    const value = typeof arg === 'string' ? Buffer.from(arg) : arg
    parts.push(Buffer.from(`$${value.length}\r\n`), value, CRLF)
  }
  return Buffer.concat(parts)
}

export const simpleString = (text: string): Buffer => Buffer.from(`+${text}\r\n`)
export const errorReply = (text: string): Buffer => Buffer.from(`-${text}\r\n`)
