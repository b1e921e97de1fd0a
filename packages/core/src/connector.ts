import { connect as netConnect, type Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import {
  createAddressMatcher,
  createResolver,
  DEFAULT_ALLOWED_RANGES,
  invalidOption,
  PrivateLinkError,
  type Resolver,
} from '@privatelink/dns'
import { attemptDelay } from './attempt-delay.js'
import {
  type AttemptReport,
  errorCode,
  isTimeoutCode,
  unreachableError,
} from './connector-errors.js'
import { backgroundLocality } from './default-locality.js'
import {
  connectChannel,
  ejectChannel,
  failoverChannel,
  readmitChannel,
  regionFailoverChannel,
  regionReturnChannel,
} from './diagnostics.js'
import { createDialGuard, isDialRefusal } from './dial-guard.js'
import { endpointAllowedRanges } from './endpoint-guard.js'
import { assertEndpoint } from './endpoint-shape.js'
import { hedgeDelay, type LoopMark, loopBusySince } from './hedge-delay.js'
import { hedgedConnect } from './hedged-connect.js'
import type { Endpoint, EndpointZone, Locality } from './model.js'
import {
  checkOptions,
  functionOption,
  integerOption,
  localityOption,
  signalOption,
  stringOption,
} from './options.js'
import { probeTimeout } from './probe-timeout.js'
import { isFatalUpgradeError, runUpgrade } from './socket-upgrade.js'
import { RaceFailedError, staggeredRace } from './staggered-race.js'
import { abandoned, type Dial, tcpConnect } from './tcp-connect.js'
import { type ConnectorTlsOptions, FATAL_TLS, tlsUpgrade, validateTls } from './tls-upgrade.js'
import {
  type EjectionOptions,
  type HealthEvent,
  type HealthSignal,
  isHealthSignal,
  ZoneHealth,
  type ZoneHealthSnapshot,
} from './zone-health.js'
import { findOwnZone, orderZonesUnchecked } from './zone-order.js'

export type { Dial } from './tcp-connect.js'
export type { ConnectorTlsOptions } from './tls-upgrade.js'

/**
 * Active health checks: while the connector has sockets open, every zone not ejected gets a TCP
 * connect (plus TLS on a port used with TLS, then `handshake` when given), and `unhealthyThreshold`
 * failures in a row eject it. Off with `profile: 'lambda'`. Each option is checked at construction.
 */
export interface HealthCheckOptions {
  /**
   * Every zone gets a TCP connect (plus a TLS handshake on TLS ports) this often while the
   * connector has open sockets: how a zone that dies under keep-alive traffic is found without
   * waiting for a request to time out. 0 turns it off. @default 2000
   */
  intervalMs?: number
  /**
   * A check that takes longer fails (unless the event loop was too busy to tell). In-region
   * connects take a millisecond or two. @default adaptive: 10x the zone's smoothed connect plus
   * handshake time, 300 to 1000 ms; 1000 until measured
   */
  timeoutMs?: number
  /** Failed checks in a row that eject a zone (a failed check is repeated at once). @default 2 */
  unhealthyThreshold?: number
  /**
   * A protocol step after TCP (and TLS) that a live service answers, for services that do their
   * own TLS (PostgreSQL's SSLRequest): a zone that accepts TCP but no longer answers fails it.
   * Must settle within the check's time; rejecting fails the check. @default none
   */
  handshake?: (
    socket: Socket | TLSSocket,
    context: { zone: EndpointZone; target: ResolvedTarget; signal: AbortSignal },
  ) => Promise<void>
}

/** One priority group: an endpoint with its own naming and signing region (Envoy's priority levels). */
export interface ConnectorTarget {
  /**
   * This group's endpoint (discoverEndpoint or endpointFromConfig), with at least one zone. Past
   * the first target, its zone keys are prefixed with the endpoint ID (`vpce-.../use1-az1`).
   */
  endpoint: Endpoint
  /** A label for events and zones(). @default the service's region (`endpoint.serviceRegion ?? endpoint.region`) */
  name?: string
  /** TLS for this target (its service name may differ by region). @default the connector's `tls` */
  tls?: ConnectorTlsOptions
  /** The region tokens and SigV4 are signed for. @default `endpoint.serviceRegion ?? endpoint.region` */
  region?: string
}

/**
 * A ConnectorTarget with its defaults filled in: what `connector.targets`, `activeTarget()`,
 * `targetOf()` and an upgrade's or health check's context give.
 */
export interface ResolvedTarget {
  /** The position in the priority order: 0 is the target traffic prefers. */
  index: number
  /**
   * The target's `name`, else its signing region; a name an earlier target already has gets
   * `#<index>` appended, so names are unique. Events, zones() and `connect({ target })` use it.
   */
  name: string
  /** The endpoint this target's connections dial. */
  endpoint: Endpoint
  /**
   * The region tokens and SigV4 are signed for: the target's `region`, else
   * `endpoint.serviceRegion ?? endpoint.region`.
   */
  region: string
  /**
   * The target's own TLS options, when it has them; without them its connections use the
   * connector's `tls`. A connect's own `tls` overrides both.
   */
  tls?: ConnectorTlsOptions
}

/** Traffic moved between priority groups: `failover` when every zone of the active one is out, `return` when a better one passed its health checks. */
export interface TargetChangeEvent {
  /**
   * `failover`: to a lower-priority target, every zone of the active one being ejected; `return`:
   * back to a higher-priority one, once one of its zones is in rotation and (with health checks
   * on) has passed two checks in a row.
   */
  type: 'failover' | 'return'
  /** The `name` of the target traffic left. */
  from: string
  /** The `name` of the target new connections now go to first. */
  to: string
}

/**
 * Options of createConnector: the endpoint (or targets) and port, locality, TLS, timing, zone
 * health and the seams (resolver, clock, dial). Checked at construction: a bad value throws
 * `ERR_INVALID_OPTION` naming the option.
 */
export interface ConnectorOptions {
  /**
   * The endpoint; or an ordered list of targets (priority groups): traffic stays in the first while
   * any of its zones is healthy, moves to the next when all are out, and returns once the first
   * passes health checks again.
   */
  endpoint: Endpoint | readonly ConnectorTarget[]
  /**
   * Where this code runs; own zone first. `null`: unknown, zones ranked by measured connect time.
   * @default detected: PRIVATELINK_AZ_ID / PRIVATELINK_AZ at once; the Lambda, ECS or EC2 metadata
   * service in the background where the environment has one (never awaited by a connect)
   */
  locality?: Locality | null
  /** The service port (the NLB listener port). */
  port: number
  /** Wrap every connection in TLS. */
  tls?: ConnectorTlsOptions
  /**
   * 'lambda': no active health checks and no background probes (a frozen sandbox must not wake
   * for them, and it holds one or two connections). @default 'default'
   */
  profile?: 'default' | 'lambda'
  /**
   * Start the next zone after this long without a TCP connection (RFC 8305's "Connection Attempt
   * Delay"). @default adaptive: 3x the zone's smoothed connect time, 10 to 250 ms; 250 until measured
   */
  attemptDelayMs?: number
  /** Give up on one TCP connect after this long. @default 10000 */
  connectTimeoutMs?: number
  /**
   * Give up on a TLS handshake after this long; the same connect() then tries the next zone. Long
   * before, a handshake still pending is hedged in another zone (see the README). @default 10000
   */
  tlsTimeoutMs?: number
  /** Outlier ejection of failing zones. */
  ejection?: EjectionOptions
  /**
   * Active health checks of every zone while sockets are open; with `profile: 'lambda'` they never
   * run. @default each field's default: a check every 2000 ms
   */
  healthCheck?: HealthCheckOptions
  /** Resolves zonal DNS names for zones without addresses. @default a private-only resolver */
  resolver?: Resolver
  /** Drives ejection windows (not durations). @default Date.now */
  clock?: () => number
  /**
   * Opens the TCP socket (tests and custom transports). It is only ever handed an address the
   * guard allowed (see `allowedRanges`). @default net.connect
   */
  dial?: Dial
  /**
   * CIDRs an address may fall in to be dialled, wherever it came from (a zone's `addresses`, a
   * zonal name's DNS answer); each zone's own `cidrs` (its subnets, no wider than IPv4 /16 or
   * IPv6 /44) are allowed besides. Anything else is refused with ERR_ADDRESS_NOT_ALLOWED before
   * a socket exists. @default RFC 1918, 100.64.0.0/10, fc00::/7, 127.0.0.0/8 and ::1/128
   */
  allowedRanges?: readonly string[]
  /**
   * With no known locality, zones are ranked by TCP connect time measured by a check of every
   * zone, started in the background on first use and repeated this often. 0 turns it off.
   * @default 600000
   */
  probeIntervalMs?: number
}

/**
 * Options of one `connector.connect()`: where to connect (port, zone, target) and how (TLS or an
 * upgrade). What is left out comes from the connector's options.
 */
export interface ConnectOptions {
  /**
   * The listener port for this connection, dialled as the zone's `portMap` maps it. Health checks
   * use the first port connected with. @default the connector's `port`
   */
  port?: number
  /** The caller's abort: the connect rejects with `signal.reason`. */
  signal?: AbortSignal
  /** Try this zone (key, AZ name or ID) first, if it is not ejected; the rest follow in the usual order. */
  preferZone?: string
  /** Dial this zone only (key, AZ name or ID), ejected or not: no race. */
  onlyZone?: string
  /** Dial this target's zones only (its name or index), e.g. the one a token was signed for. */
  target?: string | number
  /**
   * Overrides the connector's TLS options for this connection; `false` for plain TCP. With
   * `upgrade`, leave it out or pass `false`: the upgrade does the TLS.
   */
  tls?: ConnectorTlsOptions | false
  /**
   * A protocol step run on the TCP winner in place of the TLS handshake, for services that speak
   * before TLS (PostgreSQL's SSLRequest): resolve with the socket to hand out (a TLSSocket over
   * `socket`, or `socket` itself). It is treated as the handshake is: timed into the zone's
   * smoothed handshake time, hedged in another zone while still pending after the hedge delay
   * (see the README), and the zone has succeeded only once it resolves, not on the TCP connect
   * under it. A raw socket error (ECONNRESET, ETIMEDOUT, EPIPE...) or a PrivateLinkError coded
   * ERR_TLS_HANDSHAKE counts `connect-failed` against the zone and the same connect tries the
   * next one; any other PrivateLinkError (a certificate name or trust error, or the upgrade's own
   * typed error such as "the service refused TLS") ends the connect with it, as no other zone
   * fixes configuration. The upgrade owns its deadline (`tlsTimeoutMs` does not apply) and must
   * settle when `context.signal` aborts (another attempt won, the zone was ejected, the caller
   * gave up); the connector then destroys the socket and never counts the abort. Not with `tls`.
   * @default none: the connector's TLS (or plain TCP)
   */
  upgrade?: (socket: Socket, context: UpgradeContext) => Promise<Socket | TLSSocket>
}

/** What `ConnectOptions.upgrade` is given with the socket: where it landed and when to stop. */
export interface UpgradeContext {
  /** The zone the TCP connect reached. */
  zone: EndpointZone
  /** The target (priority group) of that zone: its TLS name may differ from the others'. */
  target: ResolvedTarget
  /** Aborts when this attempt is abandoned; the upgrade must then reject and stop. */
  signal: AbortSignal
}

/** What undici's `connect` option calls (structurally undici's `buildConnector.connector`). */
export type UndiciConnect = (
  options: {
    hostname: string
    host?: string
    protocol: string
    port: string
    servername?: string
    localAddress?: string | null
  },
  callback: (...args: [null, Socket | TLSSocket] | [Error, null]) => void,
) => void

export interface ZoneStatus extends ZoneHealthSnapshot {
  /** The zone key: AZ ID when known, else the AZ name (prefixed by the endpoint ID past the first target). */
  zone: string
  /** The target (priority group) the zone belongs to. */
  target: string
  /** The AZ name in the endpoint owner's account, e.g. `us-east-1a`. */
  azName: string
  /** The AZ ID, e.g. `use1-az4`, when the endpoint knows it. */
  azId?: string
}

/** A zone left or rejoined rotation: what `onZoneChange` listeners get, when it happens. */
export interface ZoneChangeEvent {
  /**
   * `eject`: out of rotation after failures in a row (connects, lost requests, health checks) for
   * a backoff that grows with each incident (EjectionOptions); `readmit`: back in, once its
   * ejection ran out (seen at the next connect or health check) or it connected while ejected.
   */
  type: 'eject' | 'readmit'
  /** The zone key: AZ ID when known, else the AZ name. */
  zone: string
  /** The AZ name in the endpoint owner's account, e.g. `us-east-1a`. */
  azName: string
  /** The AZ ID, e.g. `use1-az4`, when the endpoint knows it. */
  azId?: string
  /** On eject: the signal that ejected it. */
  signal?: HealthSignal
}

export type { HealthSignal } from './zone-health.js'

/**
 * What createConnector returns: connections to one endpoint (or an ordered list of targets) that
 * prefer the own zone, race the others and leave failing zones out. Adapters share one per
 * endpoint and port, so every connection feeds the same zone health.
 */
export interface Connector {
  /** The first target's endpoint. */
  readonly endpoint: Endpoint
  /** Every target, in priority order (one when a single endpoint was given). */
  readonly targets: readonly ResolvedTarget[]
  /** The target new connections go to first. */
  activeTarget(): ResolvedTarget
  /** The target a socket from this connector was opened in. */
  targetOf(socket: Socket): ResolvedTarget | undefined
  /**
   * Moves between targets (priority groups): `failover` and `return`. Returns a function that
   * removes the listener.
   */
  onTargetChange(listener: (event: TargetChangeEvent) => void): () => void
  /**
   * Opens one connection: zones in preferred order, TCP raced across them (the next starts after
   * the attempt delay), then TLS or the `upgrade` on the winner, hedged in another zone when slow.
   * Resolves with a TLSSocket with TLS, else the TCP socket. Rejects with ERR_ENDPOINT_UNREACHABLE
   * when every zone failed (`details.attempts`: AttemptReport[]), or with the ERR_DNS_* /
   * ERR_TLS_* error every zone shared; a certificate error (ERR_TLS_NAME_MISMATCH,
   * ERR_TLS_UNTRUSTED) ends the connect at once, as no other zone fixes it.
   */
  connect(options?: ConnectOptions): Promise<Socket | TLSSocket>
  /** For undici's `connect` option: plain TCP for http:, TLS with undici's servername for https:. */
  readonly undici: UndiciConnect
  /** Own zone first, then the rest: the order the next connect will try (ejected zones left out). */
  preferredZones(): readonly EndpointZone[]
  /** The zone this code runs in, once known. */
  ownZone(): EndpointZone | undefined
  /**
   * Every zone of every target with its health now: ejection, failure streaks, backoff level,
   * smoothed connect time. Targets in priority order, each endpoint's zones in its own order.
   */
  zones(): ZoneStatus[]
  /**
   * Checks every zone that is not ejected at once: a TCP connect, plus a TLS handshake on a port
   * used with TLS. Returns ms, or the error code. Feeds zone health and the ranking.
   */
  probe(): Promise<Record<string, number | string>>
  /** The zone a socket from this connector was opened in. */
  zoneOf(socket: Socket): EndpointZone | undefined
  /** The zone key used everywhere (events, pools, zones()): AZ ID when known, else AZ name. */
  zoneKey(zone: EndpointZone): string
  /** Feeds zone health from an adapter. `zone` may be a key, an AZ name or an AZ ID. */
  report(zone: string, signal: HealthSignal, cause?: string): void
  /** Zone ejections and readmissions (adapters close or retire sockets on them). */
  onZoneChange(listener: (event: ZoneChangeEvent) => void): () => void
  /** Stops health checks and background locality detection. Idempotent. */
  close(): void
}

/** One leg's connection: TCP, then TLS (or the caller's upgrade) on it when the connect has one. */
interface Opened {
  candidate: Candidate
  tcp: Socket
  socket: Socket | TLSSocket
  /** The event loop's state when the handshake began. */
  loop: LoopMark
}

interface Candidate {
  zone: EndpointZone
  key: string
  /** Undefined: resolve the zone's DNS name first. */
  address: string | undefined
}

/** AZ ID when known (the same physical zone in every account), else the AZ name. */
export const zoneKey = (zone: EndpointZone): string => zone.azId ?? zone.azName

/** See `track`: a handed-out socket never emits an unhandled 'error'. */
const ignoreSocketError = (): void => {}

/** One connector per endpoint and port: zone preference, racing and zone health, written once. */
export function createConnector(options: ConnectorOptions): Connector {
  // Any value that throws when read (a revoked Proxy, a throwing getter) is ERR_INVALID_OPTION.
  return checkOptions('options', options, () => buildConnector(options))
}

function buildConnector(options: ConnectorOptions): Connector {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object', options)
  const targets = resolveTargets(options.endpoint)
  const endpoint = targets[0]!.endpoint
  const multi = targets.length > 1
  const defaultPort = integerOption('port', options.port, Number.NaN, 1)
  if (Number.isNaN(defaultPort) || defaultPort > 65_535)
    throw invalidOption('port', 'an integer from 1 to 65535', options.port)
  if (
    options.profile !== undefined &&
    options.profile !== 'default' &&
    options.profile !== 'lambda'
  )
    throw invalidOption('profile', "'default' or 'lambda'", options.profile)
  const lambda = options.profile === 'lambda'
  const fixedDelayMs =
    options.attemptDelayMs === undefined
      ? undefined
      : integerOption('attemptDelayMs', options.attemptDelayMs, 0, 0)
  const connectTimeoutMs = integerOption('connectTimeoutMs', options.connectTimeoutMs, 10_000, 1)
  const tlsTimeoutMs = integerOption('tlsTimeoutMs', options.tlsTimeoutMs, 10_000, 1)
  const clock = functionOption('clock', options.clock, Date.now)
  const dial = functionOption<Dial>('dial', options.dial, (target) =>
    netConnect({ ...target, noDelay: true }),
  )
  const allowedRanges = rangesOption(options.allowedRanges)
  const ejection = options.ejection ?? {}
  const check = options.healthCheck ?? {}
  if (typeof ejection !== 'object' || ejection === null)
    throw invalidOption('ejection', 'an object', ejection)
  if (typeof check !== 'object' || check === null)
    throw invalidOption('healthCheck', 'an object', check)
  const maxEjectedPercent = integerOption(
    'ejection.maxEjectedPercent',
    ejection.maxEjectedPercent,
    50,
    0,
  )
  if (maxEjectedPercent > 100)
    throw invalidOption('ejection.maxEjectedPercent', 'an integer from 0 to 100', maxEjectedPercent)
  const healthIntervalMs = lambda
    ? 0
    : integerOption('healthCheck.intervalMs', check.intervalMs, 2_000, 0)
  // Unset: adaptive per zone (probe-timeout.ts).
  const fixedHealthTimeoutMs =
    check.timeoutMs === undefined
      ? undefined
      : integerOption('healthCheck.timeoutMs', check.timeoutMs, 1_000, 1)
  const handshake = functionOption<NonNullable<HealthCheckOptions['handshake']>>(
    'healthCheck.handshake',
    check.handshake,
    async () => {},
  )
  const hasHandshake = check.handshake !== undefined
  // Zones of every target, in priority order; keys stay unique when two targets share AZ IDs
  // (two endpoints in one region, one of them cross-region).
  const allZones: EndpointZone[] = []
  const keyOf = new Map<EndpointZone, string>()
  const targetOfZone = new Map<EndpointZone, ResolvedTarget>()
  for (const target of targets) {
    for (const zone of target.endpoint.zones) {
      allZones.push(zone)
      keyOf.set(zone, target.index === 0 ? zoneKey(zone) : `${target.endpoint.id}/${zoneKey(zone)}`)
      targetOfZone.set(zone, target)
    }
  }
  const keyFor = (zone: EndpointZone) => keyOf.get(zone) ?? zoneKey(zone)
  const label = (zone: EndpointZone) =>
    targetOfZone.get(zone)!.index === 0
      ? zone.azName
      : `${targetOfZone.get(zone)!.name}/${zone.azName}`
  const keys = allZones.map(keyFor)
  const dialGuard = createDialGuard(allZones, allowedRanges)
  const health = new ZoneHealth(keys, {
    baseMs: integerOption('ejection.baseMs', ejection.baseMs, 1_000, 1),
    maxMs: integerOption('ejection.maxMs', ejection.maxMs, 60_000, 1),
    consecutiveFailures: integerOption(
      'ejection.consecutiveFailures',
      ejection.consecutiveFailures,
      3,
      1,
    ),
    maxEjectedPercent,
    decayMs: integerOption('ejection.decayMs', ejection.decayMs, 30_000, 1),
    unhealthyThreshold: integerOption(
      'healthCheck.unhealthyThreshold',
      check.unhealthyThreshold,
      2,
      1,
    ),
  })
  validateTls(options.tls, 'tls')
  for (const target of targets) validateTls(target.tls, `endpoint[${target.index}].tls`)
  const probeIntervalMs = lambda
    ? 0
    : integerOption('probeIntervalMs', options.probeIntervalMs, 600_000, 0)
  let resolver = resolverOption(options.resolver)
  const locality =
    options.locality === undefined || options.locality === null
      ? options.locality
      : localityOption('locality', options.locality)
  const stopping = new AbortController()

  // The own zone of each target: one locality, matched by AZ ID in each endpoint.
  let owns: (EndpointZone | undefined)[] = targets.map(() => undefined)
  let ownVersion = 0
  const setLocality = (locality: Locality | undefined) => {
    owns = targets.map((target) => findOwnZone(target.endpoint.zones, locality))
    ownVersion++
  }
  if (locality !== null && locality !== undefined) setLocality(locality)
  else if (locality === undefined) setLocality(backgroundLocality(setLocality, stopping.signal))

  const listeners = new Set<(event: ZoneChangeEvent) => void>()
  const targetListeners = new Set<(event: TargetChangeEvent) => void>()
  const byKey = new Map(allZones.map((zone) => [keyFor(zone), zone]))
  const sockets = new WeakMap<Socket, EndpointZone>()
  /** Attempts in flight per zone, abandoned when their zone is ejected. */
  const pending = new Map<string, Set<AbortController>>()
  /** When each zone last completed a TCP connect (performance.now): proof it is alive. */
  const lastConnected = new Map<string, number>()
  /** When each zone last completed a handshake, TLS or an upgrade (performance.now). */
  const lastHandshake = new Map<string, number>()

  const findZone = (name: string): EndpointZone | undefined =>
    byKey.get(name) ?? allZones.find((z) => z.azName === name || z.azId === name)
  const findTarget = (name: string | number): ResolvedTarget | undefined =>
    typeof name === 'number' ? targets[name] : targets.find((t) => t.name === name)

  const publish = (event: HealthEvent, cause?: string) => {
    const zone = byKey.get(event.key)!
    const base = {
      endpointId: targetOfZone.get(zone)!.endpoint.id,
      zone: event.key,
      azName: zone.azName,
      ...(zone.azId ? { azId: zone.azId } : {}),
    }
    if (event.type === 'eject') {
      for (const controller of pending.get(event.key) ?? [])
        controller.abort(abandoned('zone ejected'))
      if (ejectChannel.hasSubscribers) {
        ejectChannel.publish({
          ...base,
          signal: event.signal,
          cause: cause ?? event.signal,
          level: event.level,
          untilMs: event.untilMs,
        })
      }
    } else if (readmitChannel.hasSubscribers) readmitChannel.publish(base)
    const change: ZoneChangeEvent = {
      type: event.type,
      zone: event.key,
      azName: zone.azName,
      ...(zone.azId ? { azId: zone.azId } : {}),
      ...(event.type === 'eject' ? { signal: event.signal } : {}),
    }
    for (const listener of listeners) listener(change)
  }
  const record = (key: string, signal: HealthSignal, cause?: string) => {
    const event = health.record(key, signal, clock())
    if (event === undefined) return
    publish(event, cause)
    // The last zone of the active target out: fail over now, not at the next connect.
    if (multi) order()
  }
  const succeeded = (key: string, probe = false) => {
    const event = health.recordSuccess(key, clock(), probe)
    if (event !== undefined) publish(event)
  }

  // Called once per HTTP request by the http adapter: recomputed only when health changed, an
  // ejection ran out or the own zone became known.
  let cached:
    | {
        zones: readonly EndpointZone[]
        race: readonly EndpointZone[]
        version: number
        own: number
        validUntil: number
      }
    | undefined
  let active = 0
  const setActive = (next: number) => {
    if (next === active) return
    const event: TargetChangeEvent = {
      type: next > active ? 'failover' : 'return',
      from: targets[active]!.name,
      to: targets[next]!.name,
    }
    active = next
    const channel = event.type === 'failover' ? regionFailoverChannel : regionReturnChannel
    if (channel.hasSubscribers) channel.publish({ endpointId: endpoint.id, ...event })
    for (const listener of targetListeners) listener(event)
  }
  // With health checks on, a group that was down comes back only after one of its zones passed
  // two checks in a row: a region flapping at the ejection's edge does not drag traffic back.
  const returnReady = (group: ResolvedTarget, now: number) =>
    group.endpoint.zones.some(
      (zone) =>
        !health.isEjected(keyFor(zone), now) &&
        (healthIntervalMs === 0 || health.probePasses(keyFor(zone)) >= 2),
    )
  const order = () => {
    const now = clock()
    if (
      cached !== undefined &&
      cached.version === health.version &&
      cached.own === ownVersion &&
      now < cached.validUntil
    )
      return cached
    for (const event of health.readmitExpired(now)) publish(event)
    const groups = targets.map((target) => {
      const ordered = orderZonesUnchecked(target.endpoint.zones, owns[target.index], (zone) =>
        health.connectMs(keyFor(zone)),
      )
      return { ordered, eligible: ordered.filter((zone) => !health.isEjected(keyFor(zone), now)) }
    })
    if (multi) {
      // Stay while any zone of the active group is in; fail over to the next group that has one.
      if (groups[active]!.eligible.length === 0) {
        const next = groups.findIndex((g, i) => i !== active && g.eligible.length > 0)
        if (next >= 0) setActive(next)
      } else {
        const better = targets.findIndex((t) => t.index < active && returnReady(t, now))
        if (better >= 0) setActive(better)
      }
    }
    const priority = [active, ...targets.map((t) => t.index).filter((i) => i !== active)]
    const eligible = priority.flatMap((i) => groups[i]!.eligible)
    const ordered = priority.flatMap((i) => groups[i]!.ordered)
    // Panic routing: with every zone ejected, trying them all beats failing fast.
    const zones = Object.freeze(eligible.length > 0 ? eligible : ordered)
    // Ejected zones stay in the race as a last resort, after every eligible one.
    const race = Object.freeze([...zones, ...ordered.filter((zone) => !zones.includes(zone))])
    cached = {
      zones,
      race,
      version: health.version,
      own: ownVersion,
      validUntil: health.nextExpiry(now),
    }
    return cached
  }
  const preferredZones = (): readonly EndpointZone[] => order().zones

  const delayFor = (candidate: Candidate): number => {
    if (fixedDelayMs !== undefined) return fixedDelayMs
    return attemptDelay(health.connectMs(candidate.key))
  }

  const resolveAddress = async (candidate: Candidate): Promise<string> => {
    if (candidate.address !== undefined) return candidate.address
    // The private defaults, plus what the endpoints say is theirs (a dual-stack endpoint's
    // subnets and ENI addresses are global unicast IPv6, outside the defaults).
    resolver ??= createResolver({
      allowedRanges: [
        ...new Set([
          ...DEFAULT_ALLOWED_RANGES,
          ...(allowedRanges ?? []),
          ...targets.flatMap((target) => endpointAllowedRanges(target.endpoint)),
        ]),
      ],
    })
    const resolution = await resolver.resolve(candidate.zone.dnsName!)
    return resolution.addresses[0]!.address
  }

  const dialPort = (zone: EndpointZone, port: number) => zone.portMap?.[String(port)] ?? port
  /** What one failed attempt says in ERR_ENDPOINT_UNREACHABLE's details. */
  const attemptReport = (candidate: Candidate, port: number, code: string): AttemptReport => ({
    azName: candidate.zone.azName,
    ...(candidate.zone.azId ? { azId: candidate.zone.azId } : {}),
    address: candidate.address ?? candidate.zone.dnsName ?? '',
    port: dialPort(candidate.zone, port),
    code,
  })

  /** An attempt's own abort: the caller's signal, or its zone being ejected while it waits. */
  const attemptIn = (key: string, signal: AbortSignal | undefined) => {
    const controller = new AbortController()
    const onAbort = () => controller.abort(signal?.reason)
    if (signal?.aborted) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
    const inZone = pending.get(key) ?? new Set<AbortController>()
    pending.set(key, inZone)
    inZone.add(controller)
    const release = () => {
      inZone.delete(controller)
      signal?.removeEventListener('abort', onAbort)
    }
    return { controller, release }
  }

  /** One TCP connect in one zone; its time feeds the ranking and the adaptive delay. */
  const openTcp = async (
    candidate: Candidate,
    port: number,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<{ socket: Socket; ms: number }> => {
    const { controller, release } = attemptIn(candidate.key, signal)
    try {
      const host = await resolveAddress(candidate)
      // Decided on the address about to be dialled, wherever it came from: dial never sees a
      // refused one.
      const refused = dialGuard.refusal(
        host,
        candidate.zone,
        targetOfZone.get(candidate.zone)!.endpoint.id,
      )
      if (refused !== undefined) throw refused
      const started = performance.now()
      const socket = await tcpConnect(
        dial,
        { host, port: dialPort(candidate.zone, port) },
        timeoutMs,
        controller.signal,
      )
      const ms = performance.now() - started
      lastConnected.set(candidate.key, performance.now())
      health.recordConnectTime(candidate.key, ms)
      return { socket, ms }
    } finally {
      release()
    }
  }

  const endpointIds = targets.map((t) => t.endpoint.id).join(', ')

  const candidatesOf = (zones: readonly EndpointZone[]): Candidate[] =>
    zones.flatMap((zone): Candidate[] =>
      zone.addresses.length > 0
        ? zone.addresses.map((address) => ({ zone, key: keyFor(zone), address }))
        : [{ zone, key: keyFor(zone), address: undefined }],
    )

  const isAbandon = (error: unknown) => errorCode(error) === 'ABORT_ERR'

  /** Races TCP connects across zones; zone health learns from the outcome once the race is over. */
  const raceTcp = async (
    zones: readonly EndpointZone[],
    port: number,
    signal: AbortSignal | undefined,
    reports: AttemptReport[],
    handshakeFollows: (zone: EndpointZone) => boolean,
  ): Promise<{ socket: Socket; candidate: Candidate }> => {
    const report = (candidate: Candidate, code: string) =>
      reports.push(attemptReport(candidate, port, code))
    const verdicts = new Map<string, { signal: HealthSignal; cause: string }>()
    let winner: Candidate | undefined
    try {
      const won = await staggeredRace(candidatesOf(zones), {
        delayMs: delayFor,
        ...(signal ? { signal } : {}),
        start: async (candidate, raceSignal) =>
          (await openTcp(candidate, port, connectTimeoutMs, raceSignal)).socket,
        dispose: (socket) => socket.destroy(),
        // A zone that completed a connect since this attempt began is alive, only busy (a burst):
        // keep waiting rather than spreading the burst over other zones.
        keepWaiting: (candidate, startedAt) =>
          (lastConnected.get(candidate.key) ?? Number.NEGATIVE_INFINITY) >= startedAt,
        onFailure: (candidate, error, startedAt) => {
          const code = PrivateLinkError.isInstance(error) ? error.code : errorCode(error)
          report(candidate, code)
          // A timeout in a zone that completed other connects meanwhile is this host's
          // congestion (a burst on a busy CPU), not the zone's failure.
          const alive =
            code === 'ETIMEDOUT' &&
            (lastConnected.get(candidate.key) ?? Number.NEGATIVE_INFINITY) >= startedAt
          if (!isAbandon(error) && !alive && !isDialRefusal(code))
            verdicts.set(candidate.key, { signal: 'connect-failed', cause: code })
        },
        onAbandon: (candidate, overtaken, startedAt) => {
          const alive = (lastConnected.get(candidate.key) ?? Number.NEGATIVE_INFINITY) >= startedAt
          if (!overtaken || alive) return
          report(candidate, 'slow')
          if (!verdicts.has(candidate.key))
            verdicts.set(candidate.key, { signal: 'connect-slow', cause: 'slow' })
        },
      })
      winner = won.candidate
      return { socket: won.value, candidate: won.candidate }
    } catch (error) {
      if (error instanceof RaceFailedError) throw unreachableError(endpointIds, port, reports)
      throw error
    } finally {
      // A zone that won does not count its other address's failures against itself.
      for (const [key, verdict] of verdicts)
        if (key !== winner?.key) record(key, verdict.signal, verdict.cause)
      // With a handshake to follow, the zone has succeeded only once it completes: a zone that
      // accepts TCP but no longer answers must not clear its failure streak on every connect.
      if (winner !== undefined && !handshakeFollows(winner.zone)) succeeded(winner.key)
    }
  }

  // Active health checks run while sockets are open; a port's last TLS options make its checks
  // include the handshake (a zone that accepts TCP but no longer answers fails them).
  let open = 0
  const portTls = new Map<number, ConnectorTlsOptions | undefined>()
  let checkTimer: NodeJS.Timeout | undefined
  const track = (socket: Socket, zone: EndpointZone) => {
    sockets.set(socket, zone)
    // An error between the hand-off and the owner's own listener (undici, pg, ioredis attach
    // theirs a tick or an await later; a TLS record corrupted on the path fails a write at once)
    // must not crash the process: the owner still sees 'error' and 'close'.
    socket.on('error', ignoreSocketError)
    open++
    socket.once('close', () => {
      open--
    })
    if (healthIntervalMs > 0 && checkTimer === undefined && !stopping.signal.aborted) {
      checkTimer = setInterval(() => {
        if (open <= 0) {
          clearInterval(checkTimer)
          checkTimer = undefined
          return
        }
        probe().catch(() => {})
      }, healthIntervalMs)
      checkTimer.unref()
    }
  }

  const checkZone = async (zone: EndpointZone, port: number): Promise<number | string> => {
    const candidate: Candidate = { zone, key: keyFor(zone), address: zone.addresses[0] }
    const used = portTls.get(port)
    const tls = used === undefined ? undefined : (targetOfZone.get(zone)!.tls ?? used)
    const started = performance.now()
    const healthTimeoutMs =
      fixedHealthTimeoutMs ??
      probeTimeout(health.connectMs(candidate.key), health.handshakeMs(candidate.key))
    const loop = performance.eventLoopUtilization()
    let socket: Socket | TLSSocket | undefined
    try {
      const opened = await openTcp(candidate, port, healthTimeoutMs, stopping.signal)
      socket = opened.socket
      if (tls !== undefined) {
        const left = Math.max(1, healthTimeoutMs - Math.round(performance.now() - started))
        const handshakeStarted = performance.now()
        socket = await tlsUpgrade(socket, tls, left, stopping.signal)
        health.recordHandshakeTime(candidate.key, performance.now() - handshakeStarted)
      }
      if (hasHandshake) {
        const left = Math.max(1, healthTimeoutMs - Math.round(performance.now() - started))
        const controller = new AbortController()
        const onStop = () => controller.abort(stopping.signal.reason)
        stopping.signal.addEventListener('abort', onStop, { once: true })
        let timer: NodeJS.Timeout | undefined
        try {
          await Promise.race([
            handshake(socket, { zone, target: targetOfZone.get(zone)!, signal: controller.signal }),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                const error = Object.assign(new Error('health-check handshake timed out'), {
                  code: 'ETIMEDOUT',
                })
                controller.abort(error)
                reject(error)
              }, left)
            }),
          ])
        } finally {
          clearTimeout(timer)
          stopping.signal.removeEventListener('abort', onStop)
        }
      }
      return Math.round((performance.now() - started) * 1000) / 1000
    } catch (error) {
      const code = PrivateLinkError.isInstance(error) ? error.code : errorCode(error)
      // A timeout that fired far too late, or while the event loop had no time to spare, says
      // this host was busy, not that the zone is down.
      if (
        isTimeoutCode(code) &&
        (performance.now() - started > healthTimeoutMs * 1.5 || loopBusySince(loop))
      )
        return 'inconclusive'
      return code
    } finally {
      socket?.destroy()
    }
  }

  let lastProbe: number | undefined
  let probing: Promise<Record<string, number | string>> | undefined
  const probe = (): Promise<Record<string, number | string>> => {
    probing ??= (async () => {
      lastProbe = clock()
      for (const event of health.readmitExpired(clock())) publish(event)
      const port = [...portTls.keys()][0] ?? defaultPort
      const zones = allZones.filter((zone) => !health.isEjected(keyFor(zone), clock()))
      const results = new Map<EndpointZone, number | string>()
      let attempts = zones
      // A failed check is repeated at once, up to the threshold: one lost SYN is not an outage.
      for (let round = 0; round < health.unhealthyThreshold && attempts.length > 0; round++) {
        const outcomes = await Promise.all(
          attempts.map(async (zone) => [zone, await checkZone(zone, port)] as const),
        )
        // Every zone failing at once says more about this host than about the zones.
        const allFailed =
          round === 0 && zones.length > 1 && outcomes.every(([, r]) => typeof r === 'string')
        const isFailure = (r: number | string) =>
          typeof r === 'string' && r !== 'inconclusive' && r !== 'ABORT_ERR' && !isDialRefusal(r)
        // Every zone of a target failing in one round while another target answers is neither
        // this host (another region got through) nor one lost SYN (all its zones failed): the
        // region is out at once, without the repeat, so traffic moves within one check.
        const regionDown = new Set<ResolvedTarget>()
        if (round === 0 && multi)
          for (const target of targets) {
            const own = outcomes.filter(([zone]) => targetOfZone.get(zone) === target)
            if (
              own.length > 0 &&
              own.every(([, r]) => isFailure(r)) &&
              outcomes.some(
                ([zone, r]) => targetOfZone.get(zone) !== target && typeof r === 'number',
              )
            )
              regionDown.add(target)
          }
        const failed: EndpointZone[] = []
        for (const [zone, result] of outcomes) {
          results.set(zone, result)
          const key = keyFor(zone)
          if (typeof result === 'number') succeeded(key, true)
          else if (isFailure(result) && !allFailed) {
            const times = regionDown.has(targetOfZone.get(zone)!) ? health.unhealthyThreshold : 1
            for (let i = 0; i < times && !health.isEjected(key, clock()); i++)
              record(key, 'probe-failed', result)
            if (!health.isEjected(key, clock())) failed.push(zone)
          }
        }
        attempts = failed
      }
      // Passes may let a better target back in: decide now, not at the next connect.
      cached = undefined
      order()
      return Object.fromEntries(
        allZones.map((zone) => [label(zone), results.get(zone) ?? 'ejected']),
      )
    })().finally(() => {
      probing = undefined
    })
    return probing
  }

  async function connect(given: ConnectOptions = {}): Promise<Socket | TLSSocket> {
    const connectOptions = checkOptions('connect(options)', given, () => connectOptionsOf(given))
    const port = connectOptions.port ?? defaultPort
    const signal = connectOptions.signal
    const upgrade = connectOptions.upgrade
    if (upgrade !== undefined) {
      if (typeof upgrade !== 'function')
        throw invalidOption(
          'connect({ upgrade })',
          'a function (socket, { zone, target, signal }) => Promise<Socket>',
          upgrade,
        )
      if (connectOptions.tls !== undefined && connectOptions.tls !== false)
        throw invalidOption(
          'connect({ tls })',
          'nothing or false with upgrade (the upgrade does the TLS)',
          connectOptions.tls,
        )
    }
    // Unknown locality: rank zones by a measured connect time, refreshed rarely, never awaited here.
    if (
      owns[active] === undefined &&
      probeIntervalMs > 0 &&
      (lastProbe === undefined || clock() - lastProbe >= probeIntervalMs)
    ) {
      probe().catch(() => {})
    }
    if (connectOptions.tls) validateTls(connectOptions.tls, 'connect({ tls })')
    const tlsFor = (zone: EndpointZone) =>
      connectOptions.tls === false || upgrade !== undefined
        ? undefined
        : (connectOptions.tls ?? targetOfZone.get(zone)!.tls ?? options.tls)
    // A port used with an upgrade is checked with the health check's own handshake, not TLS.
    const tls =
      upgrade !== undefined
        ? undefined
        : connectOptions.tls === undefined
          ? options.tls
          : connectOptions.tls || undefined
    if (!portTls.has(port) || tls !== undefined) portTls.set(port, tls)
    let zones = order().race
    if (connectOptions.target !== undefined) {
      const target = findTarget(connectOptions.target)
      if (target === undefined)
        throw invalidOption(
          'target',
          `one of ${targets.map((t) => t.name).join(', ')}`,
          connectOptions.target,
        )
      zones = zones.filter((zone) => targetOfZone.get(zone) === target)
    }
    if (connectOptions.onlyZone !== undefined) {
      const only = findZone(connectOptions.onlyZone)
      if (only === undefined)
        throw invalidOption('onlyZone', `a zone of ${endpoint.id}`, connectOptions.onlyZone)
      zones = [only]
    } else if (connectOptions.preferZone !== undefined) {
      const preferred = zones.find(
        (z) =>
          keyFor(z) === connectOptions.preferZone ||
          z.azName === connectOptions.preferZone ||
          z.azId === connectOptions.preferZone,
      )
      if (preferred !== undefined) zones = [preferred, ...zones.filter((z) => z !== preferred)]
    }
    const first = zones[0]!
    const reports: AttemptReport[] = []
    const started = performance.now()
    let rounds = 0
    const reportAttempt = ({ candidate }: Opened, code: string) =>
      reports.push(attemptReport(candidate, port, code))
    /** A handshake follows the TCP connect: TLS, or the caller's upgrade. */
    const handshakeIn = (zone: EndpointZone) => upgrade !== undefined || tlsFor(zone) !== undefined
    /** Another handshake with this zone completed since `since`: the zone is alive, this host busy. */
    const shookSince = (zone: EndpointZone, since: number) =>
      (lastHandshake.get(keyFor(zone)) ?? Number.NEGATIVE_INFINITY) >= since
    const { opened } = await hedgedConnect<EndpointZone, Opened>({
      zones,
      ...(signal ? { signal } : {}),
      connect: async (legZones, legSignal) => {
        const won = await raceTcp(legZones, port, legSignal, reports, handshakeIn)
        const loop = performance.eventLoopUtilization()
        return { zone: won.candidate.zone, opened: { ...won, tcp: won.socket, loop } }
      },
      // The handshake (TLS, or the caller's upgrade) runs on a TCP winner only: racing it would
      // spread every burst over all zones on a busy CPU. A zone that accepts TCP but no longer
      // answers is what the hedge is for.
      handshake: async (zone, leg, legSignal) => {
        if (!handshakeIn(zone)) return leg
        const tls = tlsFor(zone)
        const key = keyFor(zone)
        const { controller, release } = attemptIn(key, legSignal)
        const handshakeStarted = performance.now()
        try {
          const secure =
            upgrade === undefined
              ? await tlsUpgrade(leg.tcp, tls!, tlsTimeoutMs, controller.signal)
              : await runUpgrade(upgrade, leg.tcp, {
                  zone,
                  target: targetOfZone.get(zone)!,
                  signal: controller.signal,
                })
          lastHandshake.set(key, performance.now())
          health.recordHandshakeTime(key, performance.now() - handshakeStarted)
          succeeded(key)
          return { ...leg, socket: secure }
        } finally {
          release()
        }
      },
      hedgeDelayMs: (zone) =>
        handshakeIn(zone) ? hedgeDelay(health.handshakeMs(keyFor(zone))) : undefined,
      // Never hedge a burst: the zone completed another handshake meanwhile, the server has
      // answered this one, or the event loop had no time to spare; each says the zone is alive
      // and the slowness is this host's.
      keepWaiting: (zone, leg, startedAt) =>
        shookSince(zone, startedAt) || (leg.tcp.bytesRead ?? 0) > 0 || loopBusySince(leg.loop),
      eligible: (candidates) =>
        candidates.filter((zone) => !health.isEjected(keyFor(zone), clock())),
      onHandshakeFailure: (zone, leg, error, startedAt) => {
        const code = PrivateLinkError.isInstance(error) ? error.code : errorCode(error)
        if (FATAL_TLS.has(code)) return 'fatal'
        if (upgrade !== undefined && isFatalUpgradeError(error)) return 'fatal'
        const key = keyFor(zone)
        reportAttempt(leg, code)
        // Other handshakes with this zone completed while ours waited: the zone is alive and this
        // host is busy (a burst). Neither count it nor leave the zone: try again, boundedly.
        const busy = isTimeoutCode(code) && shookSince(zone, startedAt)
        if (busy && rounds++ < zones.length) return 'retry'
        if (!isAbandon(error) && !busy) record(key, 'connect-failed', code)
        return 'exclude'
      },
      // A hedge won while this handshake was still waiting: slow, not failed.
      onOvertaken: (zone, leg, startedAt) => {
        if (shookSince(zone, startedAt)) return
        reportAttempt(leg, 'slow')
        record(keyFor(zone), 'connect-slow', 'slow')
      },
      exhausted: () => unreachableError(endpointIds, port, reports),
      cancelled: () => abandoned('another attempt won'),
      dispose: (leg) => {
        leg.socket.destroy()
        leg.tcp.destroy()
      },
    })
    const { socket, tcp, candidate } = opened
    track(socket, candidate.zone)
    if (socket !== tcp) {
      sockets.set(tcp, candidate.zone)
      tcp.on('error', ignoreSocketError)
    }
    if (candidate.zone !== first && failoverChannel.hasSubscribers) {
      failoverChannel.publish({
        endpointId: targetOfZone.get(candidate.zone)!.endpoint.id,
        from: first.azName,
        to: candidate.zone.azName,
        cause: reports.find((r) => r.azName === first.azName)?.code ?? 'slow',
      })
    }
    if (connectChannel.hasSubscribers) {
      connectChannel.publish({
        endpointId: targetOfZone.get(candidate.zone)!.endpoint.id,
        azName: candidate.zone.azName,
        azId: candidate.zone.azId,
        address: candidate.address,
        port: dialPort(candidate.zone, port),
        durationMs: performance.now() - started,
        attempts: reports.length + 1,
      })
    }
    return socket
  }

  const undici: UndiciConnect = (undiciOptions, callback) => {
    let port: number
    let tls: ConnectorTlsOptions | false
    try {
      ;({ port, tls } = undiciTarget(undiciOptions, options.tls))
    } catch (error) {
      queueMicrotask(() => callback(error as Error, null))
      return
    }
    connect({ port, tls }).then(
      (socket) => callback(null, socket),
      (error: Error) => callback(error, null),
    )
  }

  return {
    endpoint,
    targets,
    activeTarget: () => {
      order()
      return targets[active]!
    },
    targetOf: (socket) => {
      const zone = sockets.get(socket)
      return zone === undefined ? undefined : targetOfZone.get(zone)
    },
    onTargetChange(listener) {
      targetListeners.add(listener)
      return () => targetListeners.delete(listener)
    },
    connect,
    undici,
    preferredZones,
    ownZone: () => owns[active],
    probe,
    zoneOf: (socket) => sockets.get(socket),
    zoneKey: keyFor,
    report(name, signal, cause) {
      if (!isHealthSignal(signal))
        throw invalidOption('signal', 'a HealthSignal such as lost-in-flight', signal)
      if (typeof name !== 'string')
        throw invalidOption('zone', 'a zone key, AZ name or AZ ID', name)
      if (cause !== undefined && typeof cause !== 'string')
        throw invalidOption('cause', 'an error code string', cause)
      const zone = findZone(name)
      if (zone === undefined) return
      record(keyFor(zone), signal, cause)
    },
    zones: () => {
      const snapshot = health.snapshot(clock())
      return allZones.map((zone) => ({
        zone: keyFor(zone),
        target: targetOfZone.get(zone)!.name,
        azName: zone.azName,
        ...(zone.azId ? { azId: zone.azId } : {}),
        ...snapshot[keyFor(zone)]!,
      }))
    },
    onZoneChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    close() {
      stopping.abort(abandoned('connector closed'))
      clearInterval(checkTimer)
      checkTimer = undefined
    },
  }
}

