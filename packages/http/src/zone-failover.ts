import type { Duplex } from 'node:stream'
import { PrivateLinkError } from '@privatelink/core'
import { type Dispatcher, errors } from 'undici'
import { backoffMs, retryAfterMs } from './backoff.js'
import { connectionLostError } from './errors.js'
import { FailoverController } from './failover-controller.js'
import type { RetryPolicy } from './retry-policy.js'
import { kZoneAttempt, type ZoneAttempt } from './zone-attempt.js'

type Controller = Dispatcher.DispatchController
type Handler = Dispatcher.DispatchHandler
type Dispatch = (options: Dispatcher.DispatchOptions, handler: Handler) => boolean
type Headers = Record<string, string | string[] | undefined>

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

/** What failover needs besides the policy: whether a zone is left to try, and the clock. */
export interface FailoverRoute {
  policy: RetryPolicy
  /** Some eligible zone is not in `tried`. */
  hasUntried(tried: ReadonlySet<string>): boolean
  /** Retry-After dates. */
  now(): number
}

const codeOf = (error: unknown): string =>
  String((error as { code?: unknown } | null)?.code ?? (error as Error | null)?.name ?? '')

const replayable = (body: unknown): boolean =>
  body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array

/**
 * Zone failover and retries as an undici interceptor: each request gets a {@link FailoverHandler}
 * that sends its attempts down `dispatch` (the Agent), as undici's `interceptors.retry` does.
 */
export function zoneFailover(route: FailoverRoute): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (options, handler) =>
    new FailoverHandler(options, handler, dispatch, route).start()
}

/**
 * One request across its attempts, built as undici's RetryHandler is: the caller sees one request
 * (one onRequestStart, one controller whose abort works at any time, one response); attempts go
 * to zones not yet tried. A retried response's body is drained so its connection is reused.
 * Retries back off with full jitter, honour Retry-After, and take tokens from the dispatcher's
 * retry budget. Safety: a request is replayed after bytes were written only if its method is
 * idempotent and its body can be sent again; never once the response reached the caller.
 */
export class FailoverHandler implements Handler {
  readonly #options: Dispatcher.DispatchOptions
  readonly #handler: Handler
  readonly #dispatch: Dispatch
  readonly #route: FailoverRoute
  readonly #policy: RetryPolicy
  readonly #attempt: ZoneAttempt = { tried: undefined, connection: undefined }
  readonly #controller = new FailoverController((reason) => this.#abort(reason))
  #aborted: Error | undefined
  #timer: unknown
  #retries = 0
  #lastCost = 0
  /** The current attempt started writing (onRequestStart). */
  #started = false
  #delivered = false
  /** The response delivered is not one we would have retried. */
  #succeeded = false
  #done = false
  /** Draining a response we will retry; the delay to wait once it is drained. */
  #discardDelay: number | undefined

  constructor(
    options: Dispatcher.DispatchOptions,
    handler: Handler,
    dispatch: Dispatch,
    route: FailoverRoute,
  ) {
    // One copy per request (as RetryHandler's): the attempt record rides along to the pool.
    this.#options = { ...options, [kZoneAttempt]: this.#attempt } as Dispatcher.DispatchOptions
    this.#handler = handler
    this.#dispatch = dispatch
    this.#route = route
    this.#policy = route.policy
  }

  /** Gives the caller its one controller, then sends the first attempt. */
  start(): boolean {
    this.#handler.onRequestStart?.(this.#controller, undefined)
    if (this.#done) return true
    return this.#dispatch(this.#options, this)
  }

  // The caller's abort, whatever attempt is running; returns the error the request ends with.
  #abort(reason: Error | undefined): Error | undefined {
    if (this.#done) return undefined
    if (this.#aborted !== undefined) return this.#aborted
    const error = reason ?? new errors.RequestAbortedError()
    this.#aborted = error
    const running = this.#controller.target
    if (running !== undefined) {
      // undici calls our onResponseError with it, synchronously.
      running.abort(error)
      return error
    }
    // Waiting for a connection, in a queue or in a backoff: answer now; an attempt that starts later is aborted in onRequestStart.
    if (this.#timer !== undefined) this.#policy.timers.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#fail(error)
    return error
  }

  onRequestStart(controller: Controller, _context: unknown): void {
    if (this.#done || this.#aborted !== undefined) {
      controller.abort(this.#aborted ?? new errors.RequestAbortedError())
      return
    }
    this.#started = true
    this.#controller.target = controller
  }

  onRequestUpgrade(
    _controller: Controller,
    statusCode: number,
    headers: Headers,
    socket: Duplex,
  ): void {
    // The socket now belongs to the caller: its end says nothing about the zone.
    this.#end()?.disown()
    this.#delivered = true
    this.#done = true
    this.#handler.onRequestUpgrade?.(this.#controller, statusCode, headers, socket)
  }

  onResponseStart(
    _controller: Controller,
    statusCode: number,
    headers: Headers,
    statusMessage?: string,
  ): void {
    if (this.#done) return
    const retryStatus = this.#policy.statusCodes.has(statusCode)
    if (retryStatus && this.#retryableStatus(headers)) return
    this.#delivered = true
    this.#succeeded = !retryStatus
    this.#handler.onResponseStart?.(this.#controller, statusCode, headers, statusMessage)
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    if (this.#discardDelay !== undefined || this.#done) return
    this.#handler.onResponseData?.(this.#controller, chunk)
  }

  onResponseEnd(_controller: Controller, trailers: Headers): void {
    if (this.#done || this.#discardDelay !== undefined) {
      this.#end()
      if (this.#discardDelay !== undefined && !this.#done) this.#retry(this.#discardDelay)
      return
    }
    this.#done = true
    // smithy: a success gives back what its retry cost, or one token when it needed none.
    if (this.#succeeded) this.#policy.budget.refund(this.#retries > 0 ? this.#lastCost : 1)
    // The attempt's controller still answers for rawTrailers while the caller reads them.
    this.#handler.onResponseEnd?.(this.#controller, trailers)
    this.#end()
  }

  onResponseError(_controller: Controller | undefined, error: Error): void {
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

  // The attempt is over: its controller is let go, its zone counts as tried.
  #end(): ZoneAttempt['connection'] {
    const connection = this.#attempt.connection
    this.#attempt.connection = undefined
    this.#controller.target = undefined
    if (connection?.zone !== undefined) {
      this.#attempt.tried ??= new Set()
      this.#attempt.tried.add(connection.zone)
    }
    return connection
  }

  #fail(error: Error): void {
    this.#done = true
    this.#handler.onResponseError?.(this.#controller, error)
  }

  #idempotent(): boolean {
    return (
      this.#policy.methods.has(String(this.#options.method).toUpperCase()) &&
      replayable(this.#options.body)
    )
  }

  #retryableStatus(headers: Headers): boolean {
    if (this.#retries >= this.#policy.maxRetries || !this.#idempotent()) return false
    const after = retryAfterMs(headers['retry-after'], this.#route.now())
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
    return this.#route.hasUntried(this.#attempt.tried ?? new Set())
      ? 0
      : backoffMs(this.#policy, this.#retries + 1)
  }

  #retry(delay: number): void {
    this.#retries++
    this.#started = false
    this.#discardDelay = undefined
    this.#attempt.tried ??= new Set()
    const send = () => {
      this.#timer = undefined
      if (!this.#done) this.#dispatch(this.#options, this)
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
