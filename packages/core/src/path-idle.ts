import { channel } from 'node:diagnostics_channel'
import { PrivateLinkError } from '@privatelink/dns'
import type { Dial } from './tcp-connect.js'

/**
 * How long the path keeps a TCP flow that carries no packet either way: interface endpoints
 * forget it after 350 s (fixed), NLB TCP listeners after 350 s by default (TLS listeners fixed),
 * and EC2 connection tracking on Nitro v6 after 350 s. The next segment gets a reset. Sources in
 * the lab README ("Idle flow timeout").
 */
export const DEFAULT_PATH_IDLE_TIMEOUT_MS = 350_000

/**
 * The TCP keep-alive delay when none is given: well under the path's timeout (a fifth of it,
 * at most 60 s), so an idle connection sends a probe long before the path would forget it. In
 * whole seconds, at least one: Node passes the delay to the kernel in seconds (TCP_KEEPIDLE).
 */
export const defaultKeepAliveDelayMs = (pathIdleTimeoutMs: number): number =>
  Math.max(1, Math.min(60, Math.floor(pathIdleTimeoutMs / 5_000))) * 1_000

/**
 * The longest idle or keep-alive time allowed against a path timeout: four fifths of it (280 s
 * against 350 s). Nearer than that, a probe or a close that is a little late (a busy event loop,
 * the lab sampling a tenth of the timeout early) loses the race with the path.
 */
export const pathIdleLimitMs = (pathIdleTimeoutMs: number): number =>
  Math.floor(pathIdleTimeoutMs * 0.8)

/**
 * ERR_INVALID_OPTION for an idle or keep-alive setting near or above the path's idle timeout
 * (at or above `pathIdleLimitMs`): the path would forget the connection before the setting acts,
 * and the next request on it would get a reset (or hang where the path drops silently).
 */
export function crossesPathIdle(
  option: string,
  value: number,
  pathIdleTimeoutMs: number,
  fix: string,
): PrivateLinkError {
  const limit = pathIdleLimitMs(pathIdleTimeoutMs)
  return new PrivateLinkError(
    'ERR_INVALID_OPTION',
    `Invalid option '${option}': ${value} ms is not below ${limit} ms, too near the path's idle timeout (${pathIdleTimeoutMs} ms)`,
    {
      hint: `An interface endpoint (and an NLB, by default) forgets a connection idle for ${pathIdleTimeoutMs / 1000} s; a connection kept idle longer gets a reset on its next use. ${fix}`,
      details: { option, expected: `below ${limit}`, received: String(value) },
    },
  )
}

/** Wrapped dials by dial and delay: one function per pair, so connectors sharing them share health. */
const wrapped = new WeakMap<Dial, Map<number, Dial>>()

/**
 * The dial with TCP keep-alive turned on for every socket it opens (Node applies it once the
 * socket connects): each idle connection then probes the path every `delayMs`, which keeps the
 * endpoint's and the NLB's flow, as any packet does.
 */
export function keepAliveDial(dial: Dial, delayMs: number): Dial {
  const byDelay = wrapped.get(dial) ?? new Map<number, Dial>()
  wrapped.set(dial, byDelay)
  let keeping = byDelay.get(delayMs)
  if (keeping === undefined) {
    keeping = (target) => {
      const socket = dial(target)
      // A custom dial may hand back a stand-in without it (tests, proxies).
      if (typeof socket.setKeepAlive === 'function') socket.setKeepAlive(true, delayMs)
      return socket
    }
    byDelay.set(delayMs, keeping)
  }
  return keeping
}

/**
 * `privatelink:connector:path-idle`: a socket the path may have forgotten was found before use
 * (`at: 'use'`, its owner replaces it) or retired after a freeze (`at: 'thaw'`). Payload
 * `{ zone, idleMs, at }`: its zone key and how long it had been idle by the clock.
 */
export const pathIdleChannel = channel('privatelink:connector:path-idle')
