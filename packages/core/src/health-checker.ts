import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { Attempts } from './attempts.js'
import { failureCode } from './attempts.js'
import { isTimeoutCode } from './connector-errors.js'
import type { HealthCheckOptions, ResolvedTarget } from './connector-types.js'
import { withDeadline } from './deadline.js'
import { isDialRefusal } from './dial-guard.js'
import { loopBusySince } from './hedge-delay.js'
import { probeTimeout } from './probe-timeout.js'
import { type ConnectorTlsOptions, tlsUpgrade } from './tls-upgrade.js'
import type { HealthEvent, HealthSignal, ZoneHealth } from './zone-health.js'
import type { ZoneKey } from './zone-key.js'
import type { ZoneEntry, ZoneTable } from './zone-table.js'

export interface HealthCheckerOptions {
  table: ZoneTable
  targets: readonly ResolvedTarget[]
  health: ZoneHealth
  attempts: Attempts
  clock: () => number
  /** 0: no periodic checks (probe() still works). */
  intervalMs: number
  /** Undefined: adaptive per zone (probe-timeout.ts). */
  timeoutMs: number | undefined
  handshake: HealthCheckOptions['handshake']
  /** The port checked until a connect used one. */
  defaultPort: number
  /** Aborts every check: the connector closed. */
  stopping: AbortSignal
  record: (key: ZoneKey, signal: HealthSignal, cause: string) => void
  succeeded: (key: ZoneKey, probe: boolean) => void
  readmitted: (event: HealthEvent) => void
  /** A round is over: passes may let a better target back in. */
  rerouted: () => void
  /** Spreads the checks of many endpoints over time. @default Math.random */
  random?: () => number
}

/**
 * Periodic checks prove TLS (and the `handshake`) once in this many rounds, and on every round
 * after a failure; the rounds between are a TCP connect only. A zone whose ENI or listener is
 * gone fails the TCP connect within one interval; a zone that accepts TCP but no longer answers
 * is found by traffic (hedges, lost requests) or by the next proving round.
 */
export const PROVE_EVERY_ROUNDS = 5

/** While the endpoint's sockets are open but idle, one tick in this many runs a round. */
export const IDLE_EVERY_TICKS = 4

/** How long a proving check waits after the handshake for a TLS 1.3 session ticket, once. */
const TICKET_WAIT_MS = 100

type Outcome = readonly [ZoneEntry, number | string]

/** A failure that counts against the zone: not this host's busyness, an abort or a refusal. */
const isFailure = (result: number | string) =>
  typeof result === 'string' &&
  result !== 'inconclusive' &&
  result !== 'ABORT_ERR' &&
  !isDialRefusal(result)

/**
 * Active health checks of one endpoint, shared by its connectors, while any of them has sockets
 * open (none while nothing is open): every zone not ejected gets a TCP connect each round, and
 * once in `PROVE_EVERY_ROUNDS` rounds (every round after a failure, and always in `probe()`) TLS
 * on a port used with TLS, resumed from the last check's session, then the `handshake` when
 * given. Also `probe()`, which ranks zones when the own zone is unknown.
 */
export class HealthChecker {
  readonly #options: HealthCheckerOptions
  readonly #portTls = new Map<number, ConnectorTlsOptions | undefined>()
  /** The sockets handed out and still open: their bytes say whether the endpoint is in use. */
  readonly #sockets = new Set<Socket>()
  /** Their bytes read and written at the last tick; a new socket also counts as use. */
  #traffic = 0
  #used = false
  /** Ticks skipped in a row while the endpoint was idle. */
  #idleTicks = 0
  #timer: NodeJS.Timeout | undefined
  #probing: Promise<Record<string, number | string>> | undefined
  /** Periodic rounds since the last one that proved TLS. */
  #round = 0
  /** The last round had a failure: prove every round until one passes. */
  #suspect = false
  /** TLS sessions by servername: a proving check resumes instead of a full handshake. */
  readonly #sessions = new Map<string, Buffer>()
  /** When the last probe started (the connector's clock). */
  lastProbe: number | undefined

  constructor(options: HealthCheckerOptions) {
    this.#options = options
  }

