import type { Socket } from 'node:net'
import { invalidOption } from '@privatelink/dns'
import type { ResolvedTarget, TargetChangeEvent } from './connector-types.js'
import { pathIdleChannel } from './path-idle.js'
import { type PathIdlePolicy, PathIdleWatch, type Traffic } from './path-idle-watch.js'
import type { HealthSignal } from './zone-health.js'
import type { ZoneKey } from './zone-key.js'
import type { ZoneEntry } from './zone-table.js'

/**
 * Why a zone's sockets should leave: `eject`, the zone is out of rotation; `readmit`, a better
 * zone is back (the own zone after an outage); `target`, traffic moved to another target;
 * `idle`, after a freeze (a thawed Lambda sandbox, a stopped process) the path may have forgotten
 * these idle sockets (their last traffic is older than `pathIdleTimeoutMs`): only those sockets
 * leave, not their zones.
 */
export type RetireReason = 'eject' | 'readmit' | 'target' | 'idle'

/** Zones whose sockets should leave, and why: what `connector.onRetire` listeners get. */
export interface RetireEvent {
  /** Why these zones' sockets should leave. */
  reason: RetireReason
  /**
   * The zone keys to leave. `eject`: the ejected zone. `readmit`: every zone ranked after the
   * readmitted one, or not ranked (ejected). `target`: every zone outside the now active target.
   * `idle`: the zones of the sockets retired (the zones themselves stay in rotation).
   */
  zones: readonly ZoneKey[]
  /** `eject` and `readmit`: the zone that changed. */
  zone?: ZoneKey
  /** `target`: the move between targets. */
  move?: TargetChangeEvent
}

/** What a watched socket's `retire` is told: how urgently to leave. */
export interface Retirement {
  /** Why the socket's zone is retired. */
  reason: RetireReason
  /** The socket's zone key. */
  zone: ZoneKey
  /**
   * True: the socket's zone is out of rotation (ejected, or its target failed over, every zone of
   * it being out), so nothing is gained by waiting. False: its zone works and traffic prefers
   * another: leave without cutting off what is in flight (idle now, busy once idle).
   */
  out: boolean
  /** `busy()` when the retirement was decided. */
  busy: boolean
  /** The event this retirement is part of. */
  event: RetireEvent
}

/** How `connector.watch` follows one socket: the owner's view of it, and how it leaves. */
export interface WatchOptions {
  /**
   * True while the socket carries work a close would lose (a request or command written and not
   * answered, a checked-out client): a close then reports `lost-in-flight`, else `idle-close`.
   */
  busy: () => boolean
  /**
   * Leaves the socket's zone when core retires it. Called at most once per socket, plus once
   * more when a retirement that could wait (`out: false`) becomes urgent (`out: true`). Call
   * `release()` before closing the socket yourself. @default none: the socket is only reported
   */
  retire?: (retirement: Retirement) => void
  /**
   * True for an error the owner raises itself while closing the socket (undici's UND_ERR_INFO
   * when the caller aborts or the idle timeout fires): the close then says nothing about the zone.
   * @default none
   */
  ownClose?: (error: Error) => boolean
}

/** A watched socket: its zone, and the owner's way to say it closes the socket itself. */
export interface SocketWatch {
  /** The zone key of the socket. */
  readonly zone: ZoneKey
  /** The target (priority group) the socket was opened in. */
  readonly target: ResolvedTarget
  /** How far its retirement went: undefined while in rotation, else `drain` or `out`. */
  readonly leaving: 'drain' | 'out' | undefined
  /**
   * The owner closes (or already closed) the socket itself: its close is not reported and it is
   * not retired any more. Idempotent.
   */
  release(): void
  /**
   * When the socket last carried traffic, by the connector's `clock` (the wall clock: it jumps
   * across a freeze, where timers do not). Sampled from its byte counts, so up to a tenth of
   * `pathIdleTimeoutMs` early, never late.
   */
  lastTrafficAt(): number
  /**
   * The path may have forgotten this socket: its last traffic is older than `pathIdleTimeoutMs`
   * and it has no TCP keep-alive, or a freeze (a thawed Lambda sandbox) stopped its probes since.
   * Ask before reusing an idle socket: when true, close it (after `release()`) and use a new
   * one; its next segment would get a reset, or be dropped. Published on
   * `privatelink:connector:path-idle` (`at: 'use'`) when true.
   */
  stale(): boolean
}

interface Watched {
  readonly socket: Socket
  readonly entry: ZoneEntry
  readonly options: WatchOptions
  leaving: 'drain' | 'out' | undefined
  released: boolean
  traffic: Traffic | undefined
}

/** The policy when the lifecycle is built without one: the path's default, keep-alive on. */
const DEFAULT_POLICY: PathIdlePolicy = {
  clock: Date.now,
  pathIdleTimeoutMs: 350_000,
  keepAlive: true,
}

/** The watch options, checked: a bad one throws ERR_INVALID_OPTION at the call. */
export function watchOptionsOf(value: unknown): WatchOptions {
  if (typeof value !== 'object' || value === null)
    throw invalidOption('watch(options)', 'an object { busy, retire?, ownClose? }', value)
  const options = { ...(value as WatchOptions) }
  if (typeof options.busy !== 'function')
    throw invalidOption('watch(options).busy', 'a function () => boolean', options.busy)
  if (options.retire !== undefined && typeof options.retire !== 'function')
    throw invalidOption('watch(options).retire', 'a function (retirement) => void', options.retire)
  if (options.ownClose !== undefined && typeof options.ownClose !== 'function')
    throw invalidOption(
      'watch(options).ownClose',
      'a function (error) => boolean',
      options.ownClose,
    )
  return options
}