/** A Resolver (createResolver's), or undefined for the connector's own. */
function resolverOption(value: unknown): Resolver | undefined {
  if (value === undefined) return undefined
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Partial<Resolver>).resolve !== 'function'
  )
    throw invalidOption('resolver', 'a Resolver (createResolver from @privatelink/dns)', value)
  return value as Resolver
}

/** One connect()'s options, read once and checked: a bad one rejects the connect at once. */
function connectOptionsOf(given: unknown): ConnectOptions {
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw invalidOption('connect(options)', 'an object', given)
  const options = { ...(given as ConnectOptions) }
  if (options.port !== undefined) {
    const port = integerOption('port', options.port, 0, 1)
    if (port > 65_535) throw invalidOption('port', 'an integer from 1 to 65535', options.port)
  }
  signalOption('signal', options.signal)
  stringOption('preferZone', options.preferZone, 'a zone key, AZ name or AZ ID')
  stringOption('onlyZone', options.onlyZone, 'a zone key, AZ name or AZ ID')
  if (
    options.target !== undefined &&
    typeof options.target !== 'string' &&
    !Number.isInteger(options.target)
  )
    throw invalidOption('target', "a target's name or index", options.target)
  if (options.tls !== undefined && options.tls !== false)
    validateTls(options.tls, 'connect({ tls })')
  return options
}

