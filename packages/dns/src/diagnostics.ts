import { channel } from 'node:diagnostics_channel'

/** Published after every resolution: `{ hostname, family, source, addressCount, durationMs }`. */
export const resolveChannel = channel('privatelink:dns:resolve')
/** Published when an expired answer is served: `{ hostname, family, ageMs, cause }`. */
export const staleChannel = channel('privatelink:dns:stale')
/** Published when the guard refuses an answer: `{ hostname, address }`. */
export const blockedChannel = channel('privatelink:dns:blocked')
/** Published when a background refresh behind a stale answer settles: `{ hostname, family, ok }`. */
export const refreshChannel = channel('privatelink:dns:refresh')
