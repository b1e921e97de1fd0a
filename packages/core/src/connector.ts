import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { invalidOption } from '@privatelink/dns'
import { attemptDelay } from './attempt-delay.js'
import {
  Attempts,
  addressResolver,
  attemptReport,
  type Candidate,
  dialPort,
  failureCode,
  isAbandon,
  type RaceContext,
  raceTcp,
} from './attempts.js'
import { readConnectOptions, tlsChoice, zonesFor } from './connect-plan.js'
import { type AttemptReport, isTimeoutCode, unreachableError } from './connector-errors.js'
import { type ConnectorConfig, resolveConnectorOptions } from './connector-options.js'
import type { ConnectOptions, Connector, ConnectorOptions } from './connector-types.js'
import { backgroundLocality } from './default-locality.js'
import { createDialGuard } from './dial-guard.js'
import { ConnectorEvents } from './events.js'
import type { HealthChecker } from './health-checker.js'
import { hedgeDelay, type LoopMark, loopBusySince } from './hedge-delay.js'
import { type HedgedConnectOptions, hedgedConnect } from './hedged-connect.js'
import { checkOptions } from './options.js'
import { retiredByMove, retiredByReadmission } from './retire-rules.js'
import { type HealthMember, SharedHealth } from './shared-health.js'
import { SocketLifecycle, watchOptionsOf } from './socket-lifecycle.js'
import { isFatalUpgradeError, runUpgrade } from './socket-upgrade.js'
import { TargetRouter } from './target-router.js'
import { abandoned } from './tcp-connect.js'
import { type ConnectorTlsOptions, FATAL_TLS, tlsUpgrade } from './tls-upgrade.js'
import { createUndiciConnect } from './undici-connect.js'
import {
  type HealthEvent,
  type HealthSignal,
  isHealthSignal,
  type ZoneHealth,
} from './zone-health.js'
import { type ZoneKey, zoneKey } from './zone-key.js'
import type { ZoneEntry } from './zone-table.js'
import { ZoneTable } from './zone-table.js'

export type {
  ConnectOptions,
  Connector,
  ConnectorOptions,
  ConnectorTarget,
  HealthCheckOptions,
  ResolvedTarget,
  TargetChangeEvent,
  UndiciConnect,
  UpgradeContext,
  ZoneChangeEvent,
  ZoneStatus,
} from './connector-types.js'
export type { Dial } from './tcp-connect.js'
export type { ConnectorTlsOptions } from './tls-upgrade.js'
export type { HealthSignal } from './zone-health.js'
export { zoneKey } from './zone-key.js'

/** One leg's connection: TCP, then TLS (or the caller's upgrade) on it when the connect has one. */
interface Opened {
  candidate: Candidate
  tcp: Socket
  socket: Socket | TLSSocket
  /** The event loop's state when the handshake began. */
  loop: LoopMark
}

/** The connector's parts, wired once: what connect() orchestrates. */
interface Parts {
  config: ConnectorConfig
  table: ZoneTable
  health: ZoneHealth
  router: TargetRouter
  attempts: Attempts
  checker: HealthChecker
  events: ConnectorEvents
  lifecycle: SocketLifecycle
  race: RaceContext
  stopping: AbortController
  record: (key: ZoneKey, signal: HealthSignal, cause?: string) => void
  /** performance.now() of each zone's last completed handshake, TLS or an upgrade. */
  lastHandshake: Map<ZoneKey, number>
  /** Held here so the shared state's weak reference to it lives as long as the connector. */
  member: HealthMember
  /** Leaves the endpoint's shared health (idempotent). */
  release: () => void
}

/** One connect() in progress: what its legs share. */
interface Run {
  port: number
  signal: AbortSignal | undefined
  upgrade: ConnectOptions['upgrade']
  tlsIn: (entry: ZoneEntry) => ConnectorTlsOptions | undefined
  zones: readonly ZoneEntry[]
  reports: AttemptReport[]
  started: number
}

/** See `handOut`: a handed-out socket never emits an unhandled 'error'. */
const ignoreSocketError = (): void => {}

/** One connector per endpoint and port: zone preference, racing and zone health, written once. */
export function createConnector(options: ConnectorOptions): Connector {
  // Any value that throws when read (a revoked Proxy, a throwing getter) is ERR_INVALID_OPTION.
  return checkOptions('options', options, () => {
    const parts = assemble(resolveConnectorOptions(options))
    const { config, stopping, router } = parts
    if (config.locality !== null && config.locality !== undefined)
      router.setLocality(config.locality)
    else if (config.locality === undefined)
      router.setLocality(
        backgroundLocality((locality) => {
          router.setLocality(locality)
          ownZoneLearnt(parts)
        }, stopping.signal),
      )
    return connectorOf(parts)
  })
}

