import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { createServer, type Server, type Socket } from 'node:net'
import * as packet from 'dns-packet'

/** The answers for one name. */
export interface DnsRecords {
  /** IPv4 addresses (A records). */
  a?: string[]
  /** IPv6 addresses (AAAA records). */
  aaaa?: string[]
  /** Seconds. @default the server's defaultTtl */
  ttl?: number
}

/** Test switches for one name (or '*' for every name). */
export type DnsBehaviour = 'servfail' | 'silent' | 'nxdomain' | DnsRecords

/** One query the server received. */
export interface DnsQueryLog {
  /** The name asked for, lowercase. */
  name: string
  /** The record type, e.g. `A`, `AAAA`. */
  type: string
  /** UDP, or TCP (a retry after a truncated answer). */
  transport: 'udp' | 'tcp'
}

/** Options of {@link startDnsServer}. */
export interface DnsServerOptions {
  /** @default '127.0.0.1' */
  host?: string
  /** @default 0 (a free port) */
  port?: number
  /** @default 60 */
  defaultTtl?: number
  /** Records to serve from the start, by name. @default none */
  records?: Record<string, DnsRecords>
}

/** A DNS server on loopback (UDP and TCP) whose answers tests set and break. */
export interface LabDnsServer {
  /** The loopback address it listens on. */
  readonly host: string
  /** Its port (UDP and TCP). */
  readonly port: number
  /** `host:port`, as `Resolver#setServers` takes it. */
  readonly address: string
  /** Serves `records` for `name` from now on, replacing what it had. */
  set(name: string, records: DnsRecords): void
  /** Stops serving `name`: it answers NXDOMAIN. */
  remove(name: string): void
  /** Overrides the real records of `name` ('*': all names) until `restore(name)`. */
  override(name: string, behaviour: DnsBehaviour): void
  /** Ends the override of `name` ('*' for the catch-all); with no name, every override. */
  restore(name?: string): void
  /** Queries received, oldest first. */
  readonly queries: readonly DnsQueryLog[]
  /** Queries received that match `filter` (name and/or type). */
  queryCount(filter?: { name?: string; type?: string }): number
  /** Stops both listeners. */
  close(): Promise<void>
}

const UDP_LIMIT = 512
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const

const key = (name: string) => name.toLowerCase().replace(/\.$/, '')

/** An authoritative DNS server over UDP and TCP (for truncated answers), built on dns-packet. */
export async function startDnsServer(options: DnsServerOptions = {}): Promise<LabDnsServer> {
  const host = options.host ?? '127.0.0.1'
  const defaultTtl = options.defaultTtl ?? 60
  const records = new Map<string, DnsRecords>()
  for (const [name, value] of Object.entries(options.records ?? {})) records.set(key(name), value)
  const overrides = new Map<string, DnsBehaviour>()
  const queries: DnsQueryLog[] = []
  const sockets = new Set<Socket>()

  // Returns the encoded response, or undefined to stay silent.
  const answer = (request: packet.Packet, transport: 'udp' | 'tcp'): Buffer | undefined => {
    const question = request.questions?.[0]
    if (question === undefined) return undefined
    const name = key(question.name)
    queries.push({ name, type: question.type, transport })
    const behaviour = overrides.get(name) ?? overrides.get('*') ?? records.get(name) ?? 'nxdomain'
    if (behaviour === 'silent') return undefined
    const base = {
      type: 'response' as const,
      id: request.id ?? 0,
      questions: request.questions,
      flags: packet.AUTHORITATIVE_ANSWER | ((request.flags ?? 0) & packet.RECURSION_DESIRED),
    }
    if (behaviour === 'servfail' || behaviour === 'nxdomain') {
      const rcode = behaviour === 'servfail' ? RCODE.SERVFAIL : RCODE.NXDOMAIN
      return packet.encode({ ...base, flags: base.flags | rcode, answers: [] })
    }
    const addresses =
      question.type === 'A' ? behaviour.a : question.type === 'AAAA' ? behaviour.aaaa : undefined
    const answers = (addresses ?? []).map((data) => ({
      type: question.type as 'A' | 'AAAA',
      name: question.name,
      ttl: behaviour.ttl ?? defaultTtl,
      class: 'IN' as const,
      data,
    }))
    const encoded = packet.encode({ ...base, answers })
    if (transport === 'udp' && encoded.length > UDP_LIMIT) {
      return packet.encode({ ...base, flags: base.flags | packet.TRUNCATED_RESPONSE, answers: [] })
    }
    return encoded
  }

  const onMessage =
    (udp: UdpSocket) => (message: Buffer, remote: { port: number; address: string }) => {
      let request: packet.Packet
      try {
        request = packet.decode(message)
      } catch {
        return
      }
      const response = answer(request, 'udp')
      if (response !== undefined) udp.send(response, remote.port, remote.address)
    }

  const tcp: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let buffered = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk])
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0)
        if (buffered.length < length + 2) break
        const frame = buffered.subarray(2, length + 2)
        buffered = buffered.subarray(length + 2)
        let request: packet.Packet
        try {
          request = packet.decode(frame)
        } catch {
          socket.destroy()
          return
        }
        const response = answer(request, 'tcp')
        if (response === undefined) continue
        const prefix = Buffer.alloc(2)
        prefix.writeUInt16BE(response.length)
        socket.write(Buffer.concat([prefix, response]))
      }
    })
  })

  // UDP and TCP must share one port number: a free UDP port can be taken for TCP, so retry.
  let udp: UdpSocket | undefined
  let port = 0
  for (let attempt = 0; udp === undefined; attempt++) {
    const candidate = createSocket('udp4')
    candidate.on('message', onMessage(candidate))
    await new Promise<void>((resolve, reject) => {
      candidate.once('error', reject)
      candidate.bind(options.port ?? 0, host, () => resolve())
    })
    port = candidate.address().port
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject)
        tcp.listen(port, host, () => {
          tcp.off('error', reject)
          resolve()
        })
      })
      udp = candidate
    } catch (error) {
      await new Promise<void>((resolve) => candidate.close(() => resolve()))
      if (options.port !== undefined || attempt >= 20) throw error
    }
  }
  const boundUdp = udp

  return {
    host,
    port,
    address: `${host}:${port}`,
    set: (name, value) => void records.set(key(name), value),
    remove: (name) => void records.delete(key(name)),
    override: (name, behaviour) => void overrides.set(name === '*' ? '*' : key(name), behaviour),
    restore: (name) =>
      name === undefined
        ? overrides.clear()
        : void overrides.delete(name === '*' ? '*' : key(name)),
    queries,
    queryCount: (filter = {}) =>
      queries.filter(
        (q) =>
          (filter.name === undefined || q.name === key(filter.name)) &&
          (filter.type === undefined || q.type === filter.type),
      ).length,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await Promise.all([
        new Promise<void>((resolve) => boundUdp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ])
    },
  }
}
