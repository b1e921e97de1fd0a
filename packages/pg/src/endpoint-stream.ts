import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import type { Connector, Retirement, SocketWatch, UpgradeContext } from '@privatelink/core'
import { type CaSource, connectionLostError, idleClosedError, pathIdleLostError } from './errors.js'
import { sslRequestTls } from './ssl-request-tls.js'

export interface StreamTls {
  servername: string
  ca?: string | string[] | undefined
  /** true: no certificate check; 'plaintext': no TLS at all. */
  insecure: boolean | 'plaintext'
  /** Where the trusted CAs come from, for the hint of an untrusted certificate. @default 'roots' */
  caSource?: CaSource
}

export interface EndpointStreamContext {
  connector: () => Connector | Promise<Connector>
  tls: StreamTls
  /** SSLRequest answer plus TLS handshake, after TCP. */
  handshakeTimeoutMs: number
  /**
   * With failover targets: the TLS to use once the socket's target is known (each target's
   * proxy has its own name). @default `tls`
   */
  tlsFor?: (target: number) => StreamTls
}

/** How the stream's connection leaves a zone core retires; none: it is only reported. */
export type RetireSocket = (retirement: Retirement) => void

/**
 * What pg's `stream` option returns: a socket-like Duplex whose `connect(port, host)` dials
 * through core's connector (own zone first, failover) and then speaks PostgreSQL's SSLRequest
 * and TLS itself, verifying the certificate against the proxy name. pg sees a plain stream
 * (ssl off), so TLS runs natively on the TCP socket: handing this Duplex to tls.connect would
 * go through Node's JS stream wrapper, measured at +15-25% CPU per query.
 *
 * Once connected, bytes pass straight between pg and the socket (`write`, `cork`, 'data'), not
 * through the Duplex's buffers: pg neither pauses nor waits for 'drain', and its corked Parse /
 * Bind / Execute then reach the socket as one write.
 */
export class EndpointStream extends Duplex {
  /** The zone key of the connection, once connected. */
  zone: string | undefined
  /** The connector target (priority group) the connection landed in, once connected. */
  target: number | undefined
  readonly #context: EndpointStreamContext
  readonly #retire: RetireSocket | undefined
  #watch: SocketWatch | undefined
  #socket: Socket | TLSSocket | undefined
  #abort = new AbortController()
  /** A request was written and its answer has not ended (ReadyForQuery): a death now loses it. */
  #outstanding = false
  /** When the current request's last progress was seen (performance.now): a write or a read. */
  #progressAt = 0
  /** The last bytes received, to spot a ReadyForQuery split across chunks. */
  #tail: Buffer = Buffer.alloc(0)
  /** pg sent Terminate: the server closing now is the goodbye, not a failure. */
  #terminating = false
  /** The socket died on its own (#lost): core reports its close. */
  #died = false
  /** The socket emitted 'close' (core's listener, attached first, has run). */
  #socketClosed = false
  #unref = false
  /** The path's idle timeout the connector assumes. */
  #pathIdleTimeoutMs = 350_000

  constructor(context: EndpointStreamContext, retire?: RetireSocket) {
    super({ allowHalfOpen: false, decodeStrings: true })
    this.#context = context
    this.#retire = retire
  }