/**
 * The own zone became known after sockets were opened by measured connect time: those in zones
 * now ranked after it leave, as on a readmission of the own zone (else a pool keeps reusing them
 * and sends its bytes across zones for as long as they live).
 */
function ownZoneLearnt(parts: Parts): void {
  const { router, table, lifecycle, health, config } = parts
  const own = router.ownZone()
  const entry = own === undefined ? undefined : table.lookup(own)
  if (entry === undefined || !lifecycle.listening) return
  const ranking = router.route().zones.map((zone) => zone.key)
  const zones = retiredByReadmission(entry.key, ranking, table.keys)
  if (zones.length > 0)
    lifecycle.retire({ reason: 'readmit', zone: entry.key, zones }, (key) =>
      health.isEjected(key, config.clock()),
    )
}

/** Builds the parts and wires what each tells the others. */
function assemble(config: ConnectorConfig): Parts {
  const { targets, clock } = config
  const table = new ZoneTable(targets)
  // Zone health and its checks are the endpoint's, shared by every connector of it in the process.
  const registry = config.healthRegistry
  const lease =
    registry === false
      ? { state: new SharedHealth(config), release: () => {} }
      : registry.acquire(
          registry.keyOf(config),
          table,
          () => new SharedHealth(config),
          (state) => state.dispose(),
        )
  const shared = lease.state
  const { health, checker } = shared
  const events = new ConnectorEvents()
  const lifecycle = new SocketLifecycle((key, signal, cause) => shared.record(key, signal, cause), {
    clock,
    pathIdleTimeoutMs: config.pathIdleTimeoutMs,
    keepAlive: config.keepAliveDelayMs !== false,
  })
  const stopping = new AbortController()
  const attempts = new Attempts({
    dial: config.dial,
    guard: createDialGuard(
      table.entries.map((entry) => entry.zone),
      config.allowedRanges,
    ),
    health,
    resolveAddress: addressResolver(config.resolver, config.allowedRanges, targets),
  })
  const isOut = (key: ZoneKey) => health.isEjected(key, clock())
  const publish = (event: HealthEvent, cause: string | undefined, first: boolean) => {
    const entry = table.byKey(event.key)
    if (entry === undefined) return
    if (event.type === 'eject') attempts.abandonZone(entry.key, abandoned('zone ejected'))
    events.zoneChanged(event, entry, cause, first)
    if (!lifecycle.listening) return
    const zones =
      event.type === 'eject' ? [entry.key] : retiredByReadmission(entry.key, ranking(), table.keys)
    if (zones.length > 0) lifecycle.retire({ reason: event.type, zone: entry.key, zones }, isOut)
  }
  const router = new TargetRouter({
    targets,
    table,
    health,
    clock,
    checksOn: config.healthCheck.intervalMs > 0,
    readmitted: (event) => shared.publish(event),
    moved: (move) => {
      events.targetMoved(move, table.primary.endpoint.id)
      if (!lifecycle.listening) return
      const active = table.inTarget(router.active).map((entry) => entry.key)
      const zones = retiredByMove(active, table.keys)
      if (zones.length > 0) lifecycle.retire({ reason: 'target', zones, move }, isOut)
    },
  })
  const ranking = () => router.route().zones.map((entry) => entry.key)
  const member: HealthMember = {
    changed(event, cause, first) {
      publish(event, cause, first)
      // The last zone of the active target out: fail over now, not at the next connect.
      if (event.type === 'eject' && targets.length > 1) router.route()
    },
    rerouted() {
      router.invalidate()
      router.route()
    },
  }
  const leave = shared.join(member)
  const record = (key: ZoneKey, signal: HealthSignal, cause?: string) =>
    shared.record(key, signal, cause)
  const race: RaceContext = {
    attempts,
    delayFor: (candidate) =>
      config.attemptDelayMs ?? attemptDelay(health.connectMs(candidate.entry.key)),
    connectTimeoutMs: config.connectTimeoutMs,
    endpointIds: targets.map((target) => target.endpoint.id).join(', '),
    record,
    succeeded: (key) => shared.succeeded(key),
  }
  return {
    config,
    table,
    health,
    router,
    attempts,
    checker,
    events,
    lifecycle,
    race,
    stopping,
    record,
    lastHandshake: new Map(),
    member,
    release: () => {
      leave()
      lease.release()
    },
  }
}

