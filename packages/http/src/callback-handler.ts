import type { Duplex } from 'node:stream'
import { type Dispatcher, errors } from 'undici'

type Controller = Dispatcher.DispatchController
type Headers = Record<string, string | string[] | undefined>
type Raw = Buffer[] | string[] | null

/** The callback-style handler undici's `request`, `stream` and `fetch` hand a dispatcher. */
interface Callbacks {
  onConnect?(abort: (reason?: Error) => void, context?: unknown): void
  onUpgrade?(statusCode: number, rawHeaders: Raw, socket: Duplex): void
  onHeaders?(statusCode: number, rawHeaders: Raw, resume: () => void, statusText: string): boolean
  onData?(chunk: Buffer): boolean
  onComplete?(rawTrailers: Raw): void
  onError?(error: Error): void
}

// The controller's raw list when it has one (undici's UnwrapController keeps it, and
// FailoverController forwards it); else the parsed object back to raw, as undici's WrapHandler.
function raw(fromController: Controller['rawHeaders'], parsed: Headers): Raw {
  if (Array.isArray(fromController)) return fromController as Raw
  const list: Buffer[] = []
  for (const [name, value] of Object.entries(parsed)) {
    if (value === undefined) continue
    list.push(Buffer.from(name, 'latin1'))
    if (Array.isArray(value)) for (const item of value) list.push(Buffer.from(item, 'latin1'))
    else list.push(Buffer.from(value, 'latin1'))
  }
  return list
}

/**
 * undici's WrapHandler, except that the raw headers the socket delivered are handed through
 * instead of being rebuilt from the parsed object: `request`, `stream` and `fetch` pass
 * callback-style handlers, and rebuilding every response's headers as Buffers cost ~2.5 µs a
 * request (measured, bench/http-steady.ts), a few percent of the whole request.
 */
export class CallbackHandler implements Dispatcher.DispatchHandler {
  readonly #handler: Callbacks

  private constructor(handler: Callbacks) {
    this.#handler = handler
  }

  /** A controller-style handler as it is; a callback-style one adapted. */
  static wrap(handler: Dispatcher.DispatchHandler): Dispatcher.DispatchHandler {
    return typeof handler.onRequestStart === 'function'
      ? handler
      : new CallbackHandler(handler as Callbacks)
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.#handler.onConnect?.((reason) => controller.abort(reason as Error), context)
  }

  onRequestUpgrade(controller: Controller, statusCode: number, headers: Headers, socket: Duplex) {
    this.#handler.onUpgrade?.(statusCode, raw(controller.rawHeaders, headers), socket)
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Headers,
    statusMessage?: string,
  ): void {
    const resume = () => controller.resume()
    const rawHeaders = raw(controller.rawHeaders, headers)
    if (this.#handler.onHeaders?.(statusCode, rawHeaders, resume, statusMessage ?? '') === false)
      controller.pause()
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.#handler.onData?.(chunk) === false) controller.pause()
  }

  onResponseEnd(controller: Controller, trailers: Headers): void {
    this.#handler.onComplete?.(raw(controller.rawTrailers, trailers))
  }

  onResponseError(_controller: Controller, error: Error): void {
    if (this.#handler.onError === undefined)
      throw new errors.InvalidArgumentError('invalid onError method')
    this.#handler.onError(error)
  }
}
