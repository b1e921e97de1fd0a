import { createSocket, type Socket } from 'node:dgram'

// Just enough of the DNS wire format (RFC 1035) to read a query's question and to build answers,
// well-formed or not, by hand: the fuzzing needs bytes no encoder would write.

export interface Question {
  id: number
  name: string
  type: number
  /** The question section's bytes, as sent. */
  raw: Buffer
}

export const TYPE = { A: 1, AAAA: 28 } as const

export function readQuestion(message: Buffer): Question | undefined {
  if (message.length < 17) return undefined
  const labels: string[] = []
  let offset = 12
  while (offset < message.length) {
    const length = message[offset]!
    if (length === 0) break
    if (length > 63) return undefined
    labels.push(message.subarray(offset + 1, offset + 1 + length).toString('latin1'))
    offset += length + 1
  }
  if (offset + 5 > message.length) return undefined
  return {
    id: message.readUInt16BE(0),
    name: labels.join('.'),
    type: message.readUInt16BE(offset + 1),
    raw: message.subarray(12, offset + 5),
  }
}

/** A response header: `flags` (QR and AA set by default) and the four section counts. */
export function header(
  id: number,
  counts: [number, number, number, number],
  flags = 0x8400,
): Buffer {
  const out = Buffer.alloc(12)
  out.writeUInt16BE(id & 0xffff, 0)
  out.writeUInt16BE(flags & 0xffff, 2)
  for (const [i, count] of counts.entries()) out.writeUInt16BE(count & 0xffff, 4 + i * 2)
  return out
}

/** An answer record pointing back at the question's name (0xc00c). */
export function answer(type: number, ttl: number, data: Buffer): Buffer {
  const out = Buffer.alloc(12)
  out.writeUInt16BE(0xc00c, 0)
  out.writeUInt16BE(type & 0xffff, 2)
  out.writeUInt16BE(1, 4)
  out.writeUInt32BE(ttl >>> 0, 6)
  out.writeUInt16BE(data.length & 0xffff, 10)
  return Buffer.concat([out, data])
}

export const ipv4 = (address: string) => Buffer.from(address.split('.').map(Number))

/** A UDP DNS server whose every answer comes from `respond` (undefined: stay silent). */
export async function startRawDnsServer(
  respond: (question: Question, message: Buffer) => Buffer | Buffer[] | undefined,
): Promise<{ address: string; queries: number; close(): Promise<void> }> {
  const server: Socket = createSocket('udp4')
  const state = { queries: 0 }
  server.on('message', (message, remote) => {
    state.queries++
    const question = readQuestion(message)
    if (question === undefined) return
    const reply = respond(question, message)
    for (const datagram of reply === undefined ? [] : Array.isArray(reply) ? reply : [reply])
      server.send(datagram, remote.port, remote.address)
  })
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve))
  return {
    address: `127.0.0.1:${server.address().port}`,
    get queries() {
      return state.queries
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** A UDP relay to `upstream` that silently drops the query types in `drop` (e.g. AAAA). */
export async function startDroppingRelay(upstream: { host: string; port: number }) {
  const drop = new Set<number>()
  const relays = new Set<Socket>()
  const server = createSocket('udp4')
  let dropped = 0
  server.on('message', (message, remote) => {
    const question = readQuestion(message)
    if (question !== undefined && drop.has(question.type)) {
      dropped++
      return
    }
    const relay = createSocket('udp4')
    relays.add(relay)
    relay.on('message', (reply) => {
      server.send(reply, remote.port, remote.address)
      relay.close()
      relays.delete(relay)
    })
    relay.send(message, upstream.port, upstream.host)
  })
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve))
  return {
    address: `127.0.0.1:${server.address().port}`,
    drop,
    dropped: () => dropped,
    close: async () => {
      for (const relay of relays) relay.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
