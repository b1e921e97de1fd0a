import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { checkServerIdentity, type TLSSocket, connect as tlsConnect } from 'node:tls'
import { type Connector, sharedSecureContext, type UpgradeContext } from '@privatelink/core'
import {
  type CaSource,
  connectionLostError,
  handshakeTimeoutError,
  idleClosedError,
  tlsError,
  tlsRefusedError,
} from './errors.js'

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

/** PostgreSQL's SSLRequest: length 8, code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 4, 210, 22, 47])

/**
 * What pg's `stream` option returns: a socket-like Duplex whose `connect(port, host)` dials
 * through core's connector (own zone first, failover) and then speaks PostgreSQL's SSLRequest
 * and TLS itself, verifying the certificate against the proxy name. pg sees a plain stream
 * (ssl off), so TLS runs natively on the TCP socket: handing this Duplex to tls.connect would
 * go through Node's JS stream wrapper, measured at +15-25% CPU per query.
 */
export class EndpointStream extends Duplex {
  /** The zone key of the connection, once connected. */
  zone: string | undefined
  /** The connector target (priority group) the connection landed in, once connected. */
  target: number | undefined
  #context: EndpointStreamContext
  #connector: Connector | undefined
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
  #unref = false

  constructor(context: EndpointStreamContext) {
    super({ allowHalfOpen: false, decodeStrings: true })
    this.#context = context
  }

  connect(port: number, _host?: string): this {
    this.#open(port).then(
      (socket) => {
        if (this.destroyed) {
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
    this.#connector = connector
    const plaintext = this.#context.tls.insecure === 'plaintext'
    // A hedge runs two handshakes at once, maybe on two targets: each verifies the proxy name of
    // the target its own socket reached, never the stream's.
    const upgrade = (raw: Socket, { target, signal }: UpgradeContext) =>
      this.#upgrade(raw, this.#tlsOf(target.index), signal)
    const socket = await connector.connect({
      port,
      tls: false,
      signal: this.#abort.signal,
      ...(plaintext ? {} : { upgrade }),
    })
    const zone = connector.zoneOf(socket)
    this.zone = zone === undefined ? undefined : connector.zoneKey(zone)
    this.target = connector.targetOf?.(socket)?.index
    return socket
  }

  /** The TLS of the target the socket reached (its proxy's name), or the one given. */
  #tls(): StreamTls {
    return this.#tlsOf(this.target)
  }

  #tlsOf(target: number | undefined): StreamTls {
    const { tlsFor, tls } = this.#context
    return tlsFor !== undefined && target !== undefined ? tlsFor(target) : tls
  }

