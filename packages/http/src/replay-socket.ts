import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import type { Connector, Retirement, SocketWatch } from '@privatelink/core'
import { connectionLostError, zoneEjectedError } from './errors.js'

/** What a ReplaySocket needs from its agent. */
export interface ReplayContext {
  connector: Connector
  /** Opens a socket to the same origin, this zone first when given. */
  open(preferZone: string | undefined): Promise<Socket>
  /** Methods whose request may be sent again once written (idempotent). */
  methods: ReadonlySet<string>
  /** Times one request may be sent again. */
  maxRetries: number
  /** A request larger than this is not kept for a replay. */
  maxBufferedBytes: number
  /** A request started on this socket (the stall watch starts). */
  started(): void
}

/** The request on the socket now, from its first written byte to Node's 'free'. */
interface InFlight {
  method: string
  /** The request's path without its query (the query may carry presigned parts). */
  path: string
  idempotent: boolean
  /** Every byte sent so far, while the request may be replayed. */
  replay: Buffer[] | undefined
  sent: number
  /** Response bytes received: after the first, the response is the caller's and never replayed. */
  received: number
  tried: Set<string>
  retries: number
}

const head = (chunk: Buffer): { method: string; path: string } => {
  const line = chunk.toString('latin1', 0, Math.min(chunk.length, 4096))
  const [method = '', target = ''] = line.slice(0, line.indexOf('\r\n')).split(' ')
  return { method, path: target.split('?')[0] ?? '' }
}

/**
 * The socket an Agent hands to Node's http client: a Duplex over the connector's socket that can
 * move to another one mid-request. Node's ClientRequest never retries (a reused socket that dies
 * only sets `req.reusedSocket` for the caller to decide), so a zone that dies under keep-alive
 * traffic would fail every request on it. Here a request that received no response byte yet is
 * sent again on a socket in a zone it has not tried, when its method is idempotent or nothing of
 * it was sent: the ejection of its zone (core's `retire`) and a socket the peer closed both lead
 * there. A request that cannot be replayed fails with ERR_CONNECTION_LOST.
 */
export class ReplaySocket extends Duplex {
  readonly #context: ReplayContext
  #inner: Socket | undefined
  #watch: SocketWatch | undefined
  #request: InFlight | undefined
  /** Writes that arrived while no socket was open (a replay connecting). */
  #held: { chunk: Buffer; callback: (error?: Error | null) => void }[] = []
  #drain: (() => void) | undefined
  /** Leave once the request in flight is done (its zone is retired, not out). */
  #draining = false
  #ended = false
  #error: Error | undefined
  #timeoutMs = 0
  #refed = true
  #keepAlive: [boolean, number] | undefined
  /** The stall watch's samples. */
  seenBytes = 0
  quietTicks = 0

