import { MessageStream } from './pg-wire-stream.js'
import { type PinFinding, pinnedMessage, sqlPinCauses } from './rds-proxy-pinning.js'

/** Where a session reports what the front's metrics count. */
export interface SessionSink {
  /** A query arrived (a simple Query, or an Execute of the extended protocol). */
  query(tls: boolean): void
  /** The database's first answer to a request came `microseconds` after the request. */
  latency(microseconds: number): void
  /** The session was pinned: once per session, with RDS Proxy's log line. */
  pinned(session: ProxySession, finding: PinFinding, message: string): void
}

/** Query text kept for classification; a larger Query or Parse pins as `large-statement` anyway. */
const MAX_KEPT_TEXT = 1_048_576
// Frontend messages that ask the server for something (Sync, Flush and the extended protocol's).
const requests = new Set(['Q', 'P', 'B', 'D', 'E', 'C', 'S', 'H', 'F'])

const cstrings = (body: Buffer, count: number): string[] => {
  const strings: string[] = []
  let offset = 0
  for (let i = 0; i < count; i++) {
    const end = body.indexOf(0, offset)
    if (end < 0) break
    strings.push(body.toString('utf8', offset, end))
    offset = end + 1
  }
  return strings
}

/**
 * Watches one client session relayed by the RDS Proxy emulator: the client's messages for what
 * pins it (RDS Proxy's PostgreSQL conditions), the database's for transaction state and response
 * latency. It never changes a byte: the relay forwards everything as it comes.
 */
export class ProxySession {
  readonly tls: boolean
  /** The first cause that pinned the session; undefined while it multiplexes. */
  pinned: PinFinding | undefined
  /** The last ReadyForQuery status: 'I' idle, 'T' in a transaction, 'E' in a failed one. */
  transactionStatus = 'I'
  /** A request is waiting for its ReadyForQuery. */
  inFlight = false
  /** The database connection's id in log lines: the backend's process ID (BackendKeyData). */
  databaseConnection = 0
  readonly #sink: SessionSink
  readonly #pinUnnamed: boolean
  #requestAt: number | undefined
  readonly #fromClient: MessageStream
  readonly #fromServer: MessageStream

  constructor(options: { tls: boolean; pinUnnamedStatements: boolean; sink: SessionSink }) {
    this.tls = options.tls
    this.#pinUnnamed = options.pinUnnamedStatements
    this.#sink = options.sink
    this.#fromClient = new MessageStream(
      (type, _length, body) => this.#clientMessage(type, body),
      (type) => (type === 'Q' || type === 'P' ? MAX_KEPT_TEXT : 0),
    )
    this.#fromServer = new MessageStream(
      (type, _length, body) => this.#serverMessage(type, body),
      (type) => (type === 'Z' ? 1 : type === 'K' ? 8 : 0),
    )
  }

  /** In a transaction block (ReadyForQuery 'T' or 'E'). */
  get inTransaction(): boolean {
    return this.transactionStatus !== 'I'
  }

  /**
   * Borrowed, as RDS Proxy counts a database connection it has taken from its pool: while a
   * request runs, for a whole transaction, and for the rest of a pinned session.
   */
  get borrowed(): boolean {
    return this.inFlight || this.inTransaction || this.pinned !== undefined
  }

  fromClient(chunk: Buffer): void {
    this.#fromClient.push(chunk)
  }

  fromServer(chunk: Buffer): void {
    this.#fromServer.push(chunk)
  }

  #clientMessage(type: string, body: Buffer | undefined): void {
    if (!requests.has(type)) return
    this.inFlight = true
    this.#requestAt ??= performance.now()
    if (type === 'Q' || type === 'E') this.#sink.query(this.tls)
    if (type === 'Q') {
      // Body: the query string and its terminating zero.
      if (body === undefined) this.#pin([{ cause: 'large-statement', digest: '' }])
      else this.#pin(sqlPinCauses(cstrings(body, 1)[0] ?? ''))
    } else if (type === 'P') {
      if (body === undefined) {
        this.#pin([{ cause: 'large-statement', digest: '' }])
        return
      }
      const [name = '', text = ''] = cstrings(body, 2)
      const findings: PinFinding[] = []
      if (name !== '') findings.push({ cause: 'named-statement', digest: '' })
      else if (this.#pinUnnamed) findings.push({ cause: 'unnamed-statement', digest: '' })
      findings.push(...sqlPinCauses(text))
      this.#pin(findings)
    }
  }

  #serverMessage(type: string, body: Buffer | undefined): void {
    if (this.#requestAt !== undefined) {
      this.#sink.latency(Math.round((performance.now() - this.#requestAt) * 1000))
      this.#requestAt = undefined
    }
    if (type === 'Z' && body !== undefined && body.length === 1) {
      this.transactionStatus = String.fromCharCode(body[0]!)
      this.inFlight = false
    } else if (type === 'K' && body !== undefined && body.length >= 4) {
      this.databaseConnection = body.readUInt32BE(0)
    }
  }

  #pin(findings: PinFinding[]): void {
    const finding = findings[0]
    if (this.pinned !== undefined || finding === undefined) return
    this.pinned = finding
    this.#sink.pinned(this, finding, pinnedMessage(this.databaseConnection, finding))
  }
}
