import { channel } from 'node:diagnostics_channel'

/** `{ hostname, port, username, region, validForMs, signMs }`: a new IAM token was signed. */
export const tokenRefreshedChannel = channel('privatelink:mysql:token-refreshed')

/**
 * `{ hostname, port, username, region, code, message, tokenValidForMs }`: a background refresh
 * failed and a still-valid token keeps being served. Never the token or the credentials.
 */
export const tokenRefreshFailedChannel = channel('privatelink:mysql:token-refresh-failed')

/** `{ code, errno, user }`: a connection was refused at authentication; the pool retries once. */
export const authRetryChannel = channel('privatelink:mysql:auth-retry')

/**
 * `{ zone, zones, reason, out, idle }`: core retired a pooled connection's zone; `idle` ones are
 * closed through the pool now, checked-out ones when released (or failed, when out with a
 * request waiting).
 */
export const zoneRetiredChannel = channel('privatelink:mysql:zone-retired')
