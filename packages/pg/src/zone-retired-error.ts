import { PrivateLinkError, type RetireReason } from '@privatelink/core'

/**
 * A client held outside the pool's normal use (LISTEN, a transaction between statements, a
 * cursor between reads; a createClient) whose zone is out: its socket is dead or about to be, so
 * it is closed with this error instead of staying `connected` while nothing arrives any more.
 */
export function zoneRetiredError(
  proxyHost: string,
  zone: string,
  reason: string,
): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_PG_ZONE_RETIRED',
    `Closed a held connection to ${proxyHost} in ${zone}: the zone is out (${reason}); notifications, an open transaction or a cursor on it are gone`,
    {
      hint: 'Open a new connection and set it up again: for LISTEN, pool.connect() (or a new createClient) and LISTEN again on it, then re-read what you may have missed; a transaction must be retried from BEGIN. New connections go to healthy zones.',
      details: { proxyHost, zone, reason },
    },
  )
}

/** What a held client's error says about why its zone is out. */
export const RETIRED_WHY: Readonly<Record<RetireReason, string>> = {
  eject: 'ejected',
  target: 'traffic failed over to another target',
  readmit: 'ejected',
  idle: "idle past the path's idle timeout across a freeze",
}
