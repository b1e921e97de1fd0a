import { connect as netConnect, type Socket } from 'node:net'
import {
  type ConnectionOptions,
  checkServerIdentity,
  type TLSSocket,
  connect as tlsConnect,
} from 'node:tls'
import { createResolver, invalidOption, PrivateLinkError, type Resolver } from '@privatelink/dns'
import { type AttemptReport, errorCode, tlsError, unreachableError } from './connector-errors.js'
import { connectChannel, ejectChannel, failoverChannel, readmitChannel } from './diagnostics.js'
import type { Endpoint, EndpointZone, Locality } from './model.js'
import { functionOption, integerOption } from './options.js'
import { RaceFailedError, staggeredRace } from './staggered-race.js'
import { type EjectionOptions, type HealthEvent, ZoneHealth } from './zone-health.js'
import { findOwnZone, orderZones } from './zone-order.js'

export interface ConnectorTlsOptions
  extends Omit<ConnectionOptions, 'socket' | 'host' | 'port' | 'lookup'> {
  /** The name the certificate must carry (SNI too). Required: the vpce name never is on it. */
  servername: string
  /**
   * Skips certificate verification. Never in production: anyone on the path can then read the
   * traffic. Setting `rejectUnauthorized: false` without this flag is refused.
   * @default false
   */
  dangerouslySkipVerification?: boolean
}

export type Dial = (options: { host: string; port: number }) => Socket

export interface ConnectorOptions {
  endpoint: Endpoint
  /** Where this code runs; own zone first. Unknown: zones ranked by measured connect time. */
  locality?: Locality
  /** The service port (the NLB listener port). */
  port: number
  /** Wrap every connection in TLS. */
  tls?: ConnectorTlsOptions
  /** Start the next zone after this long without a connection (RFC 8305's "Connection Attempt Delay"). @default 250 */
  attemptDelayMs?: number
  /** Give up on one attempt after this long. @default 10000 */
  connectTimeoutMs?: number
  /** Ejection of failing zones. @default { baseMs: 1000, maxMs: 60000 } */
  ejection?: EjectionOptions
  /** Resolves zonal DNS names for zones without addresses. @default a private-only resolver */
  resolver?: Resolver
  /** @default Date.now */
  clock?: () => number
  /** Opens the TCP socket (tests and custom transports). @default net.connect */
  dial?: Dial
  /**
   * With no known locality, zones are ranked by TCP connect time measured by a probe of every
   * zone, started in the background on first use and repeated this often. 0 turns it off.
   * @default 600000
   */
  probeIntervalMs?: number
}

