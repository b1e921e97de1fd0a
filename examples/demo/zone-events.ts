import { subscribe, unsubscribe } from 'node:diagnostics_channel'

// Documented in @privatelink/core's README (diagnostics channels).
const EJECT = 'privatelink:connector:eject'
const READMIT = 'privatelink:connector:readmit'

export interface ZoneEvent {
  type: 'eject' | 'readmit'
  azName: string
  /** What ejected it: probe-failed, connect-failed, lost-in-flight... */
  cause?: string
  at: number
}

/**
 * Collects the connectors' eject/readmit events (every client of the app has one connector, so
 * one zone going dark gives one event per client) from core's diagnostics channels.
 */
export function watchZoneEvents() {
  const events: ZoneEvent[] = []
  let unread = 0
  const onEject = (message: unknown) => {
    const m = message as { azName: string; signal?: string; cause?: string }
    events.push({
      type: 'eject',
      azName: m.azName,
      cause: m.signal ?? m.cause ?? 'failures',
      at: performance.now(),
    })
  }
  const onReadmit = (message: unknown) => {
    const m = message as { azName: string }
    events.push({ type: 'readmit', azName: m.azName, at: performance.now() })
  }
  subscribe(EJECT, onEject)
  subscribe(READMIT, onReadmit)
  return {
    all: (): readonly ZoneEvent[] => events,
    /** Events since the previous call. */
    take(): ZoneEvent[] {
      const taken = events.slice(unread)
      unread = events.length
      return taken
    },
    /** The first event of `type` for `azName` at or after `since`. */
    first(type: ZoneEvent['type'], azName: string, since: number): ZoneEvent | undefined {
      return events.find((e) => e.type === type && e.azName === azName && e.at >= since)
    },
    stop() {
      unsubscribe(EJECT, onEject)
      unsubscribe(READMIT, onReadmit)
    },
  }
}

/** `b ejected by 3 clients (probe-failed x2, connect-failed)`, one phrase per zone and type. */
export function describeEvents(events: ZoneEvent[], short: (azName: string) => string): string[] {
  const groups = new Map<string, ZoneEvent[]>()
  for (const event of events) {
    const key = `${event.type} ${event.azName}`
    groups.set(key, [...(groups.get(key) ?? []), event])
  }
  return [...groups.values()].map((group) => {
    const { type, azName } = group[0]!
    const clients = `${group.length} client${group.length === 1 ? '' : 's'}`
    if (type === 'readmit') return `zone ${short(azName)} readmitted by ${clients}`
    const causes = new Map<string, number>()
    for (const e of group) causes.set(e.cause ?? '?', (causes.get(e.cause ?? '?') ?? 0) + 1)
    const why = [...causes].map(([cause, n]) => (n > 1 ? `${cause} x${n}` : cause)).join(', ')
    return `zone ${short(azName)} ejected by ${clients} (${why})`
  })
}
