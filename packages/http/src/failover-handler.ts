import { PrivateLinkError } from '@privatelink/core'
import type { Dispatcher } from 'undici'
import type { LegacyHandler } from './legacy-handler.js'
import type { RetryPolicy } from './retry-policy.js'

// Already tried every zone, or no zone can fix it.
const FINAL = new Set([
  'ERR_ENDPOINT_UNREACHABLE',
  'ERR_TLS_NAME_MISMATCH',
  'ERR_TLS_UNTRUSTED',
  'UND_ERR_ABORTED',
  'ABORT_ERR',
])

class RetryableStatus extends Error {
  readonly code = 'PRIVATELINK_RETRYABLE_STATUS'
}

function replayable(body: unknown): boolean {
  return (
    body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array
  )
}

/**
 * Retries a request on another zone when that is safe: any method when nothing was written yet
 * (connect, TLS, reset before the request went out), idempotent methods with a replayable body
 * after that, never once the response has reached the caller, never with a stream body.
 */
export class FailoverHandler implements LegacyHandler {
  readonly #target: LegacyHandler
  readonly #options: Dispatcher.DispatchOptions
  readonly #policy: RetryPolicy
  readonly #redispatch: (options: Dispatcher.DispatchOptions, handler: FailoverHandler) => void
  #abort: ((reason?: Error) => void) | undefined
  #retries = 0
  #started = false
  #delivered = false
  #discarding = false

  constructor(
    options: Dispatcher.DispatchOptions,
    target: LegacyHandler,
    policy: RetryPolicy,
    redispatch: (options: Dispatcher.DispatchOptions, handler: FailoverHandler) => void,
  ) {
    this.#options = options
    this.#target = target
    this.#policy = policy
    this.#redispatch = redispatch
  }

  #idempotent(): boolean {
    return (
      this.#policy.methods.has(String(this.#options.method).toUpperCase()) &&
      replayable(this.#options.body)
    )
  }

  #canRetry(error: unknown): boolean {
    if (this.#delivered || this.#retries >= this.#policy.maxRetries) return false
    const code = PrivateLinkError.isInstance(error)
      ? error.code
      : String((error as { code?: unknown } | null)?.code ?? '')
    if (FINAL.has(code) || (error as { name?: string } | null)?.name === 'AbortError') return false
    // Nothing was written: safe for any method whose body can be sent again.
    if (!this.#started) return replayable(this.#options.body)
    return this.#idempotent()
  }

  onConnect(abort: (reason?: Error) => void, context?: object): void {
    this.#started = true
    this.#discarding = false
    this.#abort = abort
    this.#target.onConnect?.(abort, context)
  }

  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: unknown): void {
    this.#delivered = true
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
    if (
      this.#policy.statusCodes.has(statusCode) &&
      this.#idempotent() &&
      this.#canRetry(undefined)
    ) {
      this.#discarding = true
      this.#abort?.(new RetryableStatus(`status ${statusCode}`))
      return true
    }
    this.#delivered = true
    return this.#target.onHeaders?.(statusCode, rawHeaders, resume, statusText) ?? true
  }

  onData(chunk: Buffer): boolean {
    return this.#discarding ? true : (this.#target.onData?.(chunk) ?? true)
  }

  onComplete(rawTrailers: Buffer[] | string[] | null): void {
    if (!this.#discarding) this.#target.onComplete?.(rawTrailers)
  }

  onBodySent(chunk: unknown): void {
    this.#target.onBodySent?.(chunk)
  }

  onError(error: Error): void {
    if (error instanceof RetryableStatus || this.#canRetry(error)) {
      this.#retries++
      this.#started = false
      this.#discarding = false
      // Next tick: let undici finish with the failed attempt before the next one starts.
      queueMicrotask(() => this.#redispatch(this.#options, this))
      return
    }
    this.#target.onError?.(this.#explain(error))
  }

  // A socket error after the request went out leaves the caller unsure whether it ran: say so.
  #explain(error: Error): Error {
    if (
      !this.#started ||
      this.#delivered ||
      PrivateLinkError.isInstance(error) ||
      error.name === 'AbortError'
    )
      return error
    const method = String(this.#options.method).toUpperCase()
    const target = `${new URL(String(this.#options.origin)).origin}${String(this.#options.path).split('?')[0]}`
    const code = String((error as { code?: unknown }).code ?? error.name)
    const idempotent = this.#idempotent()
    return new PrivateLinkError(
      'ERR_CONNECTION_LOST',
      idempotent
        ? `${method} ${target} lost its connection after it was sent, ${this.#retries} retries used (${code})`
        : `${method} ${target} lost its connection after it was sent and was not retried (${code})`,
      {
        hint: idempotent
          ? 'Every zone tried failed mid-request: check the service behind the NLB, and retry.maxRetries.'
          : 'The server may have processed the request. Non-idempotent methods (and stream bodies) are never replayed: retry yourself with an idempotency key if the API has one, or list the method in retry.methods only if repeating it is safe.',
        details: { method, target, cause: code, retries: this.#retries },
        cause: error,
      },
    )
  }
}
