import { connect, createServer, type Server, type Socket } from 'node:net'
import { type Blackhole, startBlackhole } from './blackhole.js'

export type FaultMode = 'refuse' | 'blackhole' | 'hang' | 'reset' | 'latency'

export interface ListenerStats {
  accepted: number
  active: number
  bytesIn: number
  bytesOut: number
}

export interface Target {
  host: string
  port: number
}

interface Relay {
  client: Socket
  upstream: Socket | undefined
  paused: boolean
}

/**
 * One service port on one zone's "ENI": relays bytes to the target like an NLB TCP listener
 * (TLS passes through untouched), with fault injection.
 */
export class ZonalListener {
  readonly host: string
  readonly port: number
  readonly stats: ListenerStats = { accepted: 0, active: 0, bytesIn: 0, bytesOut: 0 }
  #target: () => Target
  #server: Server | undefined
  #blackhole: Blackhole | undefined
  #mode: FaultMode | 'ok' = 'ok'
  #latencyMs = 0
  #relays = new Set<Relay>()
  #timers = new Set<NodeJS.Timeout>()

  private constructor(host: string, port: number, target: () => Target) {
    this.host = host
    this.port = port
    this.#target = target
  }

  /** Listens on `preferredPort` when free, else on a free port. */
  static async start(
    host: string,
    preferredPort: number,
    target: () => Target,
  ): Promise<ZonalListener> {
    for (const port of [preferredPort, 0]) {
      const listener = new ZonalListener(host, port, target)
      try {
        return await listener.#listen()
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw error
      }
    }
    throw new Error('unreachable')
  }

  get mode(): FaultMode | 'ok' {
    return this.#mode
  }

  async #listen(): Promise<ZonalListener> {
    const server = createServer({ noDelay: true }, (client) => this.#accept(client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, this.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const address = server.address()
    if (address !== null && typeof address === 'object')
      (this as { port: number }).port = address.port
    this.#server = server
    return this
  }

  #stopListening(): void {
    // Closes the listening socket at once; accepted connections live on.
    this.#server?.close()
    this.#server = undefined
  }

  #accept(client: Socket): void {
    this.stats.accepted++
    client.on('error', () => {})
    if (this.#mode === 'reset') {
      client.resetAndDestroy()
      return
    }
    const relay: Relay = { client, upstream: undefined, paused: this.#mode === 'hang' }
    this.#relays.add(relay)
    this.stats.active++
    client.once('close', () => {
      this.#relays.delete(relay)
      this.stats.active--
      relay.upstream?.destroy()
    })
    if (relay.paused) {
      client.pause()
      return
    }
    this.#connectUpstream(relay)
  }

  #connectUpstream(relay: Relay): void {
    const { client } = relay
    const target = this.#target()
    const upstream = connect({ host: target.host, port: target.port, noDelay: true })
    relay.upstream = upstream
    upstream.on('error', () => client.resetAndDestroy())
    upstream.on('close', () => client.destroy())
    client.on('data', (chunk: Buffer) => {
      this.stats.bytesIn += chunk.length
      this.#forward(upstream, chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      this.stats.bytesOut += chunk.length
      this.#forward(client, chunk)
    })
    client.on('end', () => this.#later(() => upstream.end()))
    upstream.on('end', () => this.#later(() => client.end()))
  }

  #forward(to: Socket, chunk: Buffer): void {
    this.#later(() => {
      if (!to.destroyed) to.write(chunk)
    })
  }

  // Timers of equal delay fire in order, so latency keeps the byte order.
  #later(action: () => void): void {
    if (this.#mode !== 'latency' || this.#latencyMs === 0) {
      action()
      return
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      action()
    }, this.#latencyMs)
    this.#timers.add(timer)
  }

  #freeze(): void {
    for (const relay of this.#relays) {
      relay.paused = true
      relay.client.pause()
      relay.upstream?.pause()
    }
  }

  async fail(mode: FaultMode, options: { ms?: number } = {}): Promise<void> {
    await this.restore()
    this.#mode = mode
    switch (mode) {
      case 'refuse':
        this.#stopListening()
        break
      case 'blackhole':
        this.#stopListening()
        this.#freeze()
        this.#blackhole = await startBlackhole(this.host, this.port)
        break
      case 'hang':
        this.#freeze()
        break
      case 'reset':
        for (const relay of this.#relays) {
          relay.client.resetAndDestroy()
          relay.upstream?.destroy()
        }
        break
      case 'latency':
        this.#latencyMs = options.ms ?? 100
        break
    }
  }

  async restore(): Promise<void> {
    const previous = this.#mode
    this.#mode = 'ok'
    this.#latencyMs = 0
    if (this.#blackhole !== undefined) {
      await this.#blackhole.stop()
      this.#blackhole = undefined
    }
    if (this.#server === undefined && previous !== 'ok') await this.#listen()
    for (const relay of this.#relays) {
      if (!relay.paused) continue
      relay.paused = false
      if (relay.upstream === undefined) this.#connectUpstream(relay)
      relay.client.resume()
      relay.upstream?.resume()
    }
  }

  async close(): Promise<void> {
    if (this.#blackhole !== undefined) await this.#blackhole.stop()
    this.#blackhole = undefined
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    for (const relay of this.#relays) {
      relay.client.destroy()
      relay.upstream?.destroy()
    }
    const server = this.#server
    this.#server = undefined
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
