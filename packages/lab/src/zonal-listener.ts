import { connect, createServer, type Server, type Socket } from 'node:net'
import { type Blackhole, prepareBlackhole } from './blackhole.js'
import { type FlowSide, type IdleFlow, type IdleSettings, IdleTracker } from './idle-flows.js'
import { flowKey, type KernelFlowView } from './kernel-flows.js'
import type { RelayPath } from './topology.js'

/**
 * - `refuse`: new connects get ECONNREFUSED; open connections keep working.
 * - `blackhole`: every packet to the zone is lost: new connects never complete and open
 *   connections go silent both ways (their bytes are held and delivered on restore, as TCP would
 *   retransmit them).
 * - `blackhole-new`: new connects never complete; open connections keep working (a security group
 *   rule removed: tracked connections live on).
 * - `hang`: connects complete, nothing is answered; open connections go silent too.
 * - `reset`: open and new connections are reset.
 * - `latency`: each chunk is delayed `ms` in each direction.
 * - `idle-close`: connections with no bytes either way for `ms` are closed (FIN), as a service's
 *   keep-alive idle timeout does.
 */
export type FaultMode =
  | 'refuse'
  | 'blackhole'
  | 'blackhole-new'
  | 'hang'
  | 'reset'
  | 'latency'
  | 'idle-close'

/** Settings of a fault mode. */
export interface FaultOptions {
  /** `latency`: delay per chunk and direction; `idle-close`: idle time before closing. @default 100 (latency), 1000 (idle-close) */
  ms?: number
}

/** What a zonal listener has seen since it started. */
export interface ListenerStats {
  /** Connections accepted since start. */
  accepted: number
  /** Connections open now: a client's close is seen in every mode, frozen ones included. */
  active: number
  /** Bytes relayed client -> service (bytes held by a fault count once delivered). */
  bytesIn: number
  /** Bytes relayed service -> client. */
  bytesOut: number
  /** Connections closed by `idle-close`. */
  idleClosed: number
  /** Flows the path forgot after `idleTimeoutMs` with no packet either way. */
  flowsForgotten: number
  /** Resets sent to a segment (data, FIN or keep-alive probe) of a forgotten flow (`idleTimeoutMode: 'reset'`). */
  resetsSent: number
  /** Segments of forgotten flows dropped without a word (`idleTimeoutMode: 'drop'`): data reads and keep-alive probes. */
  segmentsDropped: number
  /** Times a flow with no data was kept alive by segments only the kernel saw (TCP keep-alive probes). */
  keepAliveSeen: number
  /** With `topology`: bytes relayed (either way) on connections from a caller in another zone. */
  crossZoneBytes: number
}

/** Where a zonal listener relays connections: the service behind the zone. */
export interface Target {
  /** The service's address (loopback in the lab). */
  host: string
  /** The service's port. */
  port: number
}

interface Relay extends IdleFlow {
  client: Socket
  upstream: Socket | undefined
  /** Silent: bytes and closes in either direction wait in `held` until restore. */
  frozen: boolean
  held: (() => void)[]
  heldBytes: number
  /** Set when the lab itself closes the connection: the upstream's close must not reset it. */
  closing: boolean
  idleTimer: NodeJS.Timeout | undefined
  /** With `topology`: the caller is in another zone, and the modelled one-way delay of each chunk. */
  crossZone: boolean
  delay: ((action: () => void) => void) | undefined
}

/** What a listener needs to track idle flows: the settings, the lab clock, the kernel's view. */
export interface IdleOptions {
  settings: IdleSettings
  clock: () => number
  kernel: KernelFlowView
}

/** Past this many held bytes a frozen relay stops reading (so then a client's close goes unseen). */
const HOLD_LIMIT = 4 * 1024 * 1024

function positiveMs(mode: string, value: number | undefined, fallback: number): number {
  const ms = value ?? fallback
  if (!Number.isFinite(ms) || ms < 0)
    throw new TypeError(`fail('${mode}'): ms must be a number >= 0, got ${String(value)}`)
  return ms
}

/**
 * One service port on one zone's "ENI": relays bytes to the target like an NLB TCP listener
 * (TLS passes through untouched), with fault injection.
 */
