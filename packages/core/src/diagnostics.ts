import { channel } from 'node:diagnostics_channel'

/** A socket was opened: `{ endpointId, azName, azId, address, port, durationMs, attempts }`. */
export const connectChannel = channel('privatelink:connector:connect')
/** The preferred zone was passed over: `{ endpointId, from, to, cause }` (zone names; cause is an error code or 'slow'). */
export const failoverChannel = channel('privatelink:connector:failover')
/** A zone was ejected: `{ endpointId, zone, azName, azId, signal, cause, level, untilMs }`. */
export const ejectChannel = channel('privatelink:connector:eject')
/** An ejected zone is eligible again: `{ endpointId, zone, azName, azId }`. */
export const readmitChannel = channel('privatelink:connector:readmit')
