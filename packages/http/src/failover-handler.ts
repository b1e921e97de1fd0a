import { PrivateLinkError } from '@privatelink/core'
import { type Dispatcher, errors } from 'undici'
import { backoffMs, retryAfterMs } from './backoff.js'
import { connectionLostError } from './errors.js'
import type { LegacyHandler } from './legacy-handler.js'
import type { Attempt, Connection } from './origin-pool.js'
import type { RetryPolicy } from './retry-policy.js'

/** Failures another attempt (on another zone) can fix. Anything else is final. */
const RETRYABLE = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_ZONE_EJECTED',
])
const TIMEOUTS = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])
/** The connection went away under a written request (as opposed to a timeout undici raised). */
const LOST = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'ERR_ZONE_EJECTED'])

/** Where attempts go: the dispatcher's pool for the origin, avoiding the zones already tried. */
export interface Route {
  dispatch(
    options: Dispatcher.DispatchOptions,
    handler: FailoverHandler,
    avoid: ReadonlySet<string> | undefined,
  ): boolean
  /** Some eligible zone is not in `tried`. */
  hasUntried(tried: ReadonlySet<string>): boolean
  now(): number
}

const codeOf = (error: unknown): string =>
  String((error as { code?: unknown } | null)?.code ?? (error as Error | null)?.name ?? '')

const replayable = (body: unknown): boolean =>
  body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array

/**
 * One request across its attempts, in the style of undici's RetryHandler: the caller sees one
 * request (one onConnect, one abort that works at any time, one response), attempts go to zones
 * not yet tried. A retried response's body is drained so its connection is reused. Retries back
 * off with full jitter, honour Retry-After, and take tokens from the dispatcher's retry budget.
 * Safety: a request is replayed after bytes were written only if its method is idempotent and
 * its body can be sent again; never once the response reached the caller.
 */
export class FailoverHandler implements LegacyHandler, Attempt {
  connection: Connection | undefined
  readonly #options: Dispatcher.DispatchOptions
  readonly #target: LegacyHandler
  readonly #policy: RetryPolicy
  readonly #route: Route
  /** Zones this request's attempts ran in; allocated on the first retry only (the hot path has none). */
  #tried: Set<string> | undefined
  #attemptAbort: ((reason?: Error) => void) | undefined
  #aborted: Error | undefined
  #timer: unknown
  #retries = 0
  #lastCost = 0
  #started = false
  #delivered = false
  /** The response delivered is not one we would have retried. */
  #succeeded = false
  #done = false
  /** Draining a response we will retry; the delay to wait once it is drained. */
  #discardDelay: number | undefined

  constructor(
    options: Dispatcher.DispatchOptions,
    target: LegacyHandler,
    policy: RetryPolicy,
    route: Route,
  ) {
    this.#options = options
    this.#target = target
    this.#policy = policy
    this.#route = route
  }

