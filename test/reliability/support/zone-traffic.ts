import type { Lab } from '@privatelink/lab'

interface Sample {
  at: number
  /** bytesOut per service per zone (AZ name): what each zone's "ENI" sent back to clients. */
  bytes: Record<string, Record<string, number>>
  accepted: Record<string, Record<string, number>>
}

/**
 * Samples the lab's per-zone counters every `intervalMs`: which zone served each service when
 * (time to move away, time to come back) and how many connections each zone accepted.
 */
export function watchTraffic(lab: Lab, intervalMs = 100) {
  const samples: Sample[] = []
  const take = () => {
    const stats = lab.stats()
    const bytes: Sample['bytes'] = {}
    const accepted: Sample['accepted'] = {}
    for (const [zone, services] of Object.entries(stats))
      for (const [service, listener] of Object.entries(services)) {
        bytes[service] ??= {}
        accepted[service] ??= {}
        bytes[service][zone] = listener.bytesOut
        accepted[service][zone] = listener.accepted
      }
    samples.push({ at: performance.now(), bytes, accepted })
  }
  take()
  const timer = setInterval(take, intervalMs)
  /** Per window after `from`: the share of the service's bytes that `zones` served. */
  const shares = (service: string, zones: readonly string[], from: number) => {
    const out: { at: number; share: number; total: number }[] = []
    for (let i = 1; i < samples.length; i++) {
      const previous = samples[i - 1]!
      const sample = samples[i]!
      if (sample.at < from) continue
      let total = 0
      let inZones = 0
      for (const [zone, value] of Object.entries(sample.bytes[service] ?? {})) {
        const delta = value - (previous.bytes[service]?.[zone] ?? 0)
        total += delta
        if (zones.includes(zone)) inZones += delta
      }
      out.push({ at: sample.at, share: total === 0 ? Number.NaN : inZones / total, total })
    }
    return out
  }
  return {
    sample: take,
    stop: () => {
      clearInterval(timer)
      take()
    },
    /** ms from `from` until a window in which `away` zones served none of the service's bytes. */
    movedAway(service: string, away: readonly string[], from: number): number | undefined {
      const hit = shares(service, away, from).find((w) => w.total > 0 && w.share === 0)
      return hit === undefined ? undefined : hit.at - from
    },
    /** ms from `from` until a window in which `zone` served most of the service's bytes. */
    cameBack(service: string, zone: string, from: number): number | undefined {
      const hit = shares(service, [zone], from).find((w) => w.total > 0 && w.share > 0.5)
      return hit === undefined ? undefined : hit.at - from
    },
    /** Connections each zone accepted for the service between two times. */
    accepted(service: string, from: number, to = Number.POSITIVE_INFINITY) {
      const first = samples.find((s) => s.at >= from) ?? samples.at(-1)!
      const last = [...samples].reverse().find((s) => s.at <= to) ?? samples.at(-1)!
      return Object.fromEntries(
        Object.entries(last.accepted[service] ?? {}).map(([zone, value]) => [
          zone,
          value - (first.accepted[service]?.[zone] ?? 0),
        ]),
      )
    },
  }
}

export type TrafficWatch = ReturnType<typeof watchTraffic>