export class ZonalListener {
  readonly host: string
  readonly port: number
  readonly stats: ListenerStats = {
    accepted: 0,
    active: 0,
    bytesIn: 0,
    bytesOut: 0,
    idleClosed: 0,
    flowsForgotten: 0,
    resetsSent: 0,
    segmentsDropped: 0,
    keepAliveSeen: 0,
    crossZoneBytes: 0,
  }
  #target: () => Target
  readonly #idle: IdleTracker
  /** Forgotten relays whose client has gone: the service's socket lives on until it speaks. */
  #orphans = new Set<Relay>()
  #server: Server | undefined
  #blackhole: Blackhole | undefined
  #mode: FaultMode | 'ok' = 'ok'
  #latencyMs = 0
  #idleMs = 0
  #relays = new Set<Relay>()
  /** Actions held by `latency`, oldest first. */
  #delayed: { due: number; action: () => void }[] = []
  #delayTimer: NodeJS.Timeout | undefined
  readonly #path: RelayPath | undefined

  private constructor(
    host: string,
    port: number,
    target: () => Target,
    idle: IdleOptions,
    path: RelayPath | undefined,
  ) {
    this.host = host
    this.port = port
    this.#target = target
    this.#path = path
    this.#idle = new IdleTracker(idle.settings, idle.clock, idle.kernel, {
      flows: () => [...this.#relays, ...this.#orphans],
      filter: () => this.#kernelFilter(),
      forget: () => {
        this.stats.flowsForgotten++
      },
      lateSegments: (flow, side, count) => this.#lateSegment(flow as Relay, side, count),
      refreshed: () => {
        this.stats.keepAliveSeen++
      },
    })
  }

  /**
   * Listens on `preferredPort`; when that cannot be bound (taken: EADDRINUSE; below 1024 without
   * root: EACCES), on `fallbackPort` if given and free, else on a port the kernel picks.
   */
  static async start(
    host: string,
    preferredPort: number,
    target: () => Target,
    idle: IdleOptions,
    fallbackPort?: number,
    path?: RelayPath,
  ): Promise<ZonalListener> {
    const candidates = [preferredPort, ...(fallbackPort === undefined ? [] : [fallbackPort]), 0]
    for (const port of candidates) {
      try {
        return await new ZonalListener(host, port, target, idle, path).#listen()
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if ((code !== 'EADDRINUSE' && code !== 'EACCES') || port === 0) throw error
      }
    }
    throw new Error('unreachable')
  }

  get mode(): FaultMode | 'ok' {
    return this.#mode
  }

  /** The path's idle timeout for this listener's flows. */
  get idleSettings(): IdleSettings {
    return this.#idle.settings
  }

  set idleSettings(settings: IdleSettings) {
    this.#idle.settings = settings
  }

  /** Forgets the flows idle for the timeout by the lab clock now (after sampling the kernel). */
  sweepIdle(): Promise<number> {
    return this.#idle.sweep()
  }

  // The relay's own side of each flow: accepted on this address and port, or dialled to a target.
  #kernelFilter(): string[] {
    const ports = new Set<number>()
    for (const relay of [...this.#relays, ...this.#orphans])
      if (relay.upstream?.remotePort !== undefined) ports.add(relay.upstream.remotePort)
    const terms = [`src`, `${this.host}:${this.port}`]
    for (const port of ports) terms.push('or', 'dport', '=', `:${port}`)
    return ['(', ...terms, ')']
  }

  // A segment of a forgotten flow from `side`: the path answers with a reset, or drops it.
  #lateSegment(relay: Relay, side: FlowSide, count = 1): void {
    if (this.#idle.settings.mode === 'drop') {
      this.stats.segmentsDropped += count
      return
    }
    const socket = side === 'client' ? relay.client : relay.upstream
    if (socket === undefined || socket.destroyed) return
    this.stats.resetsSent++
    socket.resetAndDestroy()
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
    const relay: Relay = {
      client,
      upstream: undefined,
      frozen: this.#mode === 'hang' || this.#mode === 'blackhole',
      held: [],
      heldBytes: 0,
      closing: false,
      idleTimer: undefined,
      crossZone: false,
      delay: undefined,
      ...this.#idle.start(),
    }
    const modelled = this.#path?.open()
    if (modelled !== undefined) {
      relay.crossZone = modelled.crossZone
      relay.delay = modelled.delay
    }
    relay.keys.client = flowKey(
      client.localAddress,
      client.localPort,
      client.remoteAddress,
      client.remotePort,
    )
    this.#relays.add(relay)
    // Armed once the flow is in the set: a zone's first (or only) flow must expire too.
    this.#idle.schedule()
    this.stats.active++
    // Read in every mode, frozen included: a client's FIN or RST is only seen by reading.
    client.on('data', (chunk: Buffer) => {
      this.#touch(relay)
      this.#pass(relay, chunk.length, () => {
        if (relay.forgotten) return this.#lateSegment(relay, 'client')
        this.#idle.touch(relay)
        this.stats.bytesIn += chunk.length
        this.#count(relay, chunk.length)
        this.#forward(relay, relay.upstream, chunk)
      })
    })
    client.on('end', () =>
      this.#pass(relay, 0, () => {
        if (relay.forgotten) return this.#lateSegment(relay, 'client')
        this.#idle.touch(relay)
        this.#later(() => relay.upstream?.end(), relay)
      }),
    )
    client.once('close', () => {
      this.#relays.delete(relay)
      this.stats.active--
      if (relay.idleTimer !== undefined) clearTimeout(relay.idleTimer)
      relay.keys.client = undefined
      // The path forgot the flow: the service is not told the client went away.
      if (relay.forgotten && relay.upstream !== undefined && !relay.upstream.destroyed)
        this.#orphans.add(relay)
      else relay.upstream?.destroy()
    })
    if (this.#mode === 'idle-close') this.#armIdle(relay)
    if (!relay.frozen) this.#connectUpstream(relay)
  }

  // Runs `action` now, or holds it while the relay is frozen (delivered in order on restore).
  #pass(relay: Relay, bytes: number, action: () => void): void {
    if (!relay.frozen) {
      action()
      return
    }
    relay.held.push(action)
    relay.heldBytes += bytes
    if (relay.heldBytes > HOLD_LIMIT) {
      relay.client.pause()
      relay.upstream?.pause()
    }
  }

  #connectUpstream(relay: Relay): void {
    const { client } = relay
    const target = this.#target()
    const upstream = connect({ host: target.host, port: target.port, noDelay: true })
    relay.upstream = upstream
    upstream.once('connect', () => {
      relay.keys.upstream = flowKey(
        upstream.localAddress,
        upstream.localPort,
        upstream.remoteAddress,
        upstream.remotePort,
      )
    })
    // A forgotten flow's service socket never tells the client anything: the path has no flow.
    upstream.on('error', () =>
      this.#pass(relay, 0, () => {
        if (!relay.forgotten) client.resetAndDestroy()
      }),
    )
    upstream.on('close', () => {
      this.#orphans.delete(relay)
      relay.keys.upstream = undefined
      this.#pass(relay, 0, () => {
        if (!relay.closing && !relay.forgotten) client.destroy()
      })
    })
    upstream.on('data', (chunk: Buffer) => {
      this.#touch(relay)
      this.#pass(relay, chunk.length, () => {
        if (relay.forgotten) return this.#lateSegment(relay, 'upstream')
        this.#idle.touch(relay)
        this.stats.bytesOut += chunk.length
        this.#count(relay, chunk.length)
        this.#forward(relay, client, chunk)
      })
    })
    upstream.on('end', () =>
      this.#pass(relay, 0, () => {
        if (relay.forgotten) return this.#lateSegment(relay, 'upstream')
        this.#idle.touch(relay)
        this.#later(() => client.end(), relay)
      }),
    )
  }

  #forward(relay: Relay, to: Socket | undefined, chunk: Buffer): void {
    this.#later(() => {
      if (to !== undefined && !to.destroyed) to.write(chunk)
    }, relay)
  }

  #count(relay: Relay, bytes: number): void {
    if (this.#path === undefined) return
    if (relay.crossZone) this.stats.crossZoneBytes += bytes
    this.#path.count(relay.crossZone, bytes)
  }

  // One FIFO for every delayed action, so bytes keep their order when the latency changes: a chunk
  // that arrives after restore() waits behind chunks still held by the old delay (overtaking them
  // corrupted TLS records and RESP replies).
  // With `topology`, the modelled path delay comes first (its own FIFO per delay, so a relay's
  // chunks keep their order), then the fault's.
  #later(action: () => void, relay?: Relay): void {
    if (relay?.delay !== undefined) {
      relay.delay(() => this.#later(action))
      return
    }
    const delay = this.#mode === 'latency' ? this.#latencyMs : 0
    if (delay === 0 && this.#delayed.length === 0) {
      action()
      return
    }
    this.#delayed.push({ due: performance.now() + delay, action })
    this.#scheduleDelayed()
  }

  #scheduleDelayed(): void {
    const head = this.#delayed[0]
    if (head === undefined || this.#delayTimer !== undefined) return
    this.#delayTimer = setTimeout(
      () => {
        this.#delayTimer = undefined
        const now = performance.now()
        while (this.#delayed.length > 0 && this.#delayed[0]!.due <= now + 1)
          this.#delayed.shift()!.action()
        this.#scheduleDelayed()
      },
      Math.max(0, head.due - performance.now()),
    )
  }

  #touch(relay: Relay): void {
    relay.idleTimer?.refresh()
  }

  #armIdle(relay: Relay): void {
    relay.idleTimer = setTimeout(() => {
      relay.idleTimer = undefined
      relay.closing = true
      this.stats.idleClosed++
      // A FIN to the client, as a server ends an idle keep-alive connection; the client's own
      // close then ends the relay.
      relay.client.end()
      relay.upstream?.end()
    }, this.#idleMs)
  }

  #freeze(): void {
    for (const relay of this.#relays) relay.frozen = true
  }

  async fail(mode: FaultMode, options: FaultOptions = {}): Promise<void> {
    const latencyMs = mode === 'latency' ? positiveMs(mode, options.ms, 100) : 0
    const idleMs = mode === 'idle-close' ? positiveMs(mode, options.ms, 1000) : 0
    await this.restore()
    this.#mode = mode
    switch (mode) {
      case 'refuse':
        this.#stopListening()
        break
      case 'blackhole':
      case 'blackhole-new': {
        if (mode === 'blackhole') this.#freeze()
        const blackhole = await prepareBlackhole(this.host, this.port)
        this.#blackhole = blackhole
        this.#stopListening()
        try {
          await blackhole.engage()
        } catch (error) {
          await this.restore()
          throw Object.assign(
            new Error(`lab: blackhole on ${this.host}:${this.port} failed: ${String(error)}`),
            { cause: error },
          )
        }
        break
      }
      case 'hang':
        this.#freeze()
        break
      case 'reset':
        for (const relay of this.#relays) {
          relay.client.resetAndDestroy()
          relay.upstream?.destroy()
        }
        for (const relay of this.#orphans) relay.upstream?.destroy()
        break
      case 'latency':
        this.#latencyMs = latencyMs
        break
      case 'idle-close':
        this.#idleMs = idleMs
        for (const relay of this.#relays) this.#armIdle(relay)
        break
    }
  }

  /**
   * Ends the fault: frozen relays deliver what they held, and the listener is back on the same
   * port. A port released for `refuse` or `blackhole` can only be lost to a process that binds the
   * wildcard address on it meanwhile (no other lab uses this block); then this rejects, naming it.
   */
  async restore(): Promise<void> {
    const previous = this.#mode
    this.#mode = 'ok'
    this.#latencyMs = 0
    for (const relay of this.#relays) {
      if (relay.idleTimer !== undefined) clearTimeout(relay.idleTimer)
      relay.idleTimer = undefined
      if (!relay.frozen) continue
      relay.frozen = false
      if (relay.upstream === undefined && !relay.client.destroyed) this.#connectUpstream(relay)
      for (const action of relay.held.splice(0)) action()
      relay.heldBytes = 0
      relay.client.resume()
      relay.upstream?.resume()
    }
    if (this.#blackhole !== undefined) {
      await this.#blackhole.stop()
      this.#blackhole = undefined
    }
    if (this.#server === undefined && previous !== 'ok') {
      try {
        await this.#listen()
      } catch (error) {
        throw Object.assign(
          new Error(
            `lab: cannot listen on ${this.host}:${this.port} again after '${previous}': ${(error as Error).message} (another process bound it meanwhile, e.g. on 0.0.0.0:${this.port})`,
          ),
          { cause: error },
        )
      }
    }
  }

  async close(): Promise<void> {
    this.#idle.close()
    for (const relay of this.#orphans) relay.upstream?.destroy()
    this.#orphans.clear()
    if (this.#blackhole !== undefined) await this.#blackhole.stop()
    this.#blackhole = undefined
    if (this.#delayTimer !== undefined) clearTimeout(this.#delayTimer)
    this.#delayTimer = undefined
    this.#delayed = []
    for (const relay of this.#relays) {
      if (relay.idleTimer !== undefined) clearTimeout(relay.idleTimer)
      relay.client.destroy()
      relay.upstream?.destroy()
    }
    const server = this.#server
    this.#server = undefined
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
