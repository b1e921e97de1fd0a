import type { Dispatcher } from 'undici'

type Controller = Dispatcher.DispatchController

/**
 * The one controller the caller holds for a whole request, whatever attempt runs, as undici's
 * RetryController is: pause, resume, rawHeaders and rawTrailers go to the current attempt's
 * controller (a pause survives the switch to the next attempt); abort goes to the request, which
 * can be aborted at any time (queued, in a backoff, or on a socket).
 */
export class FailoverController implements Controller {
  #paused = false
  #target: Controller | undefined
  #reason: Error | null = null
  readonly #abort: (reason: Error | undefined) => Error | undefined

  /** `abort` ends the request and returns the error it ended with (undefined when already over). */
  constructor(abort: (reason: Error | undefined) => Error | undefined) {
    this.#abort = abort
  }

  /** The current attempt's controller; undefined between attempts. */
  set target(target: Controller | undefined) {
    this.#target = target
    if (this.#paused) target?.pause()
  }

  get target(): Controller | undefined {
    return this.#target
  }

  abort(reason?: Error): void {
    this.#reason ??= this.#abort(reason) ?? null
  }

  /** The caller aborted the request, or undici aborted the current attempt. */
  get aborted(): boolean {
    return this.#reason !== null || (this.#target?.aborted ?? false)
  }

  get reason(): Error | null {
    return this.#reason ?? this.#target?.reason ?? null
  }

  pause(): void {
    this.#paused = true
    this.#target?.pause()
  }

  resume(): void {
    this.#paused = false
    this.#target?.resume()
  }

  get paused(): boolean {
    return this.#paused || (this.#target?.paused ?? false)
  }

  get rawHeaders(): Controller['rawHeaders'] {
    return this.#target?.rawHeaders ?? null
  }

  get rawTrailers(): Controller['rawTrailers'] {
    return this.#target?.rawTrailers ?? null
  }
}
