import { channel } from 'node:diagnostics_channel'

/**
 * `{ hostname, port, username, region, code, message, tokenValidForMs }`: a background refresh
 * failed and a still-valid token keeps being served. Never carries the token or the credentials.
 */
export const tokenRefreshFailedChannel = channel('privatelink:pg:token-refresh-failed')

/** `{ hostname, port, username, region, validForMs, signMs }`: a new token was signed. */
export const tokenRefreshedChannel = channel('privatelink:pg:token-refreshed')

/** `{ code, sqlState, user }`: a connection was refused at authentication; the pool retries once. */
export const authRetryChannel = channel('privatelink:pg:auth-retry')

/**
 * `{ zone, zones, clients, reason }`: core retired zones (`reason` 'eject', 'readmit' or 'target';
 * `zone` the zone that changed, null for 'target'; `zones` the zones to leave) and `clients` of
 * one pool's connections are leaving them: idle ones closed now, checked-out ones on release.
 */
export const zoneRetiredChannel = channel('privatelink:pg:zone-retired')

/**
 * `{ cause, hint, proxyHost, user, zone, statementName? }`: a statement about to be sent would pin
 * the RDS Proxy session (see `pinning`). Never carries the SQL text or its values.
 */
export const pinningChannel = channel('privatelink:pg:pinning')
