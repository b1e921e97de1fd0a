import type { ZoneKey } from './zone-key.js'

/**
 * A readmitted zone draws traffic back: the zones ranked after it, or not ranked at all
 * (ejected), should leave. A zone not in the ranking retires nothing.
 */
export function retiredByReadmission(
  zone: ZoneKey,
  ranking: readonly ZoneKey[],
  all: readonly ZoneKey[],
): ZoneKey[] {
  const rank = ranking.indexOf(zone)
  if (rank === -1) return []
  return all.filter((key) => {
    if (key === zone) return false
    const own = ranking.indexOf(key)
    return own === -1 || own > rank
  })
}

/** Traffic moved to another target: every zone outside it should leave. */
export function retiredByMove(active: readonly ZoneKey[], all: readonly ZoneKey[]): ZoneKey[] {
  const kept = new Set(active)
  return all.filter((key) => !kept.has(key))
}
