import { type Dispatcher, util } from 'undici'

type Headers = Record<string, string | string[] | undefined>

/**
 * undici's dispatchers run on the callback-style handler API internally, and `request`, `fetch`
 * and `stream` pass such handlers: speaking it ourselves avoids converting every response's
 * headers twice. Only controller-style handlers get adapted, once, here.
 */
export interface LegacyHandler {
  onConnect?(abort: (reason?: Error) => void, context?: object): void
  onUpgrade?(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: unknown): void
  onResponseStarted?(): void
  onHeaders?(
    statusCode: number,
    rawHeaders: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean
  onData?(chunk: Buffer): boolean
  onComplete?(rawTrailers: Buffer[] | string[] | null): void
  onError?(error: Error): void
  onBodySent?(chunk: unknown): void
}

class Controller {
  paused = false
  aborted = false
  reason: Error | null = null
  resumeReading: (() => void) | undefined
  readonly #abort: (reason?: Error) => void
  constructor(abort: (reason?: Error) => void) {
    this.#abort = abort
  }
  abort(reason?: Error): void {
    this.aborted = true
    this.reason = reason ?? null
    this.#abort(reason)
  }
  pause(): void {
    this.paused = true
  }
  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.resumeReading?.()
  }
}

const parse = (raw: Buffer[] | string[] | null | undefined): Headers =>
  util.parseHeaders((raw ?? []) as Buffer[]) as Headers

class ControllerStyleAdapter implements LegacyHandler {
  readonly #handler: Dispatcher.DispatchHandler
  #controller: Controller = new Controller(() => {})
  constructor(handler: Dispatcher.DispatchHandler) {
    this.#handler = handler
  }
  get #c(): Dispatcher.DispatchController {
    return this.#controller as unknown as Dispatcher.DispatchController
  }
  onConnect(abort: (reason?: Error) => void, context?: object): void {
    this.#controller = new Controller(abort)
    this.#handler.onRequestStart?.(this.#c, context)
  }
  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: unknown): void {
    this.#handler.onRequestUpgrade?.(
      this.#c,
      statusCode,
      parse(rawHeaders) as never,
      socket as never,
    )
  }
  onHeaders(
    statusCode: number,
    rawHeaders: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean {
    this.#controller.resumeReading = resume
    this.#handler.onResponseStart?.(this.#c, statusCode, parse(rawHeaders) as never, statusText)
    return !this.#controller.paused
  }
  onData(chunk: Buffer): boolean {
    this.#handler.onResponseData?.(this.#c, chunk)
    return !this.#controller.paused
  }
  onComplete(rawTrailers: Buffer[] | string[] | null): void {
    this.#handler.onResponseEnd?.(this.#c, parse(rawTrailers) as never)
  }
  onError(error: Error): void {
    if (this.#handler.onResponseError === undefined) throw error
    this.#handler.onResponseError(this.#c, error)
  }
}

export function asLegacy(handler: Dispatcher.DispatchHandler): LegacyHandler {
  const candidate = handler as LegacyHandler
  return typeof candidate.onHeaders === 'function' || typeof candidate.onError === 'function'
    ? candidate
    : new ControllerStyleAdapter(handler)
}
