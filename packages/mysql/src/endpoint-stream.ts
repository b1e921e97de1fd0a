import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import type { Connector, Retirement, SocketWatch } from '@privatelink/core'
import { connectionLostError, idleClosedError } from './errors.js'
import { awaitGreeting } from './greeting.js'
import { SequenceShift, type StreamTls, secureHandshake, shiftedUp } from './tls-handshake.js'

/** What every stream of one pool (or connection) shares: where to dial and how. */
export interface StreamContext {
  connector: () => Connector | Promise<Connector>
  /** The proxy's port (the NLB listener's). */
  port: number
  /** The proxy name: what mysql2 verifies the certificate against, and what errors name. */
  proxyHost: string
  /** Refuse a server whose greeting offers no TLS (false only with ssl.insecure 'plaintext'). */
  requireTls: boolean
  /** The greeting's deadline after TCP connects, per attempt. */
  handshakeTimeoutMs: number
  /** TLS to the proxy, done natively by the stream; undefined: plaintext (ssl.insecure 'plaintext'). */
  tls: StreamTls | undefined
  /** Runs before dialling (a Secrets Manager password read into the connection's config). */
  prepare?: (config: Record<string, unknown>) => Promise<void>
}

/** How long a request waits without a byte back before its zone is checked. */
const STALL_MS = 2_000

/** How the stream's connection leaves a zone core retires; none: it is only reported. */
export type RetireStream = (stream: EndpointStream, retirement: Retirement) => void

/**
 * What mysql2's `stream` option returns: a socket-like Duplex that dials through core's connector
 * (own zone first, failover, guard) as soon as mysql2 creates it, waits for the server's greeting
 * as the connect's upgrade step, then passes bytes straight between mysql2 and the socket. mysql2
 * is configured without `ssl`: at its first packet the stream does MySQL's SSLRequest and a native
 * TLS handshake verified against the proxy's name (tls-handshake.ts), then carries on over TLS.
 */
export class EndpointStream extends Duplex {
  /** The zone key of the connection, once connected. */
  zone: string | undefined
  /** The server's connection ID from its greeting: mysql2's `threadId`. */
  connectionId: number | undefined
  /** Checked out of its pool (from mysql2's 'acquire' / 'release'), for `busy`. */
  checkedOut = false
  readonly #context: StreamContext
  readonly #retire: RetireStream | undefined
  #watch: SocketWatch | undefined
  #connector: Connector | undefined
  /** Fires when a request has waited STALL_MS without a byte back. */
  #stallTimer: NodeJS.Timeout | undefined
  #socket: Socket | undefined
  readonly #abort = new AbortController()
  /** Bytes were written and nothing came back since: a death now loses a request. */
  #outstanding = false
  /** We end it (mysql2's quit, the pool's destroy): the server's close is the goodbye. */
  #ending = false
  #died = false
  #socketClosed = false
  /** response: mysql2's first packet starts TLS; tls: handshaking; auth: sequence IDs shifted; open. */
  #phase: 'response' | 'tls' | 'auth' | 'open'
  readonly #shift = new SequenceShift()
  /** Our listeners on the current socket, taken off the TCP socket when TLS takes it over. */
  #detach: () => void = () => {}

  constructor(context: StreamContext, config: Record<string, unknown>, retire?: RetireStream) {
    super({ allowHalfOpen: false })
    this.#context = context
    this.#retire = retire
    this.#phase = context.tls === undefined ? 'open' : 'response'
    this.#open(config).then(
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
  }

