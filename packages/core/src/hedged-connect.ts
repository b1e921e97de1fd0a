export interface HedgedConnectOptions<Z, S> {
  /** The zones this connect may use, in order. */
  zones: readonly Z[]
  /** The caller's abort: every leg stops and the connect rejects with `signal.reason`. */
  signal?: AbortSignal
  /** Races TCP over `zones`; rejects when every one failed or `signal` aborted. */
  connect(zones: readonly Z[], signal: AbortSignal): Promise<{ zone: Z; opened: S }>
  /** The handshake on a leg's TCP winner; must reject (and clean up) when `signal` aborts. */
  handshake(zone: Z, opened: S, signal: AbortSignal): Promise<S>
  /** How long a handshake in `zone` runs before a hedge is considered; undefined: never. */
  hedgeDelayMs(zone: Z): number | undefined
  /**
   * Asked when the hedge delay runs out: true waits one more delay instead of hedging (the zone
   * completed another handshake meanwhile, or the server answered: alive, this host is busy).
   */
  keepWaiting(zone: Z, opened: S, startedAt: number): boolean
  /** Which of these zones a hedge may dial now. */
  eligible(zones: readonly Z[]): readonly Z[]
  /**
   * A handshake failed: 'fatal' ends the connect with the error, 'retry' keeps its zone in,
   * 'exclude' drops the zone for the rest of this connect.
   */
  onHandshakeFailure(
    zone: Z,
    opened: S,
    error: unknown,
    startedAt: number,
  ): 'fatal' | 'retry' | 'exclude'
  /** A handshake still pending past its hedge delay when a hedge won. */
  onOvertaken(zone: Z, opened: S, startedAt: number): void
  /** The error when no zone is left to try. */
  exhausted(): unknown
  /** Why a losing leg is stopped (never counted against its zone). */
  cancelled(): unknown
  /** Disposes of a connection that arrived after another leg had won. */
  dispose(opened: S): void
}

interface Leg<Z, S> {
  zones: readonly Z[]
  controller: AbortController
  /** Set once TCP connected: the leg is in its handshake. */
  zone?: Z
  opened?: S
  startedAt: number
  /** Its hedge delay ran out with the handshake still pending, and a hedge was started. */
  hedged: boolean
  timer?: NodeJS.Timeout
  immediate?: NodeJS.Immediate
}

/**
 * A connect as legs: a leg races TCP over some zones, then does the handshake on its winner. A
 * handshake still pending after its hedge delay starts one more leg over the zones no leg holds;
 * the first handshake to complete wins and the other legs are cancelled. A failed handshake
 * moves on to the zones left once no other leg is running.
 */
export function hedgedConnect<Z, S>(
  options: HedgedConnectOptions<Z, S>,
): Promise<{ zone: Z; opened: S }> {
  return new Promise((resolve, reject) => {
    const { signal } = options
    const legs = new Set<Leg<Z, S>>()
    const excluded = new Set<Z>()
    let settled = false

    const stopTimers = (leg: Leg<Z, S>) => {
      clearTimeout(leg.timer)
      if (leg.immediate !== undefined) clearImmediate(leg.immediate)
      leg.timer = undefined
      leg.immediate = undefined
    }
    /** Ends the connect: no timer left, every other leg stopped with `reason`; returns them. */
    const finish = (reason: unknown): Leg<Z, S>[] => {
      settled = true
      options.signal?.removeEventListener('abort', onAbort)
      const others = [...legs]
      legs.clear()
      for (const leg of others) {
        stopTimers(leg)
        leg.controller.abort(reason)
      }
      return others
    }
    const fail = (error: unknown) => {
      finish(options.cancelled())
      reject(error)
    }
    // A callback that throws (a zone-change listener, say) ends the connect with its error rather
    // than escaping as an unhandled rejection or leaving the connect pending.
    const guard = (step: () => void) => {
      try {
        step()
      } catch (error) {
        if (settled) reject(error)
        else fail(error)
      }
    }
    const onAbort = () => {
      if (settled) return
      finish(signal?.reason)
      reject(signal?.reason)
    }

    const left = () => options.zones.filter((zone) => !excluded.has(zone))
    const launch = (zones: readonly Z[]) => {
      const leg: Leg<Z, S> = {
        zones,
        controller: new AbortController(),
        startedAt: 0,
        hedged: false,
      }
      legs.add(leg)
      options.connect(zones, leg.controller.signal).then(
        ({ zone, opened }) => guard(() => shake(leg, zone, opened)),
        (error: unknown) => {
          if (!legs.delete(leg) || settled) return
          // Every zone of this leg failed its TCP connect: none of them is tried again.
          for (const zone of zones) excluded.add(zone)
          if (legs.size === 0) fail(error)
        },
      )
    }

    const shake = (leg: Leg<Z, S>, zone: Z, opened: S) => {
      if (settled || !legs.has(leg)) {
        options.dispose(opened)
        return
      }
      leg.zone = zone
      leg.opened = opened
      leg.startedAt = performance.now()
      arm(leg, zone, opened)
      options.handshake(zone, opened, leg.controller.signal).then(
        (secured) =>
          guard(() => {
            stopTimers(leg)
            if (!legs.delete(leg) || settled) {
              options.dispose(secured)
              return
            }
            try {
              for (const other of finish(options.cancelled()))
                if (other.hedged && other.zone !== undefined && other.opened !== undefined)
                  options.onOvertaken(other.zone, other.opened, other.startedAt)
            } catch (error) {
              options.dispose(secured)
              throw error
            }
            resolve({ zone, opened: secured })
          }),
        (error: unknown) =>
          guard(() => {
            stopTimers(leg)
            if (!legs.delete(leg) || settled) return
            const verdict = options.onHandshakeFailure(zone, opened, error, leg.startedAt)
            if (verdict === 'fatal') {
              fail(error)
              return
            }
            if (verdict === 'exclude') excluded.add(zone)
            // Another leg is still running: it is this connect's next attempt already.
            if (legs.size > 0) return
            const zones = left()
            if (zones.length === 0) fail(options.exhausted())
            else launch(zones)
          }),
      )
    }

    const arm = (leg: Leg<Z, S>, zone: Z, opened: S) => {
      const delay = options.hedgeDelayMs(zone)
      if (delay === undefined) return
      leg.timer = setTimeout(() => {
        leg.timer = undefined
        // A late timer means a busy event loop: let pending I/O (a handshake that already
        // completed) run first, so a slow loop is not mistaken for a slow zone.
        leg.immediate = setImmediate(() =>
          guard(() => {
            leg.immediate = undefined
            if (settled || !legs.has(leg)) return
            if (options.keepWaiting(zone, opened, leg.startedAt)) {
              arm(leg, zone, opened)
              return
            }
            const held = new Set(
              [...legs].flatMap((other) => (other.zone === undefined ? other.zones : [other.zone])),
            )
            const zones = options.eligible(left().filter((zone) => !held.has(zone)))
            if (zones.length === 0) return
            leg.hedged = true
            launch(zones)
          }),
        )
      }, delay)
    }

    if (options.signal?.aborted) {
      reject(options.signal.reason)
      return
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    const zones = left()
    if (zones.length === 0) fail(options.exhausted())
    else launch(zones)
  })
}