/** The Connector object: thin methods over the parts. */
function connectorOf(parts: Parts): Connector {
  const { config, table, health, router, checker, events, lifecycle } = parts
  const connect = (options?: ConnectOptions) => connectWith(parts, options)
  return {
    endpoint: table.primary.endpoint,
    pathIdleTimeoutMs: config.pathIdleTimeoutMs,
    targets: config.targets,
    activeTarget: () => {
      router.route()
      return router.active
    },
    targetOf: (socket) => table.of(socket)?.target,
    onTargetChange: (listener) => events.onTargetChange(listener),
    connect,
    undici: createUndiciConnect(connect, config.tls),
    preferredZones: () => router.route().preferred,
    ownZone: () => router.ownZone(),
    probe: () => checker.probe(),
    zoneOf: (socket) => table.of(socket)?.zone,
    zoneKey: (zone) => table.lookup(zone)?.key ?? zoneKey(zone),
    report(name, signal, cause) {
      if (!isHealthSignal(signal))
        throw invalidOption('signal', 'a HealthSignal such as lost-in-flight', signal)
      if (typeof name !== 'string')
        throw invalidOption('zone', 'a zone key, AZ name or AZ ID', name)
      if (cause !== undefined && typeof cause !== 'string')
        throw invalidOption('cause', 'an error code string', cause)
      const entry = table.find(name)
      if (entry !== undefined) parts.record(entry.key, signal, cause)
    },
    zones: () => {
      const snapshot = health.snapshot(config.clock())
      return table.entries.flatMap(({ key, target, zone }) => {
        const state = snapshot[key]
        if (state === undefined) return []
        const azId = zone.azId ? { azId: zone.azId } : {}
        return [{ zone: key, target: target.name, azName: zone.azName, ...azId, ...state }]
      })
    },
    onZoneChange: (listener) => events.onZoneChange(listener),
    watch(socket, given) {
      const options = checkOptions('watch(options)', given, () => watchOptionsOf(given))
      const entry = table.of(socket)
      if (entry === undefined)
        throw invalidOption('watch(socket)', "a socket from this connector's connect()", socket)
      return lifecycle.watch(socket, entry, options)
    },
    onRetire: (listener) => lifecycle.onRetire(listener),
    close() {
      parts.stopping.abort(abandoned('connector closed'))
      lifecycle.close()
      parts.release()
    },
  }
}

/**
 * One connection: zones in preferred order, TCP raced across them, then TLS or the caller's
 * upgrade on the winner, hedged in another zone when slow.
 */
async function connectWith(parts: Parts, given: ConnectOptions = {}): Promise<Socket | TLSSocket> {
  const options = checkOptions('connect(options)', given, () => readConnectOptions(given))
  const { config, router, checker, table } = parts
  const port = options.port ?? config.port
  // Unknown locality: rank zones by a measured connect time, refreshed rarely, never awaited here.
  if (
    router.ownZone() === undefined &&
    config.probeIntervalMs > 0 &&
    (checker.lastProbe === undefined ||
      config.clock() - checker.lastProbe >= config.probeIntervalMs)
  )
    checker.probe().catch(() => {})
  const tls = tlsChoice(options, config.tls)
  // A port used with an upgrade is checked with the health check's own handshake, not TLS.
  checker.usePort(port, tls.forChecks)
  const run: Run = {
    port,
    signal: options.signal,
    upgrade: options.upgrade,
    tlsIn: tls.inZone,
    zones: zonesFor(options, router.route().race, table, config.targets),
    reports: [],
    started: performance.now(),
  }
  const { opened } = await hedgedConnect(legs(parts, run))
  return handOut(parts, run, opened)
}

/**
 * The legs of one connect. The handshake (TLS, or the caller's upgrade) runs on a TCP winner
 * only: racing it would spread every burst over all zones on a busy CPU. A zone that accepts TCP
 * but no longer answers is what the hedge is for.
 */