  /** A connect used `port` with `tls` (undefined: plain, or an upgrade): checks follow suit. */
  usePort(port: number, tls: ConnectorTlsOptions | undefined): void {
    if (!this.#portTls.has(port) || tls !== undefined) this.#portTls.set(port, tls)
  }

  /** A socket was handed out: checks run until every one has closed. */
  track(socket: Socket): void {
    this.#sockets.add(socket)
    this.#used = true
    socket.once('close', () => {
      this.#sockets.delete(socket)
    })
    this.start()
  }

  /**
   * Whether the endpoint was used since the last tick: a socket handed out, or bytes moved on an
   * open one (one pass over the open sockets per tick, a property read each).
   */
  #usedSinceLastTick(): boolean {
    let traffic = 0
    for (const socket of this.#sockets) traffic += socket.bytesRead + socket.bytesWritten
    const used = this.#used || traffic !== this.#traffic
    this.#traffic = traffic
    this.#used = false
    return used
  }

  start(): void {
    const { intervalMs, stopping } = this.#options
    if (intervalMs <= 0 || this.#timer !== undefined || stopping.aborted) return
    // Each endpoint's period is drawn once from 80-100% of the interval: many endpoints started
    // together drift apart instead of checking in one burst, and a check is never later than asked.
    const random = this.#options.random ?? Math.random
    const period = Math.max(1, Math.round(intervalMs * (0.8 + 0.2 * random())))
    this.#timer = setInterval(() => {
      if (this.#sockets.size === 0) {
        this.stop()
        return
      }
      // Open but idle (no byte moved, no new socket): check once in IDLE_EVERY_TICKS ticks, so an
      // idle client costs a quarter; a zone lost meanwhile is found within that many intervals
      // (or by the first request), and any use brings every tick back.
      if (!this.#usedSinceLastTick() && ++this.#idleTicks < IDLE_EVERY_TICKS) return
      this.#idleTicks = 0
      // A round still running (a slow zone, an explicit probe()) is not joined nor counted.
      if (this.#probing !== undefined) return
      const prove = this.#suspect || this.#round % PROVE_EVERY_ROUNDS === 0
      this.#round++
      this.#run(prove).catch(() => {})
    }, period)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /**
   * Checks every zone not ejected, at once, with TLS and the handshake where a port uses them; a
   * failed check is repeated, up to the threshold.
   */
  probe(): Promise<Record<string, number | string>> {
    return this.#run(true)
  }

  /** One round; `prove`: TLS and the handshake too, else a TCP connect only. */
  #run(prove: boolean): Promise<Record<string, number | string>> {
    this.#probing ??= this.#probeAll(prove).finally(() => {
      this.#probing = undefined
    })
    return this.#probing
  }

  async #probeAll(prove: boolean): Promise<Record<string, number | string>> {
    const { table, health, clock } = this.#options
    this.lastProbe = clock()
    for (const event of health.readmitExpired(clock())) this.#options.readmitted(event)
    const port = [...this.#portTls.keys()][0] ?? this.#options.defaultPort
    const zones = table.entries.filter((entry) => !health.isEjected(entry.key, clock()))
    const results = new Map<ZoneEntry, number | string>()
    let attempts = zones
    // A failed check is repeated at once, up to the threshold: one lost SYN is not an outage.
    for (let round = 0; round < health.unhealthyThreshold && attempts.length > 0; round++) {
      const outcomes = await Promise.all(
        attempts.map(
          async (entry): Promise<Outcome> => [entry, await this.#check(entry, port, prove)],
        ),
      )
      for (const [entry, result] of outcomes) results.set(entry, result)
      attempts = this.#judge(outcomes, round, zones.length)
    }
    this.#suspect = [...results.values()].some((result) => typeof result === 'string')
    this.#options.rerouted()
    return Object.fromEntries(
      table.entries.map((entry) => [entry.label, results.get(entry) ?? 'ejected']),
    )
  }

  /** Feeds one round's outcomes to zone health; returns the zones to check again. */
  #judge(outcomes: readonly Outcome[], round: number, checked: number): ZoneEntry[] {
    const { health, clock } = this.#options
    // Every zone failing at once says more about this host than about the zones.
    const allFailed =
      round === 0 && checked > 1 && outcomes.every(([, result]) => typeof result === 'string')
    const regionDown = round === 0 ? this.#regionsDown(outcomes) : new Set<ResolvedTarget>()
    const failed: ZoneEntry[] = []
    for (const [entry, result] of outcomes) {
      if (typeof result === 'number') this.#options.succeeded(entry.key, true)
      else if (isFailure(result) && !allFailed) {
        const times = regionDown.has(entry.target) ? health.unhealthyThreshold : 1
        for (let i = 0; i < times && !health.isEjected(entry.key, clock()); i++)
          this.#options.record(entry.key, 'probe-failed', result)
        if (!health.isEjected(entry.key, clock())) failed.push(entry)
      }
    }
    return failed
  }

