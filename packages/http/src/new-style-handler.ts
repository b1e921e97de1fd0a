import type { Dispatcher } from 'undici'

type Controller = Dispatcher.DispatchController
type Headers = Record<string, string | string[]>

/** The handler shape undici's own APIs (request, fetch, stream) still pass. */
interface LegacyHandler {
  onConnect?(abort: (reason?: Error) => void, context?: object): void
  onHeaders?(
    statusCode: number,
    rawHeaders: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean
  onUpgrade?(statusCode: number, rawHeaders: Buffer[], socket: unknown): void
  onData?(chunk: Buffer): boolean
  onComplete?(rawTrailers: Buffer[] | null): void
  onError?(error: Error): void
}

const toRaw = (headers: Headers): Buffer[] => {
  const raw: Buffer[] = []
  for (const [name, value] of Object.entries(headers)) {
    for (const item of Array.isArray(value) ? value : [value])
      raw.push(Buffer.from(name, 'latin1'), Buffer.from(item, 'latin1'))
  }
  return raw
}

/** Adapts a callback-style handler to the controller API; a class, so per-request cost is one object. */
class LegacyAdapter implements Dispatcher.DispatchHandler {
  readonly #legacy: LegacyHandler
  constructor(legacy: LegacyHandler) {
    this.#legacy = legacy
  }
  onRequestStart(controller: Controller, context: object): void {
    this.#legacy.onConnect?.((reason) => controller.abort(reason ?? new Error('aborted')), context)
  }
  onRequestUpgrade(
    _controller: Controller,
    statusCode: number,
    headers: Headers,
    socket: unknown,
  ): void {
    this.#legacy.onUpgrade?.(statusCode, toRaw(headers), socket)
  }
  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Headers,
    statusMessage?: string,
  ): void {
    if (
      this.#legacy.onHeaders?.(
        statusCode,
        toRaw(headers),
        () => controller.resume(),
        statusMessage ?? '',
      ) === false
    )
      controller.pause()
  }
  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.#legacy.onData?.(chunk) === false) controller.pause()
  }
  onResponseEnd(_controller: Controller, trailers: Headers): void {
    this.#legacy.onComplete?.(toRaw(trailers))
  }
  onResponseError(_controller: Controller, error: Error): void {
    if (this.#legacy.onError === undefined) throw error
    this.#legacy.onError(error)
  }
}

/**
 * Our handlers speak undici's controller-based API; callers may pass either shape, so a
 * callback-style handler is adapted once here.
 */
export function asNewStyle(handler: Dispatcher.DispatchHandler): Dispatcher.DispatchHandler {
  if (typeof handler.onRequestStart === 'function' || typeof handler.onResponseStart === 'function')
    return handler
  return new LegacyAdapter(
    handler as unknown as LegacyHandler,
  ) as unknown as Dispatcher.DispatchHandler
}

/** For errors raised before undici handed us a controller (signing, routing). */
export const detachedController = {
  abort() {},
  pause() {},
  resume() {},
  aborted: false,
  paused: false,
  reason: null,
} as unknown as Controller
