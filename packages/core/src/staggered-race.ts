export interface RaceAttempt<C> {
  candidate: C
  error: unknown
}

export interface RaceOptions<C, T> {
  /** Start the next candidate after this long without a winner (or at once when one fails). */
  delayMs(candidate: C): number
  signal?: AbortSignal
  /** Opens one attempt; must reject (and clean up) when its signal aborts. */
  start(candidate: C, signal: AbortSignal): Promise<T>
  /** Disposes of a value that arrived after another attempt had won. */
  dispose(value: T): void
  onFailure?(candidate: C, error: unknown, startedAt: number): void
  /** An error no other candidate can fix (a certificate for the wrong name): stop the race with it. */
  isFatal?(error: unknown): boolean
  /**
   * Asked when the delay runs out for a pending attempt: true keeps waiting for it one more delay
   * instead of starting the next candidate (its zone has just proven alive, so it is only busy).
   */
  keepWaiting?(candidate: C, startedAt: number): boolean
  /**
   * An attempt still pending when another won. `overtaken`: the delay ran out while it was
   * pending, so it had at least its delay to connect and did not.
   */
  onAbandon?(candidate: C, overtaken: boolean, startedAt: number): void
}

export class RaceFailedError<C> extends Error {
  constructor(readonly attempts: RaceAttempt<C>[]) {
    super('every attempt failed')
  }
}

interface Running {
  controller: AbortController
  overtaken: boolean
  startedAt: number
}

/**
 * RFC 8305-style staggered racing (across zones here rather than address families): the first
 * attempt to succeed wins; the others are aborted.
 */
export function staggeredRace<C, T>(
  candidates: readonly C[],
  options: RaceOptions<C, T>,
): Promise<{ value: T; candidate: C }> {
  return new Promise((resolve, reject) => {
    const running = new Map<C, Running>()
    const failures: RaceAttempt<C>[] = []
    let next = 0
    let settled = false
    let timer: NodeJS.Timeout | undefined
    let immediate: NodeJS.Immediate | undefined

    const finish = () => {
      settled = true
      clearTimeout(timer)
      if (immediate !== undefined) clearImmediate(immediate)
      options.signal?.removeEventListener('abort', onAbort)
    }
    const onAbort = () => {
      if (settled) return
      finish()
      for (const { controller } of running.values()) controller.abort(options.signal?.reason)
      reject(options.signal?.reason ?? new Error('aborted'))
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })

    const arm = (candidate: C) => {
      clearTimeout(timer)
      if (next >= candidates.length) return
      timer = setTimeout(() => {
        // A late timer means a busy event loop: let pending I/O (a connect that already completed)
        // run first, so a slow loop is not mistaken for a slow zone.
        immediate = setImmediate(() => {
          immediate = undefined
          if (settled) return
          const attempt = running.get(candidate)
          if (attempt !== undefined && options.keepWaiting?.(candidate, attempt.startedAt)) {
            arm(candidate)
            return
          }
          for (const other of running.values()) other.overtaken = true
          launch()
        })
      }, options.delayMs(candidate))
    }

    const launch = () => {
      clearTimeout(timer)
      const candidate = candidates[next]
      if (settled || candidate === undefined) return
      next++
      const controller = new AbortController()
      const startedAt = performance.now()
      running.set(candidate, { controller, overtaken: false, startedAt })
      options.start(candidate, controller.signal).then(
        (value) => {
          running.delete(candidate)
          if (settled) {
            options.dispose(value)
            return
          }
          finish()
          for (const [other, attempt] of running) {
            attempt.controller.abort()
            options.onAbandon?.(other, attempt.overtaken, attempt.startedAt)
          }
          running.clear()
          resolve({ value, candidate })
        },
        (error: unknown) => {
          if (!running.delete(candidate) || settled) return
          if (options.isFatal?.(error)) {
            finish()
            for (const attempt of running.values()) attempt.controller.abort()
            running.clear()
            reject(error)
            return
          }
          failures.push({ candidate, error })
          options.onFailure?.(candidate, error, startedAt)
          if (next < candidates.length) launch()
          else if (running.size === 0) {
            finish()
            reject(new RaceFailedError(failures))
          }
        },
      )
      arm(candidate)
    }

    if (options.signal?.aborted) onAbort()
    else if (candidates.length === 0) {
      finish()
      reject(new RaceFailedError([]))
    } else launch()
  })
}