  /** Gives the caller its one abort, then sends the first attempt. */
  start(): boolean {
    this.#target.onConnect?.(this.#abort)
    if (this.#done) return true
    return this.#route.dispatch(this.#options, this, undefined)
  }

  // The stable abort the caller holds for the whole request, whatever attempt is running.
  readonly #abort = (reason?: Error): void => {
    if (this.#done || this.#aborted !== undefined) return
    const error = reason ?? new errors.RequestAbortedError()
    this.#aborted = error
    if (this.#attemptAbort !== undefined) {
      // undici calls our onError with it, synchronously.
      this.#attemptAbort(error)
      return
    }
    // Waiting for a connection, in a queue or in a backoff: answer now; an attempt that starts later is aborted in onConnect.
    if (this.#timer !== undefined) this.#policy.timers.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#fail(error)
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.#done || this.#aborted !== undefined) {
      abort(this.#aborted ?? new errors.RequestAbortedError())
      return
    }
    this.#started = true
    this.#attemptAbort = abort
  }

  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: unknown): void {
    const connection = this.#end()
    // The socket now belongs to the caller: its end says nothing about the zone.
    if (connection !== undefined) connection.ours = true
    this.#delivered = true
    this.#done = true
    this.#target.onUpgrade?.(statusCode, rawHeaders, socket)
  }

  onResponseStarted(): void {
    this.#target.onResponseStarted?.()
  }

  onHeaders(
    statusCode: number,
    rawHeaders: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean {
    if (this.#done) return true
    if (this.#policy.statusCodes.has(statusCode) && this.#retryableStatus(rawHeaders)) return true
    this.#delivered = true
    this.#succeeded = !this.#policy.statusCodes.has(statusCode)
    return this.#target.onHeaders?.(statusCode, rawHeaders, resume, statusText) ?? true
  }

  onData(chunk: Buffer): boolean {
    if (this.#discardDelay !== undefined || this.#done) return true
    return this.#target.onData?.(chunk) ?? true
  }

  onComplete(rawTrailers: Buffer[] | string[] | null): void {
    this.#end()
    if (this.#done) return
    if (this.#discardDelay !== undefined) {
      this.#retry(this.#discardDelay)
      return
    }
    this.#done = true
    // smithy: a success gives back what its retry cost, or one token when it needed none.
    if (this.#succeeded) this.#policy.budget.refund(this.#retries > 0 ? this.#lastCost : 1)
    this.#target.onComplete?.(rawTrailers)
  }

  onBodySent(chunk: unknown): void {
    this.#target.onBodySent?.(chunk)
  }

  onRequestSent(): void {
    ;(this.#target as { onRequestSent?: () => void }).onRequestSent?.()
  }

  onError(error: Error): void {
    this.#end()
    if (this.#done) return
    if (this.#aborted !== undefined) {
      this.#fail(this.#aborted)
      return
    }
    // A retried response's body failed to drain: the retry is paid for already.
    if (this.#discardDelay !== undefined) {
      this.#retry(this.#discardDelay)
      return
    }
    const delay = this.#retryableError(error)
    if (delay !== undefined) {
      this.#retry(delay)
      return
    }
    this.#fail(this.#explain(error))
  }

  // The attempt is over: its connection is free of it, its zone counts as tried.
  #end(): Connection | undefined {
    const connection = this.connection
    this.connection = undefined
    this.#attemptAbort = undefined
    if (connection !== undefined) {
      connection.running--
      if (connection.zone !== undefined) {
        this.#tried ??= new Set()
        this.#tried.add(connection.zone)
      }
    }
    return connection
  }

  #fail(error: Error): void {
    this.#done = true
    this.#target.onError?.(error)
  }

  #idempotent(): boolean {
    return (
      this.#policy.methods.has(String(this.#options.method).toUpperCase()) &&
      replayable(this.#options.body)
    )
  }

  #retryableStatus(rawHeaders: Buffer[]): boolean {
    if (this.#retries >= this.#policy.maxRetries || !this.#idempotent()) return false
    const after = retryAfterMs(rawHeaders, this.#route.now())
    // The server asked for more patience than we spend invisibly: let the caller decide.
    if (after !== undefined && after > this.#policy.maxDelayMs) return false
    if (!this.#policy.budget.take(this.#policy.retryCost)) return false
    this.#lastCost = this.#policy.retryCost
    this.#discardDelay = Math.max(after ?? 0, backoffMs(this.#policy, this.#retries + 1))
    return true
  }

  /** The delay before the retry, or undefined when this error is final. */
  #retryableError(error: Error): number | undefined {
    if (this.#delivered || this.#retries >= this.#policy.maxRetries) return undefined
    if (PrivateLinkError.isInstance(error) && error.code !== 'ERR_ZONE_EJECTED') return undefined
    const code = codeOf(error)
    if (!RETRYABLE.has(code)) return undefined
    // Before any byte was written any method may go again; after, only idempotent ones.
    if (this.#started ? !this.#idempotent() : !replayable(this.#options.body)) return undefined
    // A connection we closed because its zone was ejected is our doing, not the service's
    // trouble: its retry is free, so a zone loss under heavy load does not drain the budget.
    const cost =
      code === 'ERR_ZONE_EJECTED'
        ? 0
        : TIMEOUTS.has(code)
          ? this.#policy.timeoutCost
          : this.#policy.retryCost
    if (!this.#policy.budget.take(cost)) return undefined
    this.#lastCost = cost
    // A connection that died took its zone with it: another zone can take the request at once.
    return this.#route.hasUntried(this.#tried ?? new Set())
      ? 0
      : backoffMs(this.#policy, this.#retries + 1)
  }

  #retry(delay: number): void {
    this.#retries++
    this.#started = false
    this.#discardDelay = undefined
    const send = () => {
      this.#timer = undefined
      if (!this.#done) this.#route.dispatch(this.#options, this, this.#tried ?? new Set())
    }
    // Even at 0: let undici finish with the failed attempt before the next one starts.
    if (delay === 0) queueMicrotask(send)
    else this.#timer = this.#policy.timers.setTimeout(send, delay)
  }

  // undici's own errors reach the caller as undici raised them; only a written request whose
  // connection was lost and that we will not (or may not) replay becomes ERR_CONNECTION_LOST.
  #explain(error: Error): Error {
    if (!this.#started || this.#delivered) return error
    const code = codeOf(error)
    const idempotent = this.#idempotent()
    if (code !== 'ERR_ZONE_EJECTED' && (idempotent || !LOST.has(code))) return error
    const method = String(this.#options.method).toUpperCase()
    const target = `${new URL(String(this.#options.origin)).origin}${String(this.#options.path).split('?')[0]}`
    return connectionLostError({ method, target, retries: this.#retries, idempotent }, error)
  }
}