/** What undici's connect options ask for: the port, and TLS with its servername for https:. */
function undiciTarget(
  given: Parameters<UndiciConnect>[0],
  connectorTls: ConnectorTlsOptions | undefined,
): { port: number; tls: ConnectorTlsOptions | false } {
  return checkOptions('options', given, () => {
    if (typeof given !== 'object' || given === null)
      throw invalidOption('options', "undici's connect options { hostname, protocol, port }", given)
    const { hostname, protocol, servername } = given
    if (typeof hostname !== 'string') throw invalidOption('hostname', 'a host name', hostname)
    const secure = protocol === 'https:'
    const port =
      given.port === '' || given.port === undefined ? (secure ? 443 : 80) : Number(given.port)
    if (!Number.isInteger(port) || port < 1 || port > 65_535)
      throw invalidOption('port', 'a port from 1 to 65535', given.port)
    if (servername !== undefined && servername !== null && typeof servername !== 'string')
      throw invalidOption('servername', 'a DNS name', servername)
    const name = connectorTls?.servername ?? servername ?? hostname
    return { port, tls: secure ? { ...connectorTls, servername: name || hostname } : false }
  })
}

/** `allowedRanges`, checked now: a typo throws here, naming the value, instead of widening the guard. */
function rangesOption(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) throw invalidOption('allowedRanges', 'an array of CIDR strings', value)
  const ranges = [...value] as string[]
  createAddressMatcher(ranges, 'allowedRanges')
  return ranges
}

