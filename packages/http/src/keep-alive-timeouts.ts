import {
  type Connector,
  crossesPathIdle,
  DEFAULT_PATH_IDLE_TIMEOUT_MS,
  integerOption,
  pathIdleLimitMs,
} from '@privatelink/core'

/** undici's keep-alive settings, as its Client takes them. */
export interface KeepAliveTimeouts {
  keepAliveTimeout: number
  keepAliveMaxTimeout: number
}

/**
 * undici's idle keep-alive times kept under the path's idle timeout (350 s through an interface
 * endpoint): `keepAliveTimeout` is ours or undici's 4 s (lower against a shorter path), and a
 * server's `Keep-Alive: timeout=N` hint, which undici follows up to `keepAliveMaxTimeout`
 * (10 min by default), is capped at four fifths of the path's timeout. A socket kept idle longer
 * would be forgotten by the path and its next request would get a reset. A user's
 * `keepAliveTimeoutMs` that near is refused with a hint.
 */
export function keepAliveTimeouts(
  given: number | undefined,
  pathIdleTimeoutMs: number,
): KeepAliveTimeouts {
  const limit = pathIdleLimitMs(pathIdleTimeoutMs)
  const keepAliveTimeout = integerOption('keepAliveTimeoutMs', given, Math.min(4_000, limit - 1), 0)
  if (keepAliveTimeout >= limit)
    throw crossesPathIdle(
      'keepAliveTimeoutMs',
      keepAliveTimeout,
      pathIdleTimeoutMs,
      "Leave 'keepAliveTimeoutMs' out (undici's 4 s), or keep it well below the path's timeout: a new connection costs a few milliseconds.",
    )
  return {
    keepAliveTimeout,
    keepAliveMaxTimeout: Math.max(keepAliveTimeout, Math.min(600_000, limit)),
  }
}

/** The connector's path timeout; a Connector from an older @privatelink/core has none: AWS's. */
export const pathIdleOf = (connector: Connector): number =>
  (connector as Partial<Connector>).pathIdleTimeoutMs ?? DEFAULT_PATH_IDLE_TIMEOUT_MS
