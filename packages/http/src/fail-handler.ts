import type { Dispatcher } from 'undici'

/** A handler of either undici API: the controller one (undici 7.x and 8) or the legacy callbacks. */
type AnyHandler = Dispatcher.DispatchHandler & { onError?: (error: Error) => void }

/**
 * Ends a request that never reached a connection with `error`, through whichever API the handler
 * speaks: undici 8's types (and handlers) have no `onError`, undici 7's legacy handlers no
 * `onResponseError`. A dispatcher must settle the request this way and never throw.
 */
export function failHandler(handler: Dispatcher.DispatchHandler, error: Error): void {
  const target = handler as AnyHandler
  if (typeof target.onResponseError === 'function')
    target.onResponseError(undefined as never, error)
  else target.onError?.(error)
}
