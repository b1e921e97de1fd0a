import { channel } from 'node:diagnostics_channel'

/** A token was signed: `{ userId, cacheName, region, service, serverless, validForMs, signMs }`. Never the token. */
export const tokenRefreshedChannel = channel('privatelink:redis:token-refreshed')
/** A background refresh failed while a valid token was kept: `{ userId, cacheName, code, message, tokenValidForMs }`. */
export const tokenRefreshFailedChannel = channel('privatelink:redis:token-refresh-failed')
/**
 * A connection authenticated: `{ user, zone, target, reauth, ok, code? }`. `target` is the
 * connector target (region) the connection is in; `reauth` is true for the AUTH an open
 * connection sends before ElastiCache's 12-hour limit.
 */
export const authChannel = channel('privatelink:redis:auth')