export interface ConnectOptions {
  port?: number
  signal?: AbortSignal
  /** Try this zone (AZ name or ID) first, if it is not ejected; the rest follow in the usual order. */
  preferZone?: string
  /** Overrides the connector's TLS options for this connection; `false` for plain TCP. */
  tls?: ConnectorTlsOptions | false
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

export interface ZoneStatus {
  azName: string
  azId?: string
  ejected: boolean
  failures: number
  ejectedForMs: number
  connectMs?: number
}

export interface Connector {
  readonly endpoint: Endpoint
  connect(options?: ConnectOptions): Promise<Socket | TLSSocket>
  /** For undici's `connect` option: plain TCP for http:, TLS with undici's servername for https:. */
  readonly undici: UndiciConnect
  /** Own zone first, then the rest: the order the next connect will try (ejected zones left out). */
  preferredZones(): readonly EndpointZone[]
  zones(): ZoneStatus[]
  /** Measures a TCP connect to every zone at once (ms, or the error code) and ranks zones by it. */
  probe(): Promise<Record<string, number | string>>
  /** The zone a socket from this connector was opened in. */
  zoneOf(socket: Socket): EndpointZone | undefined
  /**
   * Reports a failure seen on an open connection (a reset, a response timeout): the zone is
   * ejected like one whose connect failed.
   */
  reportFailure(zone: string, cause: string): void
  /** Subscribe to zone ejections and readmissions (adapters close idle sockets on them). */
  onZoneChange(listener: (event: { type: 'eject' | 'readmit'; azName: string }) => void): () => void
}

interface Candidate {
  zone: EndpointZone
  /** Undefined: resolve the zone's DNS name first. */
  address: string | undefined
}

const zoneKey = (zone: EndpointZone) => zone.azId ?? zone.azName

/** One connector per endpoint and port: zone preference, racing and ejection, written once. */
export function createConnector(options: ConnectorOptions): Connector {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object', options)
  const { endpoint, locality } = options
  if (
    typeof endpoint !== 'object' ||
    endpoint === null ||
    !Array.isArray(endpoint.zones) ||
    endpoint.zones.length === 0
  ) {
    throw invalidOption(
      'endpoint',
      'an Endpoint with at least one zone (discoverEndpoint or endpointFromConfig)',
      endpoint,
    )
  }
  const defaultPort = integerOption('port', options.port, Number.NaN, 1)
  if (Number.isNaN(defaultPort) || defaultPort > 65_535)
    throw invalidOption('port', 'an integer from 1 to 65535', options.port)
  const attemptDelayMs = integerOption('attemptDelayMs', options.attemptDelayMs, 250, 0)
  const connectTimeoutMs = integerOption('connectTimeoutMs', options.connectTimeoutMs, 10_000, 1)
  const clock = functionOption('clock', options.clock, Date.now)
  const dial = functionOption<Dial>('dial', options.dial, (target) =>
    netConnect({ ...target, noDelay: true }),
  )
  const health = new ZoneHealth({
    baseMs: integerOption('ejection.baseMs', options.ejection?.baseMs, 1_000, 1),
    maxMs: integerOption('ejection.maxMs', options.ejection?.maxMs, 60_000, 1),
  })
  validateTls(options.tls, 'tls')
  const probeIntervalMs = integerOption('probeIntervalMs', options.probeIntervalMs, 600_000, 0)
  let resolver = options.resolver
  const own = findOwnZone(endpoint.zones, locality)
  const listeners = new Set<(event: { type: 'eject' | 'readmit'; azName: string }) => void>()
  const keys = endpoint.zones.map(zoneKey)
  const byKey = new Map(endpoint.zones.map((zone) => [zoneKey(zone), zone]))
  const sockets = new WeakMap<Socket, EndpointZone>()

  const announce = (event: HealthEvent, cause?: string) => {
    const zone = byKey.get(event.key)!
    const base = { endpointId: endpoint.id, azName: zone.azName, azId: zone.azId }
    if (event.type === 'eject' && ejectChannel.hasSubscribers) {
      ejectChannel.publish({ ...base, cause, failures: event.failures, untilMs: event.untilMs })
    }
    if (event.type === 'readmit' && readmitChannel.hasSubscribers) readmitChannel.publish(base)
    for (const listener of listeners) listener({ type: event.type, azName: zone.azName })
  }

  // Called once per HTTP request by the http adapter: recomputed only when health changed or an
  // ejection ran out.
  let cached: { zones: readonly EndpointZone[]; version: number; validUntil: number } | undefined
  const preferredZones = (): readonly EndpointZone[] => {
    const now = clock()
    if (cached !== undefined && cached.version === health.version && now < cached.validUntil)
      return cached.zones
    for (const event of health.readmitted(keys, now)) announce(event)
    const ordered = orderZones(endpoint.zones, own, (zone) => health.connectMs(zoneKey(zone)))
    const eligible = ordered.filter((zone) => !health.isEjected(zoneKey(zone), now))
    // Panic mode: with every zone ejected, trying them all beats failing fast.
    const zones = Object.freeze(eligible.length > 0 ? eligible : ordered)
    cached = { zones, version: health.version, validUntil: health.nextExpiry(now) }
    return zones
  }

  const openTcp = async (
    candidate: Candidate,
    port: number,
    signal: AbortSignal,
  ): Promise<Socket> => {
    let address = candidate.address
    if (address === undefined) {
      resolver ??= createResolver()
      const resolution = await resolver.resolve(candidate.zone.dnsName!)
      address = resolution.addresses[0]!.address
      candidate.address = address
    }
    if (signal.aborted) throw signal.reason
    const socket = dial({ host: address, port })
    return await new Promise<Socket>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        socket.off('connect', onConnect)
        socket.off('error', onError)
      }
      const fail = (error: unknown) => {
        cleanup()
        socket.destroy()
        reject(error)
      }
      const onConnect = () => {
        cleanup()
        resolve(socket)
      }
      const onError = (error: Error) => fail(error)
      const onAbort = () =>
        fail(Object.assign(new Error('attempt abandoned'), { code: 'ABORT_ERR' }))
      const timer = setTimeout(
        () =>
          fail(
            Object.assign(new Error(`connect timed out after ${connectTimeoutMs} ms`), {
              code: 'ETIMEDOUT',
            }),
          ),
        connectTimeoutMs,
      )
      socket.once('connect', onConnect)
      socket.once('error', onError)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  let lastProbe: number | undefined
  let probing: Promise<Record<string, number | string>> | undefined
  const probe = (): Promise<Record<string, number | string>> => {
    probing ??= (async () => {
      lastProbe = clock()
      const results = await Promise.all(
        endpoint.zones.map(async (zone): Promise<[string, number | string]> => {
          const candidate: Candidate = { zone, address: zone.addresses[0] }
          const started = performance.now()
          try {
            const timeout = AbortSignal.timeout(Math.min(connectTimeoutMs, 2_000))
            const socket = await openTcp(
              candidate,
              zone.portMap?.[String(defaultPort)] ?? defaultPort,
              timeout,
            )
            const elapsed = performance.now() - started
            socket.destroy()
            health.recordConnectTime(zoneKey(zone), elapsed)
            return [zone.azName, Math.round(elapsed * 1000) / 1000]
          } catch (error) {
            return [zone.azName, PrivateLinkError.isInstance(error) ? error.code : errorCode(error)]
          }
        }),
      )
      return Object.fromEntries(results)
    })().finally(() => {
      probing = undefined
    })
    return probing
  }

  async function connect(connectOptions: ConnectOptions = {}): Promise<Socket | TLSSocket> {
    const port = connectOptions.port ?? defaultPort
    // Unknown locality: rank zones by a measured connect time, refreshed rarely, never awaited here.
    if (
      own === undefined &&
      probeIntervalMs > 0 &&
      (lastProbe === undefined || clock() - lastProbe >= probeIntervalMs)
    ) {
      probe().catch(() => {})
    }
    const tls = connectOptions.tls === undefined ? options.tls : connectOptions.tls || undefined
    if (connectOptions.tls) validateTls(connectOptions.tls, 'connect({ tls })')
    let zones = preferredZones()
    if (connectOptions.preferZone !== undefined) {
      const preferred = zones.find(
        (z) => z.azName === connectOptions.preferZone || z.azId === connectOptions.preferZone,
      )
      if (preferred !== undefined) zones = [preferred, ...zones.filter((z) => z !== preferred)]
    }
    const candidates = zones.flatMap((zone): Candidate[] =>
      zone.addresses.length > 0
        ? zone.addresses.map((address) => ({ zone, address }))
        : [{ zone, address: undefined }],
    )
    const dialPort = (zone: EndpointZone) => zone.portMap?.[String(port)] ?? port
    const reports: AttemptReport[] = []
    const report = (candidate: Candidate, code: string) => {
      const zone = candidate.zone
      reports.push({
        azName: zone.azName,
        ...(zone.azId ? { azId: zone.azId } : {}),
        address: candidate.address ?? zone.dnsName ?? '',
        port: dialPort(zone),
        code,
      })
    }
    // Durations are real elapsed time; the injectable clock drives ejection windows only.
    const started = performance.now()
    const startedAt = new Map<Candidate, number>()
    let won: { value: Socket | TLSSocket; candidate: Candidate }
    try {
      won = await staggeredRace(candidates, {
        delayMs: attemptDelayMs,
        ...(connectOptions.signal ? { signal: connectOptions.signal } : {}),
        start: async (candidate, signal) => {
          const begun = performance.now()
          startedAt.set(candidate, begun)
          const socket = await openTcp(candidate, dialPort(candidate.zone), signal)
          if (tls === undefined) return socket
          // The handshake is part of the attempt: a zone that accepts TCP but never answers TLS loses the race.
          // The whole attempt, TCP and TLS, shares one connectTimeoutMs; plain TCP needs no second timer.
          const left = Math.max(1, connectTimeoutMs - Math.round(performance.now() - begun))
          return await upgrade(socket, tls, AbortSignal.any([signal, AbortSignal.timeout(left)]))
        },
        dispose: (socket) => socket.destroy(),
        isFatal: (error) => PrivateLinkError.isInstance(error) && FATAL_TLS.has(error.code),
        onFailure: (candidate, error) => {
          const code = PrivateLinkError.isInstance(error) ? error.code : errorCode(error)
          report(candidate, code)
          announce(health.recordFailure(zoneKey(candidate.zone), clock()), code)
        },
        onAbandon: (candidate, overtaken) => {
          // Given attemptDelayMs and still not connected: treat as failing (a blackhole looks like this).
          if (!overtaken) return
          report(candidate, 'slow')
          announce(health.recordFailure(zoneKey(candidate.zone), clock()), 'slow')
        },
      })
    } catch (error) {
      if (error instanceof RaceFailedError) throw unreachableError(endpoint.id, port, reports)
      throw error
    }
    const { value: socket, candidate } = won
    const durationMs = performance.now() - (startedAt.get(candidate) ?? started)
    health.recordSuccess(zoneKey(candidate.zone), durationMs)
    const first = candidates[0]!.zone
    if (candidate.zone !== first && failoverChannel.hasSubscribers) {
      failoverChannel.publish({
        endpointId: endpoint.id,
        from: first.azName,
        to: candidate.zone.azName,
        cause: reports.find((r) => r.azName === first.azName)?.code ?? 'slow',
      })
    }
    if (connectChannel.hasSubscribers) {
      connectChannel.publish({
        endpointId: endpoint.id,
        azName: candidate.zone.azName,
        azId: candidate.zone.azId,
        address: candidate.address,
        port: dialPort(candidate.zone),
        durationMs: performance.now() - started,
        attempts: reports.length + 1,
      })
    }
    socket.setKeepAlive(true, 60_000)
    sockets.set(socket, candidate.zone)
    return socket
  }

  const undici: UndiciConnect = (undiciOptions, callback) => {
    const secure = undiciOptions.protocol === 'https:'
    const port = Number(undiciOptions.port) || (secure ? 443 : 80)
    const servername = options.tls?.servername ?? undiciOptions.servername ?? undiciOptions.hostname
    const tls = secure
      ? { ...options.tls, servername: servername || undiciOptions.hostname }
      : false
    connect({ port, tls }).then(
      (socket) => callback(null, socket),
      (error: Error) => callback(error, null),
    )
  }

  return {
    endpoint,
    connect,
    undici,
    preferredZones,
    probe,
    zoneOf: (socket) => sockets.get(socket),
    reportFailure(name, cause) {
      const zone = endpoint.zones.find((z) => z.azName === name || z.azId === name)
      if (zone === undefined || health.isEjected(zoneKey(zone), clock())) return
      announce(health.recordFailure(zoneKey(zone), clock()), cause)
    },
    zones: () => {
      const snapshot = health.snapshot(clock())
      return endpoint.zones.map((zone) => ({
        azName: zone.azName,
        ...(zone.azId ? { azId: zone.azId } : {}),
        ejected: false,
        failures: 0,
        ejectedForMs: 0,
        ...snapshot[zoneKey(zone)],
      }))
    },
    onZoneChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

function validateTls(tls: ConnectorTlsOptions | undefined, option: string): void {
  if (tls === undefined) return
  if (typeof tls !== 'object' || tls === null)
    throw invalidOption(option, 'an object with servername', tls)
  if (typeof tls.servername !== 'string' || tls.servername === '') {
    throw invalidOption(
      `${option}.servername`,
      'the DNS name on the service certificate',
      tls.servername,
    )
  }
  if (tls.rejectUnauthorized === false && tls.dangerouslySkipVerification !== true) {
    throw invalidOption(
      `${option}.rejectUnauthorized`,
      'true (turning verification off also needs dangerouslySkipVerification: true)',
      tls.rejectUnauthorized,
    )
  }
}

let warnedInsecure = false

const FATAL_TLS = new Set(['ERR_TLS_NAME_MISMATCH', 'ERR_TLS_UNTRUSTED'])

function upgrade(
  socket: Socket,
  options: ConnectorTlsOptions,
  signal: AbortSignal,
): Promise<TLSSocket> {
  const { dangerouslySkipVerification, ...tlsOptions } = options
  if (dangerouslySkipVerification === true && !warnedInsecure) {
    warnedInsecure = true
    process.emitWarning(
      'privatelink: TLS certificate verification is OFF (dangerouslySkipVerification). Traffic can be intercepted.',
      {
        code: 'PRIVATELINK_INSECURE_TLS',
      },
    )
  }
  return new Promise((resolve, reject) => {
    let presented: string | undefined
    const check = tlsOptions.checkServerIdentity ?? checkServerIdentity
    const secure = tlsConnect({
      ...tlsOptions,
      socket,
      servername: options.servername,
      rejectUnauthorized: dangerouslySkipVerification !== true,
      // Remember what the server presented, so a mismatch error can name it.
      checkServerIdentity: (host, certificate) => {
        presented = certificate.subjectaltname
        return check(host, certificate)
      },
    })
    const cleanup = () => {
      secure.off('error', onError)
      signal.removeEventListener('abort', onAbort)
    }
    const onError = (error: Error) => {
      cleanup()
      secure.destroy()
      socket.destroy()
      reject(tlsError(error, options.servername, presented))
    }
    const onAbort = () => {
      cleanup()
      secure.destroy()
      socket.destroy()
      const timedOut = (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError'
      reject(
        Object.assign(new Error(timedOut ? 'TLS handshake timed out' : 'attempt abandoned'), {
          code: timedOut ? 'ETIMEDOUT' : 'ABORT_ERR',
        }),
      )
    }
    secure.once('error', onError)
    signal.addEventListener('abort', onAbort, { once: true })
    secure.once('secureConnect', () => {
      cleanup()
      resolve(secure)
    })
  })
}
