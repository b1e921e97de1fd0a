import type { EmfWriter } from './emf-writer.js'

/**
 * Wraps an async Lambda handler so that `writer` flushes when each invocation ends, returned or
 * thrown: the lines reach the log stream before Lambda freezes the environment. (Lambda's
 * Node.js 24 runtime takes async handlers only; wrap yours as one.)
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
      writer.flush()
    }
  }
}
