import { connect, type Socket } from 'node:net'
import {
  CommandReader,
  encodeCommand,
  errorReply,
  RespProtocolError,
  replyEnd,
  simpleString,
} from './elasticache-front-resp.js'
import {
  type ElastiCacheRefusal,
  type ElastiCacheTokenCheck,
  verifyElastiCacheToken,
} from './elasticache-front-token.js'
import type { Target } from './zonal-listener.js'

// ElastiCache's wording, byte for byte: clients and our adapter match on these.
export const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.'
export const NOAUTH = 'NOAUTH Authentication required.'
export const NOAUTH_HELLO =
  'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time'

export type SessionEvent =
  | { type: 'authenticated'; user: string; principal: string; reauth: boolean }
  | { type: 'refused'; user?: string; reason: ElastiCacheRefusal }
  | { type: 'noauth' }
  | { type: 'expired'; user: string }
  | { type: 'closed' }

export interface SessionContext {
  check: Omit<ElastiCacheTokenCheck, 'user'>
  /** IAM-enabled user IDs; others are refused. Undefined: any. */
  users: readonly string[] | undefined
  upstream: Target
  /** Connections not re-authenticated for this long (lab clock) are dropped. */
  maxSessionMs: number
  report(event: SessionEvent): void
}

/** Commands after which upstream bytes stop matching requests one to one (RESP2 pub/sub, MONITOR). */
const UNPAIRED = new Set(['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'MONITOR'])

type Slot = { kind: 'upstream' } | { kind: 'local'; bytes: Buffer }

/**
 * One client connection to the ElastiCache front: AUTH / HELLO AUTH checked here, everything else
 * relayed to the real redis-server once authenticated. Replies the front makes itself are queued
 * behind relayed ones still outstanding, so a pipelined re-AUTH keeps its place.
 */
export class ElastiCacheSession {
  #client: Socket
  #context: SessionContext
  #reader = new CommandReader()
  #upstream: Socket | undefined
  #upstreamBuffer: Buffer = Buffer.alloc(0)
  #slots: Slot[] = []
  #passThrough = false
  #user: string | undefined
  #authenticatedAt: number | undefined
  #closed = false

  constructor(client: Socket, context: SessionContext) {
    this.#client = client
    this.#context = context
    client.on('data', (chunk: Buffer) => this.#onData(chunk))
    client.once('close', () => this.#close())
  }

  /** Drops the connection when its last authentication is older than the limit; true if dropped. */
  expireIfStale(now: number): boolean {
    if (
      this.#authenticatedAt === undefined ||
      now - this.#authenticatedAt < this.#context.maxSessionMs
    )
      return false
    this.#context.report({ type: 'expired', user: this.#user! })
    this.#client.destroy()
    this.#close()
    return true
  }

  #onData(chunk: Buffer): void {
    if (this.expireIfStale(this.#context.check.clock())) return
    this.#reader.push(chunk)
    try {
      for (;;) {
        const command = this.#reader.next()
        if (command === undefined) break
        this.#handle(command.args, command.raw)
        if (this.#closed) return
      }
    } catch (error) {
      if (!(error instanceof RespProtocolError)) throw error
      this.#client.end(errorReply(`ERR Protocol error: ${error.message}`))
    }
  }

  #handle(args: Buffer[], raw: Buffer): void {
    if (args.length === 0) return
    const name = args[0]!.toString('latin1').toUpperCase()
    if (name === 'AUTH') {
      if (args.length < 2 || args.length > 3) {
        this.#local(errorReply("ERR wrong number of arguments for 'auth' command"))
        return
      }
      // `AUTH token` is the default user, which IAM never authenticates.
      const user = args.length === 3 ? args[1]!.toString() : undefined
      this.#local(
        this.#authenticate(user, args[args.length - 1]!.toString())
          ? simpleString('OK')
          : errorReply(WRONGPASS),
      )
      return
    }
    if (name === 'HELLO') {
      this.#hello(args)
      return
    }
    if (name === 'QUIT') {
      this.#local(simpleString('OK'))
      this.#client.end()
      return
    }
    if (this.#authenticatedAt === undefined) {
      this.#context.report({ type: 'noauth' })
      this.#local(errorReply(NOAUTH))
      return
    }
    if (UNPAIRED.has(name)) this.#passThrough = true
    this.#relay(raw)
  }

  /** HELLO [protover [AUTH user pass] [SETNAME name]]: AUTH checked here, the rest relayed. */
  #hello(args: Buffer[]): void {
    const forwarded: Buffer[] = [args[0]!]
    let authUser: string | undefined
    let authToken: string | undefined
    for (let index = 1; index < args.length; index++) {
      const word = args[index]!.toString('latin1').toUpperCase()
      if (index === 1 && /^\d+$/.test(word)) forwarded.push(args[index]!)
      else if (word === 'AUTH' && index + 2 < args.length) {
        authUser = args[index + 1]!.toString()
        authToken = args[index + 2]!.toString()
        index += 2
      } else if (word === 'SETNAME' && index + 1 < args.length) {
        forwarded.push(args[index]!, args[index + 1]!)
        index += 1
      } else {
        this.#local(errorReply(`ERR Syntax error in HELLO option '${args[index]!.toString()}'`))
        return
      }
    }
    if (authToken !== undefined) {
      if (!this.#authenticate(authUser, authToken)) {
        this.#local(errorReply(WRONGPASS))
        return
      }
    } else if (this.#authenticatedAt === undefined) {
      this.#context.report({ type: 'noauth' })
      this.#local(errorReply(NOAUTH_HELLO))
      return
    }
    this.#relay(encodeCommand(forwarded))
  }

  #authenticate(user: string | undefined, token: string): boolean {
    const { report, users, check } = this.#context
    if (user === undefined || user === 'default') {
      report({ type: 'refused', reason: 'no-user' })
      return false
    }
    const result = verifyElastiCacheToken(token, { ...check, user })
    if (!result.ok) {
      report({ type: 'refused', user, reason: result.reason })
      return false
    }
    if (users !== undefined && !users.includes(user)) {
      report({ type: 'refused', user, reason: 'user-not-allowed' })
      return false
    }
    // A failed re-AUTH leaves the earlier authentication in force, as in Redis.
    const reauth = this.#authenticatedAt !== undefined
    this.#user = user
    this.#authenticatedAt = check.clock()
    report({ type: 'authenticated', user, principal: result.principalArn, reauth })
    return true
  }

  #local(bytes: Buffer): void {
    if (this.#slots.length === 0 || this.#passThrough) this.#client.write(bytes)
    else this.#slots.push({ kind: 'local', bytes })
  }

  #relay(raw: Buffer): void {
    const upstream = this.#upstream ?? this.#openUpstream()
    if (!this.#passThrough) this.#slots.push({ kind: 'upstream' })
    upstream.write(raw)
  }

  #openUpstream(): Socket {
    const { host, port } = this.#context.upstream
    const upstream = connect({ host, port, noDelay: true })
    this.#upstream = upstream
    upstream.on('data', (chunk: Buffer) => this.#onUpstream(chunk))
    upstream.on('error', () => {})
    upstream.once('close', () => {
      this.#client.destroy()
      this.#close()
    })
    return upstream
  }

  #onUpstream(chunk: Buffer): void {
    if (this.#passThrough && this.#upstreamBuffer.length === 0 && this.#slots.length === 0) {
      this.#client.write(chunk)
      return
    }
    let buffer =
      this.#upstreamBuffer.length === 0 ? chunk : Buffer.concat([this.#upstreamBuffer, chunk])
    const out: Buffer[] = []
    for (;;) {
      if (this.#slots.length === 0 && this.#passThrough) {
        out.push(buffer)
        buffer = Buffer.alloc(0)
        break
      }
      const end = replyEnd(buffer, 0)
      if (end < 0) break
      out.push(buffer.subarray(0, end))
      // RESP3 push messages (client tracking, pub/sub) answer no request.
      const push = buffer[0] === 0x3e
      buffer = buffer.subarray(end)
      if (push) continue
      this.#slots.shift()
      while (this.#slots[0]?.kind === 'local')
        out.push((this.#slots.shift() as { bytes: Buffer }).bytes)
    }
    this.#upstreamBuffer = buffer
    if (out.length > 0) this.#client.write(out.length === 1 ? out[0]! : Buffer.concat(out))
  }

  #close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#upstream?.destroy()
    this.#context.report({ type: 'closed' })
  }
}
