import type { EmfWriter } from './emf-writer.js'

/**
 * Wraps an async Lambda handler so that `writer` flushes when each invocation ends, returned or
 * thrown: the lines reach the log stream before Lambda freezes the environment. (Lambda's
 * Node.js 24 runtime takes async handlers only; wrap yours as one.) A flush that fails (a `write`
 * that throws) never fails the invocation or hides the handler's own error: it is a process
 * warning, `PRIVATELINK_METRICS_FLUSH_FAILED`.
 *
 * @example
 * ```ts
 * const writer = createEmfWriter({ namespace: 'Orders' })
 * export const handler = withEmfMetrics(writer, async (event) => { ... })
 * ```
 */
export function withEmfMetrics<Event, Context, Result>(
  writer: EmfWriter,
  handler: (event: Event, context: Context) => Promise<Result>,
): (event: Event, context: Context) => Promise<Result> {
  return async (event, context) => {
    try {
      return await handler(event, context)
    } finally {
      try {
        writer.flush()
      } catch (error) {
        process.emitWarning(
          `privatelink/metrics: the EMF flush at the end of the invocation failed (${String((error as Error)?.message ?? error)})`,
          { code: 'PRIVATELINK_METRICS_FLUSH_FAILED' },
        )
      }
    }
  }
}
