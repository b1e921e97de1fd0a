import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { Resolver } from '@privatelink/dns'
import type { HealthRegistry } from './health-registry.js'
import type { Endpoint, EndpointZone, Locality } from './model.js'
import type { RetireEvent, SocketWatch, WatchOptions } from './socket-lifecycle.js'
import type { Dial } from './tcp-connect.js'
import type { ConnectorTlsOptions } from './tls-upgrade.js'
import type { EjectionOptions, HealthSignal, ZoneHealthSnapshot } from './zone-health.js'
import type { ZoneKey } from './zone-key.js'

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
  /**
   * Where this endpoint's zone health lives. Every connector of the same endpoint in the process
   * (the same Endpoint object or an equal one: same ID, zones and addresses) with the same
   * health-defining options (`ejection`, `healthCheck`, `clock`, `dial`, `resolver`,
   * `allowedRanges`, each target's TLS name) shares one zone health table and one set of health
   * checks: a zone one client ejects is avoided by every other from its next connect. A
   * connector whose health-defining options differ gets health of its own, on purpose. Pass a
   * `new HealthRegistry()` to share only among the connectors given it (tests), or `false` for
   * health of this connector's own. @default the process-wide registry
   */
  healthRegistry?: HealthRegistry | false
  /**
   * How long the path keeps a TCP flow that carries no packet either way: interface endpoints
   * forget it after 350 s (fixed), NLB TCP listeners after 350 s unless configured (60-6000 s),
   * TLS listeners after 350 s (fixed); the next segment gets a reset. Set it to your NLB's
   * listener timeout when it is lower. It bounds `keepAliveInitialDelayMs`, tells owners when a
   * socket is `stale()`, and the adapters keep their own idle timeouts below it. @default 350000
   */
  pathIdleTimeoutMs?: number
  /**
   * TCP keep-alive on every socket the connector dials: an idle connection sends a probe every
   * `keepAliveInitialDelayMs`, which keeps the path's flow as any packet does. `false` turns it
   * off (a socket idle past `pathIdleTimeoutMs` is then `stale()`). @default true
   */
  keepAlive?: boolean
  /**
   * Idle time before the first keep-alive probe (whole seconds; the kernel's TCP_KEEPIDLE). Must
   * be below four fifths of `pathIdleTimeoutMs` (ERR_INVALID_OPTION with a hint otherwise). @default a fifth of
   * `pathIdleTimeoutMs`, at most 60000 (60 s against the path's 350 s)
   */
  keepAliveInitialDelayMs?: number
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

/** One zone's health as `connector.zones()` lists it. */
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
  zone: ZoneKey
  /** The AZ name in the endpoint owner's account, e.g. `us-east-1a`. */
  azName: string
  /** The AZ ID, e.g. `use1-az4`, when the endpoint knows it. */
  azId?: string
  /** On eject: the signal that ejected it. */
  signal?: HealthSignal
}

/**
 * What createConnector returns: connections to one endpoint (or an ordered list of targets) that
 * prefer the own zone, race the others and leave failing zones out. Adapters share one per
 * endpoint and port, so every connection feeds the same zone health.
 */
export interface Connector {
  /** The first target's endpoint. */
  readonly endpoint: Endpoint
  /**
   * The path's idle timeout this connector assumes (`pathIdleTimeoutMs`): adapters keep their
   * own idle and keep-alive timeouts below it.
   */
  readonly pathIdleTimeoutMs: number
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
  /** Zone ejections and readmissions. To move sockets off a zone, use `watch` or `onRetire`. */
  onZoneChange(listener: (event: ZoneChangeEvent) => void): () => void
  /**
   * Follows a socket this connector opened for the rest of its life: when it closes, zone health
   * hears `lost-in-flight` (closed while `busy()`) or `idle-close`, with the first error's code,
   * unless the owner called `release()` first; when its zone is retired (ejected, a better zone
   * readmitted, traffic moved to another target), `retire` is told how to leave. Call it before
   * handing the socket to the driver, so its close listener runs before the driver's. Throws
   * ERR_INVALID_OPTION for a socket this connector did not open.
   */
  watch(socket: Socket, options: WatchOptions): SocketWatch
  /**
   * Zones whose sockets should leave, and why, computed once from the connector's ranking; for
   * owners that keep their own sockets rather than `watch` them. Called after every watch's
   * `retire`. Returns a function that removes the listener.
   */
  onRetire(listener: (event: RetireEvent) => void): () => void
  /** Stops health checks and background locality detection. Idempotent. */
  close(): void
}
