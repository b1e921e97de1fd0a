import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'

/**
 * Watches for sockets ioredis opens by itself (its StandaloneConnector: `net.createConnection` to
 * whatever address it was given) rather than through our Connector. Each one is recorded and
 * destroyed on the next tick, ahead of the connect net schedules for an IP literal, so it never
 * connects anywhere (the addresses under test are announced, non-loopback ones).
 */
export function watchDirectDials(): { escaped: string[]; stop(): void } {
  const escaped: string[] = []
  const listener = (message: unknown) => {
    const stack = new Error().stack ?? ''
    const frame = stack.split('\n').find((line) => /StandaloneConnector/.test(line))
    if (frame === undefined) return
    const { socket } = message as { socket: Socket }
    escaped.push(frame.trim())
    process.nextTick(() => socket.destroy())
  }
  subscribe('net.client.socket', listener)
  return { escaped, stop: () => unsubscribe('net.client.socket', listener) }
}
