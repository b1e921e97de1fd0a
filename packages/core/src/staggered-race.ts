export interface RaceAttempt<C> {
  candidate: C
  error: unknown
}

export interface RaceOptions<C, T> {
  /** Start the next candidate after this long without a winner (or at once when one fails). */
  delayMs: number
  signal?: AbortSignal
  /** Opens one attempt; must reject (and clean up) when its signal aborts. */
  start(candidate: C, signal: AbortSignal): Promise<T>
  /** Disposes of a value that arrived after another attempt had won. */
  dispose(value: T): void
  onFailure?(candidate: C, error: unknown): void
  /** An error no other candidate can fix (a certificate for the wrong name): stop the race with it. */
  isFatal?(error: unknown): boolean
  /**
   * An attempt still pending when another won. `overtaken`: the delay ran out while it was
   * pending, so it had at least `delayMs` to connect and did not.
   */
  onAbandon?(candidate: C, overtaken: boolean): void
}

export class RaceFailedError<C> extends Error {
  constructor(readonly attempts: RaceAttempt<C>[]) {
    super('every attempt failed')
  }
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
    const running = new Map<C, { controller: AbortController; overtaken: boolean }>()
    const failures: RaceAttempt<C>[] = []
    let next = 0
    let settled = false
    let timer: NodeJS.Timeout | undefined

    const finish = () => {
      settled = true
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
    }
    const onAbort = () => {
      if (settled) return
      finish()
      for (const { controller } of running.values()) controller.abort(options.signal?.reason)
      reject(options.signal?.reason ?? new Error('aborted'))
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })

    const launch = () => {
      clearTimeout(timer)
      if (settled || next >= candidates.length) return
      const candidate = candidates[next++]!
      const controller = new AbortController()
      running.set(candidate, { controller, overtaken: false })
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
            options.onAbandon?.(other, attempt.overtaken)
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
          options.onFailure?.(candidate, error)
          if (next < candidates.length) launch()
          else if (running.size === 0) {
            finish()
            reject(new RaceFailedError(failures))
          }
        },
      )
      if (next < candidates.length) {
        timer = setTimeout(() => {
          for (const attempt of running.values()) attempt.overtaken = true
          launch()
        }, options.delayMs)
      }
    }

    if (options.signal?.aborted) onAbort()
    else if (candidates.length === 0) {
      finish()
      reject(new RaceFailedError([]))
    } else launch()
  })
}