function resolveTargets(value: unknown): ResolvedTarget[] {
  const expected =
    'an Endpoint with at least one zone (discoverEndpoint or endpointFromConfig), or a non-empty array of { endpoint }'
  const shape = { nonEmpty: true, dialable: true }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    assertEndpoint(value, 'endpoint', shape)
    return [resolveTarget({ endpoint: value }, 0)]
  }
  if (!Array.isArray(value) || value.length === 0) throw invalidOption('endpoint', expected, value)
  const targets = value.map((target: unknown, index) => {
    if (typeof target !== 'object' || target === null)
      throw invalidOption(`endpoint[${index}].endpoint`, expected, target)
    assertEndpoint((target as ConnectorTarget).endpoint, `endpoint[${index}].endpoint`, shape)
    return resolveTarget(target as ConnectorTarget, index)
  })
  const names = new Set<string>()
  for (const target of targets) {
    if (names.has(target.name)) target.name = `${target.name}#${target.index}`
    names.add(target.name)
  }
  return targets
}

function resolveTarget(target: ConnectorTarget, index: number): ResolvedTarget {
  if (target.region !== undefined && typeof target.region !== 'string')
    throw invalidOption(`endpoint[${index}].region`, 'a region name', target.region)
  const region = target.region ?? target.endpoint.serviceRegion ?? target.endpoint.region
  if (target.name !== undefined && (typeof target.name !== 'string' || target.name === ''))
    throw invalidOption(`endpoint[${index}].name`, 'a non-empty string', target.name)
  return {
    index,
    name: target.name ?? region,
    endpoint: target.endpoint,
    region,
    ...(target.tls !== undefined ? { tls: target.tls } : {}),
  }
}
