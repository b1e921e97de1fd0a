import { createSocket, type Socket } from 'node:dgram'
import * as packet from 'dns-packet'

export interface DroppingProxy {
  /** `host:port` for `servers`. */
  readonly address: string
  /** Query types silently dropped, e.g. 'AAAA' (a middlebox or resolver that ignores them). */
  readonly drop: Set<string>
  /** Queries received per type, dropped ones included. */
  count(type: string): number
  close(): Promise<void>
}

/**
 * A UDP relay in front of the lab's DNS server that drops chosen query types: the lab's switches
 * silence a whole name, and the case to test is one family silent while the other answers.
 */
export async function startDroppingProxy(upstream: {
  host: string
  port: number
}): Promise<DroppingProxy> {
  const counts = new Map<string, number>()
  const drop = new Set<string>()
  const relays = new Set<Socket>()
  const server = createSocket('udp4')
  server.on('message', (message, remote) => {
    let type = 'UNKNOWN'
    try {
      type = packet.decode(message).questions?.[0]?.type ?? type
    } catch {}
    counts.set(type, (counts.get(type) ?? 0) + 1)
    if (drop.has(type)) return
    const relay = createSocket('udp4')
    relays.add(relay)
    relay.on('message', (answer) => {
      server.send(answer, remote.port, remote.address)
      relay.close()
      relays.delete(relay)
    })
    relay.send(message, upstream.port, upstream.host)
  })
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve))
  return {
    address: `127.0.0.1:${server.address().port}`,
    drop,
    count: (type) => counts.get(type) ?? 0,
    close: async () => {
      for (const relay of relays) relay.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
