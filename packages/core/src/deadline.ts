/**
 * Runs `work` with a signal that aborts when `outer` does or when `ms` pass; past the deadline
 * the promise rejects with an ETIMEDOUT error (`what` timed out) whether or not `work` settles.
 */
export async function withDeadline<T>(
  what: string,
  ms: number,
  outer: AbortSignal,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController()
  const onStop = () => controller.abort(outer.reason)
  outer.addEventListener('abort', onStop, { once: true })
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      work(controller.signal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = Object.assign(new Error(`${what} timed out`), { code: 'ETIMEDOUT' })
          controller.abort(error)
          reject(error)
        }, ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
    outer.removeEventListener('abort', onStop)
  }
}
