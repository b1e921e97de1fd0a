import { Worker } from 'node:worker_threads'

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
/**
 * The clock thread wakes the lab's thread this long before a due time (a wake-up takes ~50 µs
 * to arrive); the last stretch, and anything due this soon, runs on `setImmediate` turns.
 */
const LEAD_NS = 50_000n

// The clock thread: sleeps in a futex wait until just before the earliest wake-up time (Atomics.wait
// takes fractional milliseconds; Linux adds up to 50 µs of timer slack), spins the last 50 µs,
// then wakes the lab's thread with a message. The lab's event loop sleeps in epoll meanwhile.
// setTimeout cannot do this (1 ms steps), and a setImmediate loop keeps the lab's thread busy for
// the whole delay: on a loaded machine the kernel then schedules it, and the servers beside it,
// late (measured: 0.5-1 ms extra per 1 ms round trip at load 11 on 2 cores).
const clockSource = `
const { parentPort, workerData } = require('node:worker_threads')
const state = new Int32Array(workerData.shared, 0, 2)
const due = new BigInt64Array(workerData.shared, 8, 1)
for (;;) {
  const generation = Atomics.load(state, 0)
  const next = Atomics.load(due, 0)
  if (next < 0n) break
  if (next === 0n || Atomics.load(state, 1) === 1) {
    Atomics.wait(state, 0, generation)
    continue
  }
  const ahead = next - process.hrtime.bigint()
  if (ahead > 60000n) {
    Atomics.wait(state, 0, generation, Number(ahead - 50000n) / 1e6)
    continue
  }
  while (process.hrtime.bigint() < next) {}
  Atomics.store(state, 1, 1)
  parentPort.postMessage(0)
}
`

/**
 * Delivers actions after sub-millisecond delays: deadlines in `process.hrtime.bigint()`
 * nanoseconds, woken by a clock thread (above) at the earliest one, every due action of every
 * queue run in that one turn. One line per lab, shared by every zone and connection: no zone
 * has a scheduler of its own to saturate.
 */
export class DelayLine {
  readonly #queues = new Map<number, DelayQueue>()
  readonly #lateness = new Float64Array(WINDOW)
  readonly #shared = new SharedArrayBuffer(16)
  /** [0]: generation (the clock thread waits on it), [1]: a wake-up is in flight. */
  readonly #state = new Int32Array(this.#shared, 0, 2)
  /** The earliest due time the clock thread sleeps towards; 0: none, -1: closed. */
  readonly #due = new BigInt64Array(this.#shared, 8, 1)
  #clock: Worker | undefined
  #delivered = 0
  #pending = 0
  #immediate: NodeJS.Immediate | undefined
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
    if (this.#pending++ === 0) this.#thread().ref()
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

  /** Delivers everything still pending at once and stops the clock thread. */
  close(): void {
    this.#closed = true
    if (this.#immediate !== undefined) clearImmediate(this.#immediate)
    this.#immediate = undefined
    Atomics.store(this.#due, 0, -1n)
    Atomics.add(this.#state, 0, 1)
    Atomics.notify(this.#state, 0)
    this.#clock?.unref()
    this.#clock = undefined
    for (const queue of this.#queues.values()) while (queue.size > 0) queue.shift().action()
    this.#pending = 0
  }

  #thread(): Worker {
    if (this.#clock === undefined) {
      this.#clock = new Worker(clockSource, { eval: true, workerData: { shared: this.#shared } })
      this.#clock.on('message', () => {
        Atomics.store(this.#state, 1, 0)
        this.#run(true)
      })
      this.#clock.unref()
    }
    return this.#clock
  }

  #earliest(): bigint | undefined {
    let earliest: bigint | undefined
    for (const queue of this.#queues.values()) {
      const head = queue.peek()
      if (head !== undefined && (earliest === undefined || head.due < earliest)) earliest = head.due
    }
    return earliest
  }

  // Sets the clock thread's next wake-up (or the next turn, when that is closer than a wake-up).
  // `force` after a wake-up: the clock thread may have gone to sleep with no deadline meanwhile,
  // so it must be told again even when the deadline did not move.
  #arm(force = false): void {
    if (this.#closed) return
    const earliest = this.#earliest()
    if (earliest === undefined) {
      Atomics.store(this.#due, 0, 0n)
      return
    }
    const now = process.hrtime.bigint()
    if (earliest - now <= LEAD_NS) {
      Atomics.store(this.#due, 0, 0n)
      this.#immediate ??= setImmediate(() => {
        this.#immediate = undefined
        this.#run()
      })
      return
    }
    // A wake-up still ahead and no later than this one serves it (an early one just re-arms).
    const wake = earliest - LEAD_NS
    const current = Atomics.load(this.#due, 0)
    if (!force && current > now && current <= wake && Atomics.load(this.#state, 1) === 0) return
    Atomics.store(this.#due, 0, wake)
    Atomics.add(this.#state, 0, 1)
    Atomics.notify(this.#state, 0)
  }

  #run(force = false): void {
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
    if (this.#pending === 0) this.#clock?.unref()
    this.#arm(force)
  }
}