  async #open(config: Record<string, unknown>): Promise<Socket> {
    const context = this.#context
    await context.prepare?.(config)
    const connector = await context.connector()
    this.#connector = connector
    const socket = await connector.connect({
      port: context.port,
      tls: false,
      signal: this.#abort.signal,
      upgrade: async (raw, { signal }) => {
        const { greeting } = await awaitGreeting(raw, {
          servername: context.proxyHost,
          requireTls: context.requireTls,
          timeoutMs: context.handshakeTimeoutMs,
          signal,
        })
        this.connectionId = greeting.connectionId
        return raw
      },
    })
    // Core follows the socket from here: its zone, what its close means, when it must leave.
    const retire = this.#retire
    this.#watch = connector.watch(socket as Socket, {
      busy: () => this.busy,
      ...(retire === undefined ? {} : { retire: (retirement) => retire(this, retirement) }),
    })
    this.zone = this.#watch.zone
    return socket as Socket
  }

  /** Work a close would lose: a request unanswered, or a connection checked out of the pool. */
  get busy(): boolean {
    return this.#outstanding || this.checkedOut
  }

  /**
   * The path may have forgotten this idle connection (core's `stale()`: idle past the path's
   * timeout without keep-alive, or across a freeze): a pool replaces it before use.
   */
  stale(): boolean {
    return this.#watch?.stale?.() ?? false
  }

  /** A request is waiting for its first answer bytes. */
  get outstanding(): boolean {
    return this.#outstanding
  }

  /** How far core's retirement went: undefined while in rotation. */
  get leaving(): 'drain' | 'out' | undefined {
    return this.#watch?.leaving
  }

  /** Whether the connection is TLS now (what the cleartext plugin checks before it sends). */
  get encrypted(): boolean {
    return (this.#socket as { encrypted?: unknown } | undefined)?.encrypted === true
  }

  #adopt(socket: Socket): void {
    this.#socket = socket
    const onData = (chunk: Buffer) => {
      this.#outstanding = false
      clearTimeout(this.#stallTimer)
      const bytes = this.#phase === 'auth' ? this.#shift.fromServer(chunk) : chunk
      if (this.#shift.done && this.#phase === 'auth') this.#phase = 'open'
      // Straight to mysql2's parser, as a net.Socket would.
      if (bytes.length > 0) this.emit('data', bytes)
    }
    const onEnd = () => {
      if (this.#ending) this.push(null)
      else this.#lost(undefined, 'closed by the server')
    }
    const onError = (error: Error) => {
      // After mysql2's COM_QUIT the server hangs up, sometimes with a reset: that is the goodbye.
      if (this.#ending) this.destroy()
      else this.#lost(error, (error as { code?: string }).code ?? error.message)
    }
    const onClose = () => {
      this.#socketClosed = true
      if (this.#ending) this.destroy()
      else this.#lost(undefined, 'closed')
    }
    socket.on('data', onData)
    socket.on('end', onEnd)
    socket.on('error', onError)
    socket.on('close', onClose)
    this.#detach = () => {
      socket.off('data', onData)
      socket.off('end', onEnd)
      socket.off('error', onError)
      socket.off('close', onClose)
    }
    socket.resume()
  }

  /** mysql2's HandshakeResponse: SSLRequest and native TLS first, then the response over TLS. */
  #upgrade(response: Buffer, tls: StreamTls): void {
    const socket = this.#socket!
    this.#phase = 'tls'
    this.#detach()
    secureHandshake(socket, response, tls).then(
      (secure) => {
        if (this.destroyed) {
          secure.destroy()
          return
        }
        this.#phase = 'auth'
        this.#adopt(secure)
      },
      // A certificate or name that does not match is the configuration's, not the zone's.
      (error: Error) => this.abandon(error),
    )
  }

  /**
   * A request waiting STALL_MS without a byte back may be a slow query, or a zone gone silent
   * (a hung proxy accepts TCP, so only traffic finds it): core checks every zone now, past TCP
   * (the greeting; TLS where used). Its zone ejected: the request fails typed instead of hanging
   * forever; otherwise it waits on, checked again each STALL_MS.
   */
  #armStall(): void {
    clearTimeout(this.#stallTimer)
    this.#stallTimer = setTimeout(() => {
      const connector = this.#connector
      if (!this.#outstanding || this.destroyed || connector === undefined) return
      connector.probe().then(
        () => {
          if (!this.#outstanding || this.destroyed) return
          const zone = connector.zones().find((z) => z.zone === this.zone)
          if (zone?.ejected !== true) {
            this.#armStall()
            return
          }
          const cause = new Error(
            `no answer for ${STALL_MS} ms and zone ${this.zone} failed its health check`,
          )
          this.#lost(Object.assign(cause, { code: 'ETIMEDOUT' }), 'the zone stopped answering')
        },
        () => this.#armStall(),
      )
    }, STALL_MS)
    this.#stallTimer.unref()
  }

  /** The connection died on its own: ends the stream with a typed error (core told the zone). */
  #lost(error: Error | undefined, why: string): void {
    if (this.destroyed || this.#died) return
    this.#died = true
    const typed = this.busy
      ? connectionLostError(this.#context.proxyHost, this.zone, error, why)
      : idleClosedError(this.#context.proxyHost, this.zone, why)
    const socket = this.#socket
    if (socket === undefined || this.#socketClosed) {
      this.destroy(typed)
      return
    }
    socket.once('close', () => this.destroy(typed))
    socket.destroy()
  }

  /**
   * mysql2 is about to end the connection (COM_QUIT, which gets no answer): the server's close
   * that follows is the goodbye, neither a lost request nor a zone's failure. Under TLS the stream
   * cannot read the command, so the pool and the connection say it (see create-pool.ts).
   */
  quit(): void {
    this.#ending = true
    this.#outstanding = false
    this.release()
  }

  /** We close it ourselves: core neither reports nor retires it any more. */
  release(): void {
    this.#watch?.release()
  }

  /** Closes the connection with `error` (its zone is out while a request waits); not reported. */
  abandon(error: Error): void {
    this.release()
    if (!this.destroyed) this.destroy(error)
  }

  override write(
    chunk: unknown,
    encoding?: BufferEncoding | ((error?: Error | null) => void),
    callback?: (error?: Error | null) => void,
  ): boolean {
    const socket = this.#socket
    if (socket === undefined || this.destroyed || this.writableEnded || !Buffer.isBuffer(chunk))
      return super.write(chunk, encoding as BufferEncoding, callback)
    // A request on a connection the path may have forgotten would meet a reset, or hang where the
    // path drops silently: it fails now, typed, and nothing is sent. (A pool replaces them at
    // checkout; this is the held connection's case.)
    if (!this.#outstanding && !this.#ending && this.stale()) {
      this.release()
      this.destroy(
        connectionLostError(
          this.#context.proxyHost,
          this.zone,
          undefined,
          "idle past the network path's idle timeout (connectorOptions.pathIdleTimeoutMs) without keep-alive: the path has forgotten it, nothing was sent",
        ),
      )
      return false
    }
    if (!this.#outstanding) this.#armStall()
    this.#outstanding = true
    const done = typeof encoding === 'function' ? encoding : callback
    if (this.#phase === 'response' && this.#context.tls !== undefined) {
      this.#upgrade(chunk, this.#context.tls)
      done?.()
      return true
    }
    if (this.#phase === 'auth') return socket.write(shiftedUp(chunk), done)
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
      callback(new Error('write before the connection to the endpoint is open'))
      return
    }
    this.#outstanding = true
    socket.write(chunk, () => callback())
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#ending = true
    this.#outstanding = false
    this.release()
    if (this.#socket === undefined) callback()
    else this.#socket.end(callback)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.#stallTimer)
    // Destroyed by mysql2, the pool or us (not a death of the socket's own): not the zone's doing.
    if (!this.#died) this.release()
    this.#abort.abort(error ?? new Error('stream destroyed'))
    this.#socket?.destroy()
    // Destroyed without an error: by mysql2, or by the TLS socket mysql2 wrapped around us when its
    // handshake failed. Our 'close' then waits a turn, so mysql2 hears the TLS error first (its
    // 'close' listener on us would report PROTOCOL_CONNECTION_LOST instead, and the TLS error
    // after it would have no listener left).
    if (error === null) setImmediate(callback)
    else callback(error)
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
    this.#socket?.ref()
    return this
  }

  unref(): this {
    this.#socket?.unref()
    return this
  }
}
