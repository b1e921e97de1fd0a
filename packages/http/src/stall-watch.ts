import type { Socket } from 'node:net'

/** A socket with a request on it, as the watch samples it. */
export interface Watched {
  socket: Socket | undefined
  /** Requests sent on it and not finished. */
  running: number
  /** bytesRead at the last tick, and for how many ticks in a row it has not moved. */
  seenBytes: number
  quietTicks: number
}

/**
 * Suspicion-triggered health checks. A zone that dies under keep-alive traffic (blackholed,
 * hung) leaves requests waiting on open sockets, and the periodic checks (every 2 s) find it
 * only at their next round. Every `tickMs` this looks at sockets carrying a request: one that has
 * received no byte for `stallMs` or more asks for a health check of every zone now (at most once
 * per `minGapMs`), so a dead zone is ejected, and its requests moved, within a check's timeout.
 * A slow but alive backend only costs checks: a check that passes changes nothing.
 */
export function stallWatch(options: {
  stallMs: number
  tickMs?: number
  minGapMs?: number
  sockets: () => Iterable<Watched>
  check: () => void
}): { start(): void; stop(): void } {
  const tickMs = options.tickMs ?? Math.max(50, Math.floor(options.stallMs / 2))
  const ticksToStall = Math.max(1, Math.ceil(options.stallMs / tickMs))
  const minGapMs = options.minGapMs ?? 1_000
  let timer: NodeJS.Timeout | undefined
  let lastCheck = Number.NEGATIVE_INFINITY
  const tick = () => {
    let busy = false
    let stalled = false
    for (const watched of options.sockets()) {
      const socket = watched.socket
      if (socket === undefined || watched.running <= 0 || socket.destroyed) {
        watched.quietTicks = 0
        continue
      }
      busy = true
      const read = socket.bytesRead
      if (read !== watched.seenBytes) {
        watched.seenBytes = read
        watched.quietTicks = 0
      } else if (++watched.quietTicks >= ticksToStall) stalled = true
    }
    if (stalled && performance.now() - lastCheck >= minGapMs) {
      lastCheck = performance.now()
      options.check()
    }
    // Nothing in flight: no timer until the next request.
    if (!busy) stop()
  }
  const stop = () => {
    if (timer !== undefined) clearInterval(timer)
    timer = undefined
  }
  return {
    start() {
      if (timer !== undefined || options.stallMs <= 0) return
      timer = setInterval(tick, tickMs)
      timer.unref()
    },
    stop,
  }
}
