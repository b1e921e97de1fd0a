import { invalidOption } from '@privatelink/core'
import type { Dispatcher } from 'undici'

/**
 * `init` for Node's global `fetch` with `dispatcher` in it, typed as the global `RequestInit`.
 * Node's fetch takes any undici dispatcher at run time, but TypeScript refuses one: with the DOM
 * lib, `RequestInit` has no `dispatcher`; without it, `dispatcher` is typed as the undici bundled
 * in @types/node (undici-types), not the undici this package runs on. This is that cast, made
 * once here, so callers need none.
 *
 * @example
 * const response = await fetch(url, fetchOptions(dispatcher, { method: 'POST', body }))
 */
export function fetchOptions(dispatcher: Dispatcher, init?: RequestInit): RequestInit {
  if (
    typeof dispatcher !== 'object' ||
    dispatcher === null ||
    typeof (dispatcher as { dispatch?: unknown }).dispatch !== 'function'
  )
    throw invalidOption('dispatcher', 'an undici Dispatcher (createEndpointDispatcher)', dispatcher)
  const options: RequestInit = { ...init }
  // Set as an unknown key: the two Dispatcher types do not overlap for TypeScript, but Node's
  // fetch only calls dispatch() on it.
  ;(options as { dispatcher?: unknown }).dispatcher = dispatcher
  return options
}