  constructor(context: ReplayContext, socket: Socket) {
    super({ allowHalfOpen: false })
    this.#context = context
    this.#attach(socket)
    // Node's http client emits 'free' on its socket once a request and its response are done.
    this.on('free', () => this.#free())
  }

  /** The socket carrying the bytes now. */
  get socket(): Socket | undefined {
    return this.#inner
  }

  /** 1 while a request is on it (the stall watch's view). */
  get running(): number {
    return this.#request === undefined ? 0 : 1
  }

  /** The zone key of the socket carrying the bytes now. */
  get zone(): string | undefined {
    return this.#watch?.zone
  }

  #attach(socket: Socket): void {
    // Watched before our listeners are added: core hears a close before we react to it.
    this.#watch = this.#context.connector.watch(socket, {
      busy: () => this.#request !== undefined,
      retire: (retirement) => this.#retire(retirement),
    })
    this.#inner = socket
    socket.on('data', (chunk: Buffer) => {
      if (socket !== this.#inner) return
      const request = this.#request
      if (request !== undefined) {
        request.received += chunk.length
        request.replay = undefined
      }
      if (!this.push(chunk)) socket.pause()
    })
    socket.on('end', () => {
      if (socket !== this.#inner) return
      // No answer yet: the close decides (replay or fail). Else the peer's end is the caller's.
      if (this.#request !== undefined && this.#request.received === 0) return
      this.#ended = true
      this.push(null)
    })
    socket.on('error', (error: Error) => {
      if (socket === this.#inner) this.#error ??= error
    })
    socket.on('close', () => {
      if (socket === this.#inner) this.#closed()
    })
    socket.on('drain', () => {
      const drain = this.#drain
      this.#drain = undefined
      drain?.()
    })
    socket.on('timeout', () => {
      if (socket === this.#inner) this.emit('timeout')
    })
    if (this.#timeoutMs > 0) socket.setTimeout(this.#timeoutMs)
    if (this.#keepAlive !== undefined) socket.setKeepAlive(...this.#keepAlive)
    if (!this.#refed) socket.unref()
    socket.setNoDelay(true)
  }

  override _read(): void {
    this.#inner?.resume()
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    if (this.#request === undefined) this.#start(chunk)
    const inner = this.#inner
    if (inner === undefined) {
      this.#held.push({ chunk, callback })
      return
    }
    this.#send(chunk)
    if (inner.write(chunk)) callback()
    else this.#drain = () => callback()
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#inner?.end()
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Whatever ends us ends its socket: a close we cause says nothing about the zone.
    this.#watch?.release()
    this.#inner?.destroy()
    this.#inner = undefined
    for (const held of this.#held.splice(0)) held.callback(error)
    callback(error)
  }

  #start(chunk: Buffer): void {
    const { method, path } = head(chunk)
    const idempotent = this.#context.methods.has(method.toUpperCase())
    const zone = this.zone
    this.#request = {
      method,
      path,
      idempotent,
      replay: idempotent ? [] : undefined,
      sent: 0,
      received: 0,
      tried: new Set(zone === undefined ? [] : [zone]),
      retries: 0,
    }
    this.#context.started()
    const inner = this.#inner
    // Its socket ended between requests and the close is still on its way: nothing was sent yet,
    // so any method may go on a new one.
    if (inner !== undefined && (inner.destroyed || inner.readableEnded)) this.#move(inner)
  }

  /** Counts a chunk going out and keeps it while the request may be replayed. */
  #send(chunk: Buffer): void {
    const request = this.#request as InFlight
    request.sent += chunk.length
    if (request.replay === undefined) return
    if (request.sent > this.#context.maxBufferedBytes) request.replay = undefined
    else request.replay.push(chunk)
  }

  /** The request may go out again: nothing of it sent, or idempotent, unanswered and kept. */
  #replayable(request: InFlight): boolean {
    if (request.received > 0) return false
    if (request.sent === 0) return true
    return request.replay !== undefined && request.retries < this.#context.maxRetries
  }

  #closed(): void {
    this.#inner = undefined
    if (this.destroyed) return
    const request = this.#request
    if (request === undefined) {
      this.destroy()
      return
    }
    if (this.#replayable(request)) {
      this.#reconnect(request)
      return
    }
    if (request.received > 0) {
      // The response was under way: Node's client sees the end, and calls a cut response
      // 'aborted' itself (a complete one waiting for 'free' is not an error).
      if (!this.#ended) this.destroy()
      return
    }
    this.#fail(
      request,
      this.#error ?? Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    )
  }

  #fail(request: InFlight, cause: Error): void {
    const { method, path, retries, idempotent } = request
    this.destroy(connectionLostError({ method, target: path, retries, idempotent }, cause))
  }

  #retire(retirement: Retirement): void {
    const request = this.#request
    if (request === undefined) {
      this.destroy()
      return
    }
    if (!retirement.out) {
      this.#draining = true
      return
    }
    const inner = this.#inner
    // A replay is connecting already: this was the socket it left.
    if (inner === undefined) return
    if (this.#replayable(request)) this.#move(inner)
    // An answer under way (or complete, 'free' pending) is cut as Node cuts it: 'aborted'.
    else if (request.received > 0) this.destroy()
    else this.#fail(request, zoneEjectedError(retirement.zone))
  }

  /** Leaves `inner` (ours to close) and sends the request on a new socket. */
  #move(inner: Socket): void {
    this.#watch?.release()
    this.#inner = undefined
    inner.destroy()
    this.#reconnect(this.#request as InFlight)
  }

  #reconnect(request: InFlight): void {
    const zone = this.#watch?.zone
    if (zone !== undefined) request.tried.add(zone)
    this.#watch = undefined
    if (request.sent > 0) request.retries += 1
    const { connector } = this.#context
    const untried = connector
      .preferredZones()
      .map((candidate) => connector.zoneKey(candidate))
      .find((key) => !request.tried.has(key))
    this.#context.open(untried).then(
      (socket) => {
        if (this.destroyed || this.#request !== request) {
          socket.destroy()
          return
        }
        this.#attach(socket)
        for (const chunk of request.replay ?? []) socket.write(chunk)
        const drain = this.#drain
        this.#drain = undefined
        drain?.()
        for (const held of this.#held.splice(0)) {
          this.#send(held.chunk)
          socket.write(held.chunk)
          held.callback()
        }
      },
      (error: Error) => {
        if (!this.destroyed) this.destroy(error)
      },
    )
  }

  #free(): void {
    this.#request = undefined
    if (this.#draining) this.destroy()
  }

  // The net.Socket surface Node's http client and agents use, passed to the socket under it.

  /** Idle timeout of the socket under it, kept across a move. */
  get timeout(): number {
    return this.#timeoutMs
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.#timeoutMs = ms
    // As net.Socket: 0 takes the callback off again.
    if (callback !== undefined) {
      if (ms === 0) this.removeListener('timeout', callback)
      else this.once('timeout', callback)
    }
    this.#inner?.setTimeout(ms)
    return this
  }

  setKeepAlive(enable = false, initialDelay = 0): this {
    this.#keepAlive = [enable, initialDelay]
    this.#inner?.setKeepAlive(enable, initialDelay)
    return this
  }

  setNoDelay(noDelay = true): this {
    this.#inner?.setNoDelay(noDelay)
    return this
  }

  ref(): this {
    this.#refed = true
    this.#inner?.ref()
    return this
  }

  unref(): this {
    this.#refed = false
    this.#inner?.unref()
    return this
  }

  destroySoon(): void {
    this.end()
  }

  get connecting(): boolean {
    return false
  }

  get encrypted(): boolean {
    return (this.#inner as { encrypted?: boolean } | undefined)?.encrypted === true
  }

  get remoteAddress(): string | undefined {
    return this.#inner?.remoteAddress
  }

  get remotePort(): number | undefined {
    return this.#inner?.remotePort
  }

  get remoteFamily(): string | undefined {
    return this.#inner?.remoteFamily
  }

  get localAddress(): string | undefined {
    return this.#inner?.localAddress
  }

  get localPort(): number | undefined {
    return this.#inner?.localPort
  }

  address(): ReturnType<Socket['address']> | Record<string, never> {
    return this.#inner?.address() ?? {}
  }

  get bytesRead(): number {
    return this.#inner?.bytesRead ?? 0
  }

  get bytesWritten(): number {
    return this.#inner?.bytesWritten ?? 0
  }

  get authorized(): boolean {
    return (this.#inner as { authorized?: boolean } | undefined)?.authorized === true
  }

  get alpnProtocol(): string | false | undefined {
    return (this.#inner as { alpnProtocol?: string | false } | undefined)?.alpnProtocol
  }

  /** The TLS socket's certificate (an empty object on a plaintext one). */
  getPeerCertificate(detailed?: boolean): object {
    const inner = this.#inner as { getPeerCertificate?: (detailed?: boolean) => object } | undefined
    return inner?.getPeerCertificate?.(detailed) ?? {}
  }
}
