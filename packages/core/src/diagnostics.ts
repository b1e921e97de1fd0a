import { channel } from 'node:diagnostics_channel'

/** A socket was opened: `{ endpointId, azName, azId, address, port, durationMs, attempts }`. */
export const connectChannel = channel('privatelink:connector:connect')
/** The preferred zone was passed over: `{ endpointId, from, to, cause }` (zone names; cause is an error code or 'slow'). */
export const failoverChannel = channel('privatelink:connector:failover')
/** A zone was ejected: `{ endpointId, zone, azName, azId, signal, cause, level, untilMs }`. */
export const ejectChannel = channel('privatelink:connector:eject')
/** An ejected zone is eligible again: `{ endpointId, zone, azName, azId }`. */
export const readmitChannel = channel('privatelink:connector:readmit')
/** Traffic moved to the next target (priority group): `{ endpointId, type: 'failover', from, to }` (target names). */
export const regionFailoverChannel = channel('privatelink:connector:region-failover')
/** Traffic returned to a better target once it passed health checks: `{ endpointId, type: 'return', from, to }`. */
export const regionReturnChannel = channel('privatelink:connector:region-return')
