import type { Socket } from 'node:net'

/** What decides whether the path may have forgotten a socket. */
export interface PathIdlePolicy {
  /** The wall clock (the connector's `clock`): a frozen process's clock jumps, timers do not. */
  clock: () => number
  /** The path's idle timeout. */
  pathIdleTimeoutMs: number
  /** TCP keep-alive is on: while the process (and its kernel) runs, probes keep every flow. */
  keepAlive: boolean
  /**
   * The monotonic clock timers run on, to see a freeze by: a tick that comes far later than it
   * was due means the process did not run. Not the wall clock: a test that moves an injected
   * clock (to end an ejection) has not frozen anything. @default performance.now
   */
  monotonic?: () => number
}

/** One socket's traffic, as sampled. */
export interface Traffic {
  readonly socket: Socket
  /** bytesRead + bytesWritten at the last sample. */
  bytes: number
  /** Clock time of the last sample. */
  sampledAt: number
  /** Clock time of the last traffic, credited conservatively (see `PathIdleWatch`). */
  lastActivity: number
}

/** Node timers take at most 2^31 - 1 ms. */
const MAX_TIMER_MS = 2_147_483_647

/**
 * Knows, by the wall clock, when each watched socket last carried traffic, and whether the path
 * may have forgotten it. No listener on the sockets and nothing per byte: the byte counters
 * (`bytesRead`, `bytesWritten`) are sampled on an unref'd timer every tenth of the path's
 * timeout (at most 30 s), and again whenever an owner asks. Bytes that moved between two
 * samples are credited to the earlier one, so a socket is judged idle up to one interval early,
 * never late.
 *
 * The same timer sees freezes: a tick that comes far later than it was due (by the monotonic
 * clock timers run on) means the process (a Lambda sandbox between invocations, a stopped container, a suspended
 * host) did not run, and with it no keep-alive probe left. A socket whose last traffic is older
 * than the path's timeout and whose idle time spans a freeze (or that has no keep-alive) may be
 * forgotten by the path: `expired` says so, and `onThaw` hears of those found at a tick.
 */
export class PathIdleWatch {
  readonly #policy: PathIdlePolicy
  readonly #intervalMs: number
  readonly #tracked = new Set<Traffic>()
  readonly #onThaw: (expired: Traffic[]) => void
  readonly #monotonic: () => number
  #timer: NodeJS.Timeout | undefined
  /** Monotonic time of the last tick (or check that stood in for one). */
  #tickAt: number
  /** Clock time a freeze was last seen to end; traffic before it had no keep-alive during it. */
  #thawedAt = Number.NEGATIVE_INFINITY

  constructor(policy: PathIdlePolicy, onThaw: (expired: Traffic[]) => void) {
    this.#policy = policy
    this.#onThaw = onThaw
    this.#intervalMs = Math.min(Math.max(Math.floor(policy.pathIdleTimeoutMs / 10), 50), 30_000)
    this.#monotonic = policy.monotonic ?? (() => performance.now())
    this.#tickAt = this.#monotonic()
  }

  /** Follows a socket from now (a new connection has just carried its handshake). */
  track(socket: Socket): Traffic {
    const now = this.#policy.clock()
    const traffic: Traffic = { socket, bytes: bytesOf(socket), sampledAt: now, lastActivity: now }
    if (this.#tracked.size === 0) this.#tickAt = this.#monotonic()
    this.#tracked.add(traffic)
    this.#arm()
    return traffic
  }

  untrack(traffic: Traffic): void {
    this.#tracked.delete(traffic)
    if (this.#tracked.size === 0 && this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
  }

  /** The socket's last traffic by the clock, sampled now. */
  lastActivity(traffic: Traffic): number {
    this.#thawCheck()
    this.#sample(traffic, this.#policy.clock())
    return traffic.lastActivity
  }

  /**
   * The path may have forgotten the socket: its last traffic is older than the path's timeout,
   * and either it has no keep-alive or a freeze stopped its probes since. Sampled now.
   */
  expired(traffic: Traffic): boolean {
    this.#thawCheck()
    // With keep-alive and no freeze since its last traffic, the probes kept it: the common case
    // costs one monotonic clock read (this runs before every pg query and Redis command).
    if (this.#policy.keepAlive && this.#thawedAt <= traffic.lastActivity) return false
    const now = this.#policy.clock()
    this.#sample(traffic, now)
    return this.#isExpired(traffic, now)
  }

  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#tracked.clear()
  }

  #isExpired(traffic: Traffic, now: number): boolean {
    if (now - traffic.lastActivity < this.#policy.pathIdleTimeoutMs) return false
    return !this.#policy.keepAlive || this.#thawedAt > traffic.lastActivity
  }

  #sample(traffic: Traffic, now: number): void {
    const bytes = bytesOf(traffic.socket)
    if (bytes !== traffic.bytes) {
      traffic.bytes = bytes
      // Only known to have moved since the previous sample: credited to its time.
      traffic.lastActivity = Math.max(traffic.lastActivity, traffic.sampledAt)
    }
    traffic.sampledAt = now
  }

  /**
   * A tick (or a check standing in for one) later than due by half the path's timeout or more,
   * by the monotonic clock: the process was frozen (or its event loop blocked that long, which
   * is treated alike: a socket replaced for nothing costs one connect). A shorter freeze cannot
   * lose a flow whose keep-alive probes ran before it (a delay of at most a fifth of the
   * timeout), and a loaded machine's event-loop stalls never come near it. The thaw is dated by
   * the wall clock.
   */
  #thawCheck(): boolean {
    const at = this.#monotonic()
    const frozen = at - this.#tickAt > this.#intervalMs + this.#policy.pathIdleTimeoutMs / 2
    this.#tickAt = at
    if (frozen) this.#thawedAt = this.#policy.clock()
    return frozen
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#tracked.size === 0) return
    this.#timer = setTimeout(() => this.#tick(), Math.min(this.#intervalMs, MAX_TIMER_MS))
    this.#timer.unref()
  }

  #tick(): void {
    this.#timer = undefined
    const thawed = this.#thawCheck()
    const now = this.#policy.clock()
    const expired: Traffic[] = []
    for (const traffic of this.#tracked) {
      this.#sample(traffic, now)
      if (thawed && this.#isExpired(traffic, now)) expired.push(traffic)
    }
    this.#arm()
    if (expired.length > 0) this.#onThaw(expired)
  }
}

const bytesOf = (socket: Socket): number => (socket.bytesRead ?? 0) + (socket.bytesWritten ?? 0)