  /**
   * SSLRequest, 'S', then TLS verified against `tls.servername`, within handshakeTimeoutMs. Errors
   * the connector sorts: raw socket errors and ERR_TLS_HANDSHAKE are the zone's (the next zone is
   * tried); ERR_PG_TLS_REFUSED and certificate name or trust errors end the connect.
   */
  #upgrade(raw: Socket, tls: StreamTls, signal: AbortSignal): Promise<TLSSocket> {
    const { servername, ca, insecure } = tls
    return new Promise<TLSSocket>((resolve, reject) => {
      let secure: TLSSocket | undefined
      let presented: string | undefined
      const fail = (error: unknown) => {
        cleanup()
        secure?.destroy()
        reject(error)
      }
      const onAbort = () => fail(signal.reason)
      const onError = (error: Error) => fail(error)
      const onClose = () =>
        fail(
          Object.assign(new Error('connection closed during the TLS handshake'), {
            code: 'ECONNRESET',
          }),
        )
      const timer = setTimeout(
        () =>
          fail(
            handshakeTimeoutError(
              servername,
              this.#context.handshakeTimeoutMs,
              secure === undefined ? 'sslrequest' : 'tls',
            ),
          ),
        this.#context.handshakeTimeoutMs,
      )
      const cleanup = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        raw.off('error', onError)
        raw.off('close', onClose)
        raw.off('data', onAnswer)
      }
      const onAnswer = (answer: Buffer) => {
        raw.off('data', onAnswer)
        if (answer.length !== 1 || answer[0] !== 0x53) {
          // 'N': no TLS here. Anything else, or bytes after 'S', is not a proxy we should talk to.
          fail(
            answer[0] === 0x4e
              ? tlsRefusedError(servername)
              : tlsError(
                  Object.assign(new Error('unexpected answer to SSLRequest'), { code: 'EPROTO' }),
                  servername,
                  undefined,
                  tls.caSource,
                ),
          )
          return
        }
        secure = tlsConnect({
          socket: raw,
          servername,
          // One parsed CA bundle for every connection (the RDS bundle is ~100 certificates).
          ...(ca === undefined ? {} : { secureContext: sharedSecureContext({ ca })! }),
          rejectUnauthorized: insecure !== true,
          checkServerIdentity: (host, certificate) => {
            presented = certificate.subjectaltname
            return checkServerIdentity(host, certificate)
          },
        })
        secure.once('error', (error) => fail(tlsError(error, servername, presented, tls.caSource)))
        secure.once('secureConnect', () => {
          cleanup()
          secure!.removeAllListeners('error')
          resolve(secure!)
        })
      }
      signal.addEventListener('abort', onAbort, { once: true })
      raw.on('error', onError)
      raw.once('close', onClose)
      raw.on('data', onAnswer)
      raw.write(SSL_REQUEST)
    })
  }

  #adopt(socket: Socket | TLSSocket): void {
    this.#socket = socket
    if (this.#unref) socket.unref()
    socket.on('data', (chunk: Buffer) => {
      this.#progressAt = performance.now()
      if (this.#outstanding && this.#answered(chunk)) this.#outstanding = false
      if (!this.push(chunk)) socket.pause()
    })
    socket.on('end', () => {
      if (this.#terminating) this.push(null)
      else this.#lost(undefined, 'closed by the server')
    })
    socket.on('error', (error) =>
      this.#lost(error, (error as { code?: string }).code ?? error.message),
    )
    socket.on('close', () => {
      if (this.#terminating) this.destroy()
      else this.#lost(undefined, 'closed')
    })
    if (socket.isPaused()) socket.resume()
  }

  /** The connection died: tell zone health (idle closes are benign), then fail pg's stream. */
  #lost(error: Error | undefined, why: string): void {
    if (this.destroyed) return
    const inFlight = this.#outstanding
    if (this.zone !== undefined && this.#connector !== undefined)
      this.#connector.report(this.zone, inFlight ? 'lost-in-flight' : 'idle-close', why)
    const proxyHost = this.#tls().servername
    this.destroy(
      inFlight
        ? connectionLostError(proxyHost, this.zone, error, why)
        : idleClosedError(proxyHost, this.zone, why),
    )
  }

  /** Whether the bytes so far end with ReadyForQuery ('Z', length 5, status): the answer is complete. */
  #answered(chunk: Buffer): boolean {
    const end =
      chunk.length >= 6 ? chunk.subarray(-6) : Buffer.concat([this.#tail, chunk]).subarray(-6)
    this.#tail = end
    return end.length === 6 && end[0] === 0x5a && end.readInt32BE(1) === 5
  }

  /** Closes the connection with `error` (zone ejected while a query ran). */
  abandon(error: Error): void {
    if (!this.destroyed) this.destroy(error)
  }

  /** Whether a request is waiting for its answer. */
  get outstanding(): boolean {
    return this.#outstanding
  }

  /** How long a waiting request has gone without a byte (ms); 0 when nothing waits. */
  stalledFor(): number {
    return this.#outstanding ? performance.now() - this.#progressAt : 0
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
    // Terminate ('X', length 4) expects no answer; everything else does.
    if (chunk.length === 5 && chunk[0] === 0x58) this.#terminating = true
    else {
      if (!this.#outstanding) this.#progressAt = performance.now()
      this.#outstanding = true
    }
    // A failed write ends the stream through #lost, with the typed error pg's caller gets (a raw
    // "write ECONNRESET" passed to the callback would reach pool.query as it is).
    socket.write(chunk, (error) => {
      if (error) this.#lost(error, (error as { code?: string }).code ?? error.message)
      callback()
    })
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#outstanding = false
    this.#terminating = true
    if (this.#socket === undefined) callback()
    else this.#socket.end(callback)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
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