/**
 * The one socket lifecycle: which zone each watched socket is in, how its end is reported to
 * zone health, and which sockets leave when zones are retired. Adapters keep only their `busy`
 * predicate and their way to leave.
 */
export class SocketLifecycle {
  readonly #zones = new Map<ZoneKey, Set<Watched>>()
  readonly #listeners = new Set<(event: RetireEvent) => void>()
  readonly #report: (key: ZoneKey, signal: HealthSignal, cause: string) => void
  readonly #idle: PathIdleWatch
  readonly #byTraffic = new Map<Traffic, Watched>()

  constructor(
    report: (key: ZoneKey, signal: HealthSignal, cause: string) => void,
    policy: PathIdlePolicy = DEFAULT_POLICY,
  ) {
    this.#report = report
    this.#idle = new PathIdleWatch(policy, (expired) => this.#retireIdle(expired))
  }

  /** Someone would hear a retirement: only then is the ranking worth computing. */
  get listening(): boolean {
    return this.#zones.size > 0 || this.#listeners.size > 0
  }

  onRetire(listener: (event: RetireEvent) => void): () => void {
    if (typeof listener !== 'function')
      throw invalidOption('onRetire(listener)', 'a function (event) => void', listener)
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  watch(socket: Socket, entry: ZoneEntry, options: WatchOptions): SocketWatch {
    const watched: Watched = {
      socket,
      entry,
      options,
      leaving: undefined,
      released: false,
      traffic: undefined,
    }
    const idle = this.#idle
    const handle: SocketWatch = {
      zone: entry.key,
      target: entry.target,
      get leaving() {
        return watched.leaving
      },
      release: () => {
        watched.released = true
        this.#forget(watched)
      },
      lastTrafficAt: () =>
        watched.traffic === undefined ? Number.NaN : idle.lastActivity(watched.traffic),
      stale: () => {
        const { traffic } = watched
        if (traffic === undefined || !idle.expired(traffic)) return false
        publishIdle(entry.key, traffic, 'use')
        return true
      },
    }
    // Already closed: nothing will happen to it, and its end was not ours to report.
    if ((socket as { closed?: boolean }).closed === true) {
      watched.released = true
      return handle
    }
    const zone = this.#zones.get(entry.key) ?? new Set<Watched>()
    this.#zones.set(entry.key, zone)
    zone.add(watched)
    watched.traffic = this.#idle.track(socket)
    this.#byTraffic.set(watched.traffic, watched)
    let code: string | undefined
    let own = false
    socket.on('error', (error: NodeJS.ErrnoException) => {
      code ??= String(error.code ?? error.name)
      if (options.ownClose?.(error) === true) own = true
    })
    socket.once('close', () => {
      this.#forget(watched)
      if (watched.released || own) return
      this.#report(entry.key, options.busy() ? 'lost-in-flight' : 'idle-close', code ?? 'closed')
    })
    return handle
  }

  /** Tells the watched sockets in `event.zones`, then the listeners, that they should leave. */
  retire(event: RetireEvent, isOut: (key: ZoneKey) => boolean): void {
    for (const key of new Set(event.zones)) {
      const out = event.reason === 'eject' || isOut(key)
      for (const watched of [...(this.#zones.get(key) ?? [])]) {
        const retire = watched.options.retire
        if (watched.released || retire === undefined) continue
        if (watched.leaving === 'out' || (watched.leaving === 'drain' && !out)) continue
        watched.leaving = out ? 'out' : 'drain'
        retire({ reason: event.reason, zone: key, out, busy: watched.options.busy(), event })
      }
    }
    for (const listener of [...this.#listeners]) listener(event)
  }

  /** Closes the lifecycle's timer (the connector closed). */
  close(): void {
    this.#idle.close()
    this.#byTraffic.clear()
  }

  /** After a freeze: idle sockets the path may have forgotten leave before anyone uses them. */
  #retireIdle(expired: readonly Traffic[]): void {
    const leaving: Watched[] = []
    for (const traffic of expired) {
      const watched = this.#byTraffic.get(traffic)
      if (watched === undefined || watched.released || watched.leaving === 'out') continue
      if (watched.options.retire === undefined || watched.options.busy()) continue
      leaving.push(watched)
    }
    if (leaving.length === 0) return
    const event: RetireEvent = {
      reason: 'idle',
      zones: [...new Set(leaving.map((watched) => watched.entry.key))],
    }
    for (const watched of leaving) {
      watched.leaving = 'out'
      if (watched.traffic !== undefined) publishIdle(watched.entry.key, watched.traffic, 'thaw')
      watched.options.retire?.({
        reason: 'idle',
        zone: watched.entry.key,
        out: true,
        busy: false,
        event,
      })
    }
    for (const listener of [...this.#listeners]) listener(event)
  }

  #forget(watched: Watched): void {
    if (watched.traffic !== undefined) {
      this.#idle.untrack(watched.traffic)
      this.#byTraffic.delete(watched.traffic)
      watched.traffic = undefined
    }
    const zone = this.#zones.get(watched.entry.key)
    if (zone === undefined) return
    zone.delete(watched)
    if (zone.size === 0) this.#zones.delete(watched.entry.key)
  }
}

/** One socket found idle past the path's timeout, for `privatelink:connector:path-idle`. */
function publishIdle(zone: ZoneKey, traffic: Traffic, at: 'use' | 'thaw'): void {
  if (!pathIdleChannel.hasSubscribers) return
  pathIdleChannel.publish({ zone, idleMs: traffic.sampledAt - traffic.lastActivity, at })
}
