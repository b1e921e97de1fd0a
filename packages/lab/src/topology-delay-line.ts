/** How late the delay line delivered, in microseconds past each action's due time. */
export interface DelayLateness {
  /** Actions delivered since the lab started. */
  delivered: number
  /** Median lateness of the last (up to) 8192 deliveries. */
  p50Micros: number
  /** 99th percentile of the same window. */
  p99Micros: number
  /** The latest delivery in that window. */
  maxMicros: number
}

interface Pending {
  due: bigint
  action: () => void
}

/** One delay value's queue: every entry has the same delay, so FIFO order is due order. */
class DelayQueue {
  readonly #items: Pending[] = []
  #head = 0

  get size(): number {
    return this.#items.length - this.#head
  }

  peek(): Pending | undefined {
    return this.#items[this.#head]
  }

  push(item: Pending): void {
    this.#items.push(item)
  }

  shift(): Pending {
    const item = this.#items[this.#head]!
    this.#items[this.#head] = undefined as unknown as Pending
    this.#head++
    // Compacts once the consumed prefix dominates, so a long-lived queue stays small.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head)
      this.#head = 0
    }
    return item
  }
}

const WINDOW = 8192
/** Farther than this ahead, a timer (1 ms granularity) sleeps until about 1 ms before the due time. */
const TIMER_THRESHOLD_NS = 2_000_000n

/**
 * Delivers actions after sub-millisecond delays without blocking the event loop: deadlines in
 * `process.hrtime.bigint()` nanoseconds, checked once per event-loop turn on `setImmediate` (the
 * check phase, right after the poll phase has read new sockets), every due action of every queue
 * run in that one turn. setTimeout alone would round 0.125 ms up to 1 ms or more. A due time more
 * than 2 ms away waits on a timer first, so an idle lab does not spin. One line per lab, shared by
 * every zone and connection: no zone gets a scheduler of its own to saturate.
 */
export class DelayLine {
  readonly #queues = new Map<number, DelayQueue>()
  readonly #lateness = new Float64Array(WINDOW)
  #delivered = 0
  #pending = 0
  #immediate: NodeJS.Immediate | undefined
  #timer: NodeJS.Timeout | undefined
  #closed = false

  /** Runs `action` `delayMs` from now (0 runs it at once), after what was scheduled before with the same delay. */
  schedule(delayMs: number, action: () => void): void {
    if (delayMs <= 0 || this.#closed) {
      action()
      return
    }
    let queue = this.#queues.get(delayMs)
    if (queue === undefined) {
      queue = new DelayQueue()
      this.#queues.set(delayMs, queue)
    }
    queue.push({ due: process.hrtime.bigint() + BigInt(Math.round(delayMs * 1e6)), action })
    this.#pending++
    this.#arm()
  }

  /** Lateness of recent deliveries: how exact the modelled delays are on this machine now. */
  lateness(): DelayLateness {
    const count = Math.min(this.#delivered, WINDOW)
    const sorted = Array.from(this.#lateness.subarray(0, count)).sort((a, b) => a - b)
    const at = (p: number) => sorted[Math.min(count - 1, Math.floor((p / 100) * count))] ?? 0
    return {
      delivered: this.#delivered,
      p50Micros: at(50),
      p99Micros: at(99),
      maxMicros: sorted.at(-1) ?? 0,
    }
  }

  /** Delivers everything still pending at once and stops scheduling. */
  close(): void {
    this.#closed = true
    if (this.#immediate !== undefined) clearImmediate(this.#immediate)
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#immediate = undefined
    this.#timer = undefined
    for (const queue of this.#queues.values()) while (queue.size > 0) queue.shift().action()
    this.#pending = 0
  }

  #earliest(): bigint | undefined {
    let earliest: bigint | undefined
    for (const queue of this.#queues.values()) {
      const head = queue.peek()
      if (head !== undefined && (earliest === undefined || head.due < earliest)) earliest = head.due
    }
    return earliest
  }

  #arm(): void {
    if (this.#immediate !== undefined || this.#timer !== undefined || this.#pending === 0) return
    const earliest = this.#earliest()
    if (earliest === undefined) return
    const ahead = earliest - process.hrtime.bigint()
    if (ahead > TIMER_THRESHOLD_NS) {
      this.#timer = setTimeout(
        () => {
          this.#timer = undefined
          this.#arm()
        },
        Number(ahead - 1_000_000n) / 1e6,
      )
      return
    }
    this.#immediate = setImmediate(() => {
      this.#immediate = undefined
      this.#run()
    })
  }

  #run(): void {
    const now = process.hrtime.bigint()
    for (const queue of this.#queues.values()) {
      for (let head = queue.peek(); head !== undefined && head.due <= now; head = queue.peek()) {
        queue.shift()
        this.#pending--
        this.#lateness[this.#delivered % WINDOW] = Number(now - head.due) / 1000
        this.#delivered++
        head.action()
      }
    }
    this.#arm()
  }
}