  connect(port: number, _host?: string): this {
    this.#open(port).then(
      (socket) => {
        if (this.destroyed) {
          this.#watch?.release()
          socket.destroy()
          return
        }
        this.#adopt(socket)
        this.emit('connect')
      },
      (error: unknown) => {
        if (!this.destroyed) this.destroy(error as Error)
      },
    )
    return this
  }

  /**
   * A connection from the connector: TCP, then SSLRequest and TLS as the connector's `upgrade`,
   * so the handshake is treated as a TLS handshake is there. A zone still silent after the hedge
   * delay (100-1000 ms) is hedged in another zone rather than costing handshakeTimeoutMs; a failed
   * handshake counts against its zone and the same connect tries the next one; the zone succeeds
   * only once the handshake completes, so a zone that accepts TCP and never answers is ejected
   * after a few connects. A new connection fails only once every zone did, with a typed error.
   */
  async #open(port: number): Promise<Socket | TLSSocket> {
    const connector = await this.#context.connector()
    const plaintext = this.#context.tls.insecure === 'plaintext'
    // A hedge runs two handshakes at once, maybe on two targets: each verifies the proxy name of
    // the target its own socket reached, never the stream's.
    const upgrade = (raw: Socket, { target, signal }: UpgradeContext) => {
      const { servername, ca, insecure, caSource } = this.#tlsOf(target.index)
      return sslRequestTls(
        raw,
        { servername, ca, insecure: insecure === true, caSource },
        { signal, timeoutMs: this.#context.handshakeTimeoutMs },
      )
    }
    const socket = await connector.connect({
      port,
      tls: false,
      signal: this.#abort.signal,
      ...(plaintext ? {} : { upgrade }),
    })
    // Core follows the socket from here: its zone, how its end is reported (a request
    // outstanding: lost-in-flight, else idle-close), and when its zone is retired. Watched before
    // pg's listeners exist, so core's 'close' sees the request the dying socket carried.
    const watch = connector.watch(socket as Socket, {
      busy: () => this.#outstanding,
      ...(this.#retire === undefined ? {} : { retire: this.#retire }),
    })
    this.#watch = watch
    // (A Connector from an older @privatelink/core has neither: AWS's timeout, nothing stale.)
    this.#pathIdleTimeoutMs = connector.pathIdleTimeoutMs ?? this.#pathIdleTimeoutMs
    this.zone = watch.zone
    this.target = watch.target.index
    return socket
  }

  /** The TLS of the target the socket reached (its proxy's name), or the one given. */
  #tlsOf(target: number | undefined): StreamTls {
    const { tlsFor, tls } = this.#context
    return tlsFor !== undefined && target !== undefined ? tlsFor(target) : tls
  }

  /** The proxy name this connection verified (its target's). */
  get servername(): string {
    return this.#tlsOf(this.target).servername
  }

  #adopt(socket: Socket | TLSSocket): void {
    this.#socket = socket
    if (this.#unref) socket.unref()
    socket.on('data', (chunk: Buffer) => {
      this.#progressAt = performance.now()
      if (this.#outstanding && this.#answered(chunk)) this.#outstanding = false
      // Straight to pg's parser, as a net.Socket would: nothing is buffered, so nothing to pause.
      this.emit('data', chunk)
    })
    socket.on('end', () => {
      if (this.#terminating) this.push(null)
      else this.#lost(undefined, 'closed by the server')
    })
    socket.on('error', (error) =>
      this.#lost(error, (error as { code?: string }).code ?? error.message),
    )
    socket.on('close', () => {
      this.#socketClosed = true
      if (this.#terminating) this.destroy()
      else this.#lost(undefined, 'closed')
    })
    if (socket.isPaused()) socket.resume()
  }

  /**
   * The connection died on its own: fail pg's stream with a typed error. Core reports the zone on
   * the socket's 'close' (lost-in-flight with a request outstanding, else the benign idle-close),
   * and its listener runs before this one's: the caller gets the error with zone health told.
   */
  #lost(error: Error | undefined, why: string): void {
    if (this.destroyed || this.#died) return
    this.#died = true
    const proxyHost = this.servername
    const typed = this.#outstanding
      ? connectionLostError(proxyHost, this.zone, error, why)
      : idleClosedError(proxyHost, this.zone, why)
    const socket = this.#socket
    if (socket === undefined || this.#socketClosed) {
      this.destroy(typed)
      return
    }
    // (A socket's `closed` turns true before its 'close' is emitted: our own flag says when.)
    socket.once('close', () => this.destroy(typed))
    socket.destroy()
  }

  /** Whether the bytes so far end with ReadyForQuery ('Z', length 5, status): the answer is complete. */
  #answered(chunk: Buffer): boolean {
    // A long chunk is kept as it is (no copy on the hot path); a short one is joined to the last.
    const end = chunk.length >= 6 ? chunk : Buffer.concat([this.#tail, chunk]).subarray(-6)
    this.#tail = end
    const at = end.length - 6
    return at >= 0 && end[at] === 0x5a && end.readInt32BE(at + 1) === 5
  }

  /** We close the connection ourselves: core neither reports nor retires it any more. */
  release(): void {
    this.#watch?.release()
  }

  /** How far core's retirement of this connection went: undefined while in rotation. */
  get leaving(): 'drain' | 'out' | undefined {
    return this.#watch?.leaving
  }

  /** Closes the connection with `error` (zone ejected while a query ran); not reported. */
  abandon(error: Error): void {
    if (!this.destroyed) this.destroy(error)
  }

  /**
   * The path may have forgotten this idle connection (core's `stale()`: idle past the path's
   * timeout without keep-alive, or across a freeze): a pool replaces it before use.
   */
  stale(): boolean {
    return this.#watch?.stale?.() ?? false
  }

  /** Whether a request is waiting for its answer. */
  get outstanding(): boolean {
    return this.#outstanding
  }

  /** How long a waiting request has gone without a byte (ms); 0 when nothing waits. */
  stalledFor(): number {
    return this.#outstanding ? performance.now() - this.#progressAt : 0
  }

  /** Marks a request outstanding, or pg's Terminate ('X', length 4), which expects no answer. */
  #sending(chunk: Buffer): void {
    if (chunk.length === 5 && chunk[0] === 0x58) {
      this.#terminating = true
      this.#watch?.release()
    } else if (!this.#outstanding) {
      this.#progressAt = performance.now()
      this.#outstanding = true
      // A request on a connection the path may have forgotten would get a reset, or hang where
      // the path drops silently: it fails now, typed, and nothing is sent. (A pool never gets
      // here with one: it replaces them at checkout.)
      if (this.#watch?.stale?.() === true) {
        this.#watch.release()
        this.destroy(pathIdleLostError(this.servername, this.zone, this.#pathIdleTimeoutMs))
      }
    }
  }

  // pg's writes go to the socket as they come (a net.Socket's own buffering, no second one here).
  // A failed write surfaces as the socket's 'error', which ends the stream through #lost with the
  // typed error pg's caller gets.
  override write(
    chunk: unknown,
    encoding?: BufferEncoding | ((error?: Error | null) => void),
    callback?: (error?: Error | null) => void,
  ): boolean {
    const socket = this.#socket
    if (socket === undefined || this.destroyed || this.writableEnded || !Buffer.isBuffer(chunk))
      return super.write(chunk, encoding as BufferEncoding, callback)
    this.#sending(chunk)
    if (this.destroyed) return false
    return typeof encoding === 'function'
      ? socket.write(chunk, encoding)
      : socket.write(chunk, callback)
  }

  override cork(): void {
    if (this.#socket === undefined) super.cork()
    else this.#socket.cork()
  }

  override uncork(): void {
    if (this.#socket === undefined) super.uncork()
    else this.#socket.uncork()
  }

  override _read(): void {
    this.#socket?.resume()
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    const socket = this.#socket
    if (socket === undefined) {
      callback(new Error('write before connect'))
      return
    }
    this.#sending(chunk)
    socket.write(chunk, (error) => {
      if (error) this.#lost(error, (error as { code?: string }).code ?? error.message)
      callback()
    })
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#outstanding = false
    this.#terminating = true
    this.#watch?.release()
    if (this.#socket === undefined) callback()
    else this.#socket.end(callback)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Destroyed by pg, the pool or us (not a death of the socket's own): not the zone's doing.
    if (!this.#died) this.#watch?.release()
    this.#abort.abort(error ?? new Error('stream destroyed'))
    this.#socket?.destroy()
    callback(error)
  }

  setNoDelay(_noDelay?: boolean): this {
    // The connector's sockets already have Nagle off.
    return this
  }

  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.#socket?.setKeepAlive(enable, initialDelay)
    return this
  }

  ref(): this {
    this.#unref = false
    this.#socket?.ref()
    return this
  }

  unref(): this {
    this.#unref = true
    this.#socket?.unref()
    return this
  }
}
