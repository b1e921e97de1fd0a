import type { Dispatcher } from 'undici'
import { originNotPinnedError } from './errors.js'
import { locationOf, unsafeTarget } from './sigv4-errors.js'
import { SIGNED, type SignedMark } from './sigv4-marker.js'

type Dispatch = (
  options: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
) => boolean

/** Which hosts go to the endpoint, and where the others go. */
export interface PinningOptions {
  /** Lowercase hostnames pinned to the endpoint. */
  origins: readonly string[]
  /** Where requests for other hosts go; undefined: they are refused with ERR_ORIGIN_NOT_PINNED. */
  passthrough: Dispatch | undefined
}

/**
 * fetch follows a redirect with a new request, which sigv4() signs like any other: a 302 to
 * another host would carry the key ID and session token out through passthrough. Only a host the
 * signer was told about (`hosts`) may receive a signed request that way.
 */
function refuseSignedPassthrough(options: Dispatcher.DispatchOptions): void {
  const mark = (options as { [SIGNED]?: SignedMark })[SIGNED]
  if (mark === undefined || mark.listed) return
  const origin = new URL(String(options.origin))
  throw unsafeTarget(
    { service: mark.service, region: mark.region, host: origin.host },
    'passthrough',
    locationOf(origin, options.path),
  )
}

/** Whether an origin's host is pinned, remembered per origin string (origins are few, requests many). */
export function pinnedOrigins(origins: readonly string[]): (origin: string) => boolean {
  const pinned = new Set(origins)
  const decided = new Map<string, boolean>()
  return (origin) => {
    let yes = decided.get(origin)
    if (yes === undefined) {
      yes = pinned.has(new URL(origin).hostname.toLowerCase())
      if (decided.size < 1_000) decided.set(origin, yes)
    }
    return yes
  }
}

/**
 * Origin pinning as an undici interceptor, the way `interceptors.dns` decides where a request
 * goes: a pinned host continues down `dispatch` (zone failover, the endpoint's pools); any other
 * goes to `passthrough` when set (a signed request only to a host the signer was told about),
 * else fails with ERR_ORIGIN_NOT_PINNED through the handler, never thrown.
 */
export function originPinning(options: PinningOptions): Dispatcher.DispatcherComposeInterceptor {
  const isPinned = pinnedOrigins(options.origins)
  const { passthrough } = options
  return (dispatch) => (request, handler) => {
    const origin = String(request.origin)
    if (isPinned(origin)) return dispatch(request, handler)
    try {
      if (passthrough === undefined)
        throw originNotPinnedError(new URL(origin).origin, options.origins)
      refuseSignedPassthrough(request)
    } catch (error) {
      // No attempt ever started: there is no controller to give.
      handler.onResponseError?.(undefined as never, error as Error)
      return false
    }
    return passthrough(request, handler)
  }
}