function legs(parts: Parts, run: Run): HedgedConnectOptions<ZoneEntry, Opened> {
  const { health, config, lastHandshake } = parts
  const { port, upgrade, reports, zones } = run
  let rounds = 0
  const reportAttempt = ({ candidate }: Opened, code: string) =>
    reports.push(attemptReport(candidate, port, code))
  /** A handshake follows the TCP connect: TLS, or the caller's upgrade. */
  const handshakeIn = (entry: ZoneEntry) => upgrade !== undefined || run.tlsIn(entry) !== undefined
  /** Another handshake with this zone completed since `since`: the zone is alive, this host busy. */
  const shookSince = (entry: ZoneEntry, since: number) =>
    (lastHandshake.get(entry.key) ?? Number.NEGATIVE_INFINITY) >= since
  return {
    zones,
    ...(run.signal ? { signal: run.signal } : {}),
    connect: async (legZones, legSignal) => {
      const won = await raceTcp(parts.race, legZones, port, legSignal, reports, handshakeIn)
      const loop = performance.eventLoopUtilization()
      const { candidate, socket } = won
      return { zone: candidate.entry, opened: { candidate, tcp: socket, socket, loop } }
    },
    handshake: async (entry, leg, legSignal) =>
      handshakeIn(entry) ? handshake(parts, run, entry, leg, legSignal) : leg,
    hedgeDelayMs: (entry) =>
      handshakeIn(entry) ? hedgeDelay(health.handshakeMs(entry.key)) : undefined,
    // Never hedge a burst: the zone completed another handshake meanwhile, the server has
    // answered this one, or the event loop had no time to spare; each says the zone is alive
    // and the slowness is this host's.
    keepWaiting: (entry, leg, startedAt) =>
      shookSince(entry, startedAt) || (leg.tcp.bytesRead ?? 0) > 0 || loopBusySince(leg.loop),
    eligible: (candidates) =>
      candidates.filter((entry) => !health.isEjected(entry.key, config.clock())),
    onHandshakeFailure: (entry, leg, error, startedAt) => {
      const code = failureCode(error)
      if (FATAL_TLS.has(code)) return 'fatal'
      if (upgrade !== undefined && isFatalUpgradeError(error)) return 'fatal'
      reportAttempt(leg, code)
      // Other handshakes with this zone completed while ours waited: the zone is alive and this
      // host is busy (a burst). Neither count it nor leave the zone: try again, boundedly.
      const busy = isTimeoutCode(code) && shookSince(entry, startedAt)
      if (busy && rounds++ < zones.length) return 'retry'
      if (!isAbandon(error) && !busy) parts.record(entry.key, 'connect-failed', code)
      return 'exclude'
    },
    // A hedge won while this handshake was still waiting: slow, not failed.
    onOvertaken: (entry, leg, startedAt) => {
      if (shookSince(entry, startedAt)) return
      reportAttempt(leg, 'slow')
      parts.record(entry.key, 'connect-slow', 'slow')
    },
    exhausted: () => unreachableError(parts.race.endpointIds, port, reports),
    cancelled: () => abandoned('another attempt won'),
    dispose: (leg) => {
      leg.socket.destroy()
      leg.tcp.destroy()
    },
  }
}

/** TLS or the caller's upgrade on a leg's TCP winner; the zone has succeeded once it completes. */
async function handshake(
  parts: Parts,
  run: Run,
  entry: ZoneEntry,
  leg: Opened,
  signal: AbortSignal,
): Promise<Opened> {
  const tls = run.tlsIn(entry)
  const { controller, release } = parts.attempts.attemptIn(entry.key, signal)
  const started = performance.now()
  try {
    let secure: Socket | TLSSocket
    if (run.upgrade !== undefined) {
      const context = { zone: entry.zone, target: entry.target, signal: controller.signal }
      secure = await runUpgrade(run.upgrade, leg.tcp, context)
    } else if (tls !== undefined)
      secure = await tlsUpgrade(leg.tcp, tls, parts.config.tlsTimeoutMs, controller.signal)
    else return leg
    parts.lastHandshake.set(entry.key, performance.now())
    parts.health.recordHandshakeTime(entry.key, performance.now() - started)
    parts.race.succeeded(entry.key)
    return { ...leg, socket: secure }
  } finally {
    release()
  }
}

/** The winner leaves the connector: remembered by zone, counted for health checks, published. */
function handOut(parts: Parts, run: Run, opened: Opened): Socket | TLSSocket {
  const { socket, tcp, candidate } = opened
  const { entry } = candidate
  parts.table.remember(socket, entry)
  // An error between the hand-off and the owner's own listener (undici, pg, ioredis attach
  // theirs a tick or an await later; a TLS record corrupted on the path fails a write at once)
  // must not crash the process: the owner still sees 'error' and 'close'.
  socket.on('error', ignoreSocketError)
  parts.checker.track(socket)
  if (socket !== tcp) {
    parts.table.remember(tcp, entry)
    tcp.on('error', ignoreSocketError)
  }
  const [first] = run.zones
  if (first !== undefined && entry !== first) {
    parts.events.failedOver(() => ({
      endpointId: entry.target.endpoint.id,
      from: first.zone.azName,
      to: entry.zone.azName,
      cause: run.reports.find((r) => r.azName === first.zone.azName)?.code ?? 'slow',
    }))
  }
  parts.events.connected(() => ({
    endpointId: entry.target.endpoint.id,
    azName: entry.zone.azName,
    azId: entry.zone.azId,
    address: candidate.address,
    port: dialPort(entry.zone, run.port),
    durationMs: performance.now() - run.started,
    attempts: run.reports.length + 1,
  }))
  return socket
}