  /**
   * Every zone of a target failing in one round while another target answers is neither this
   * host (another region got through) nor one lost SYN (all its zones failed): the region is out
   * at once, without the repeat, so traffic moves within one check.
   */
  #regionsDown(outcomes: readonly Outcome[]): Set<ResolvedTarget> {
    const down = new Set<ResolvedTarget>()
    if (this.#options.targets.length < 2) return down
    for (const target of this.#options.targets) {
      const own = outcomes.filter(([entry]) => entry.target === target)
      if (
        own.length > 0 &&
        own.every(([, result]) => isFailure(result)) &&
        outcomes.some(([entry, result]) => entry.target !== target && typeof result === 'number')
      )
        down.add(target)
    }
    return down
  }

  /** One zone's check: ms, 'inconclusive' (this host was too busy to tell), or the error code. */
  async #check(entry: ZoneEntry, port: number, prove: boolean): Promise<number | string> {
    const { health, attempts, stopping } = this.#options
    const used = prove ? this.#portTls.get(port) : undefined
    const tls = used === undefined ? undefined : (entry.target.tls ?? used)
    const started = performance.now()
    const timeoutMs =
      this.#options.timeoutMs ??
      probeTimeout(health.connectMs(entry.key), health.handshakeMs(entry.key))
    const left = () => Math.max(1, timeoutMs - Math.round(performance.now() - started))
    const loop = performance.eventLoopUtilization()
    let socket: Socket | TLSSocket | undefined
    try {
      const candidate = { entry, address: entry.zone.addresses[0] }
      socket = (await attempts.openTcp(candidate, port, timeoutMs, stopping)).socket
      if (tls !== undefined) {
        const handshakeStarted = performance.now()
        socket = await this.#tls(socket, tls, left(), stopping)
        health.recordHandshakeTime(entry.key, performance.now() - handshakeStarted)
      }
      const { handshake } = this.#options
      if (handshake !== undefined && prove) {
        const open = socket
        await withDeadline('health-check handshake', left(), stopping, (signal) =>
          handshake(open, { zone: entry.zone, target: entry.target, signal }),
        )
      }
      return Math.round((performance.now() - started) * 1000) / 1000
    } catch (error) {
      const code = failureCode(error)
      // A timeout that fired far too late, or while the event loop had no time to spare, says
      // this host was busy, not that the zone is down.
      if (
        isTimeoutCode(code) &&
        (performance.now() - started > timeoutMs * 1.5 || loopBusySince(loop))
      )
        return 'inconclusive'
      return code
    } finally {
      socket?.destroy()
    }
  }

  /**
   * TLS resumed from the last check's session when there is one (a resumed handshake proves the
   * service still holds the session keys, at a fraction of a full handshake's CPU); the first
   * check waits briefly for a TLS 1.3 ticket so later ones can resume.
   */
  async #tls(
    socket: Socket,
    tls: ConnectorTlsOptions,
    timeoutMs: number,
    stopping: AbortSignal,
  ): Promise<TLSSocket> {
    const { servername } = tls
    const session = this.#sessions.get(servername)
    const secure = await tlsUpgrade(
      socket,
      session === undefined ? tls : { ...tls, session },
      timeoutMs,
      stopping,
    )
    const remember = (next: Buffer) => this.#sessions.set(servername, next)
    secure.on('session', remember)
    if (session === undefined && !this.#sessions.has(servername)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(TICKET_WAIT_MS, timeoutMs))
        function done() {
          clearTimeout(timer)
          secure.off('session', done)
          resolve()
        }
        secure.once('session', done)
      })
    }
    return secure
  }
}
