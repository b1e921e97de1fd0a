import type { Socket } from 'node:net'
import {
  createResolver,
  DEFAULT_ALLOWED_RANGES,
  PrivateLinkError,
  type Resolver,
} from '@privatelink/dns'
import { type AttemptReport, errorCode, unreachableError } from './connector-errors.js'
import type { ResolvedTarget } from './connector-types.js'
import type { DialGuard } from './dial-guard.js'
import { isDialRefusal } from './dial-guard.js'
import { endpointAllowedRanges } from './endpoint-guard.js'
import type { EndpointZone } from './model.js'
import { RaceFailedError, staggeredRace } from './staggered-race.js'
import { type Dial, tcpConnect } from './tcp-connect.js'
import type { HealthSignal, ZoneHealth } from './zone-health.js'
import type { ZoneKey } from './zone-key.js'
import type { ZoneEntry } from './zone-table.js'

/** One address of one zone to dial. */
export interface Candidate {
  readonly entry: ZoneEntry
  /** Undefined: resolve the zone's DNS name first. */
  readonly address: string | undefined
}

/** Every address of every zone, in the zones' order. */
export const candidatesOf = (entries: readonly ZoneEntry[]): Candidate[] =>
  entries.flatMap((entry): Candidate[] =>
    entry.zone.addresses.length > 0
      ? entry.zone.addresses.map((address) => ({ entry, address }))
      : [{ entry, address: undefined }],
  )

/** The port dialled in a zone: the lab maps a listener port taken on a loopback address. */
export const dialPort = (zone: EndpointZone, port: number): number =>
  zone.portMap?.[String(port)] ?? port

/** What one failed attempt says in ERR_ENDPOINT_UNREACHABLE's details. */
export const attemptReport = (candidate: Candidate, port: number, code: string): AttemptReport => ({
  azName: candidate.entry.zone.azName,
  ...(candidate.entry.zone.azId ? { azId: candidate.entry.zone.azId } : {}),
  address: candidate.address ?? candidate.entry.zone.dnsName ?? '',
  port: dialPort(candidate.entry.zone, port),
  code,
})

/** The code an attempt failed with: a PrivateLinkError's, else the errno's. */
export const failureCode = (error: unknown): string =>
  PrivateLinkError.isInstance(error) ? error.code : errorCode(error)

export const isAbandon = (error: unknown): boolean => errorCode(error) === 'ABORT_ERR'

/**
 * Resolves a zone's DNS name when it has no addresses, with the caller's resolver or, made on
 * first use, a private one that also admits what the endpoints say is theirs (a dual-stack
 * endpoint's subnets and ENI addresses are global unicast IPv6, outside the defaults).
 */
export function addressResolver(
  given: Resolver | undefined,
  allowedRanges: readonly string[] | undefined,
  targets: readonly ResolvedTarget[],
): (candidate: Candidate) => Promise<string> {
  let resolver = given
  return async (candidate) => {
    if (candidate.address !== undefined) return candidate.address
    const name = candidate.entry.zone.dnsName
    if (name === undefined) throw new Error(`zone ${candidate.entry.label} has no address`)
    resolver ??= createResolver({
      allowedRanges: [
        ...new Set([
          ...DEFAULT_ALLOWED_RANGES,
          ...(allowedRanges ?? []),
          ...targets.flatMap((target) => endpointAllowedRanges(target.endpoint)),
        ]),
      ],
    })
    const [first] = (await resolver.resolve(name)).addresses
    if (first === undefined)
      throw Object.assign(new Error(`${name}: no address`), { code: 'ENOTFOUND' })
    return first.address
  }
}

export interface AttemptsOptions {
  dial: Dial
  guard: DialGuard
  health: ZoneHealth
  resolveAddress: (candidate: Candidate) => Promise<string>
}

/**
 * Connect attempts per zone: each one's abort (the caller's signal, or its zone being ejected
 * while it waits), and when each zone last completed a TCP connect (proof it is alive).
 */
export class Attempts {
  readonly #options: AttemptsOptions
  readonly #pending = new Map<ZoneKey, Set<AbortController>>()
  /** performance.now() of each zone's last completed TCP connect. */
  readonly #lastConnected = new Map<ZoneKey, number>()

  constructor(options: AttemptsOptions) {
    this.#options = options
  }

  /** An attempt's own abort: the caller's signal, or its zone being ejected while it waits. */
  attemptIn(
    key: ZoneKey,
    signal: AbortSignal | undefined,
  ): { controller: AbortController; release: () => void } {
    const controller = new AbortController()
    const onAbort = () => controller.abort(signal?.reason)
    if (signal?.aborted) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
    const inZone = this.#pending.get(key) ?? new Set<AbortController>()
    this.#pending.set(key, inZone)
    inZone.add(controller)
    const release = () => {
      inZone.delete(controller)
      signal?.removeEventListener('abort', onAbort)
    }
    return { controller, release }
  }

  /** The zone was ejected: every attempt still waiting in it stops. */
  abandonZone(key: ZoneKey, reason: unknown): void {
    for (const controller of this.#pending.get(key) ?? []) controller.abort(reason)
  }

  /** The zone completed a TCP connect at or after `since` (performance.now). */
  connectedSince(key: ZoneKey, since: number): boolean {
    return (this.#lastConnected.get(key) ?? Number.NEGATIVE_INFINITY) >= since
  }

  /** One TCP connect in one zone; its time feeds the ranking and the adaptive delay. */
  async openTcp(
    candidate: Candidate,
    port: number,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<{ socket: Socket; ms: number }> {
    const { entry } = candidate
    const { controller, release } = this.attemptIn(entry.key, signal)
    try {
      const host = await this.#options.resolveAddress(candidate)
      // Decided on the address about to be dialled, wherever it came from: dial never sees a
      // refused one.
      const refused = this.#options.guard.refusal(host, entry.zone, entry.target.endpoint.id)
      if (refused !== undefined) throw refused
      const started = performance.now()
      const socket = await tcpConnect(
        this.#options.dial,
        { host, port: dialPort(entry.zone, port) },
        timeoutMs,
        controller.signal,
      )
      const ms = performance.now() - started
      this.#lastConnected.set(entry.key, performance.now())
      this.#options.health.recordConnectTime(entry.key, ms)
      return { socket, ms }
    } finally {
      release()
    }
  }
}

/** What a TCP race needs besides the attempts: timing, and how zone health hears the outcome. */
export interface RaceContext {
  attempts: Attempts
  delayFor: (candidate: Candidate) => number
  connectTimeoutMs: number
  /** For ERR_ENDPOINT_UNREACHABLE: every target's endpoint ID. */
  endpointIds: string
  record: (key: ZoneKey, signal: HealthSignal, cause: string) => void
  succeeded: (key: ZoneKey) => void
}

type Verdicts = Map<ZoneKey, { signal: HealthSignal; cause: string }>

/** Races TCP connects across zones; zone health learns from the outcome once the race is over. */
export async function raceTcp(
  context: RaceContext,
  zones: readonly ZoneEntry[],
  port: number,
  signal: AbortSignal | undefined,
  reports: AttemptReport[],
  handshakeFollows: (entry: ZoneEntry) => boolean,
): Promise<{ socket: Socket; candidate: Candidate }> {
  const { attempts } = context
  const verdicts: Verdicts = new Map()
  let winner: Candidate | undefined
  try {
    const won = await staggeredRace(candidatesOf(zones), {
      delayMs: context.delayFor,
      ...(signal ? { signal } : {}),
      start: async (candidate, raceSignal) =>
        (await attempts.openTcp(candidate, port, context.connectTimeoutMs, raceSignal)).socket,
      dispose: (socket) => socket.destroy(),
      // A zone that completed a connect since this attempt began is alive, only busy (a burst):
      // keep waiting rather than spreading the burst over other zones.
      keepWaiting: (candidate, startedAt) =>
        attempts.connectedSince(candidate.entry.key, startedAt),
      onFailure: (candidate, error, startedAt) => {
        const code = failureCode(error)
        reports.push(attemptReport(candidate, port, code))
        // A timeout in a zone that completed other connects meanwhile is this host's
        // congestion (a burst on a busy CPU), not the zone's failure.
        const alive =
          code === 'ETIMEDOUT' && attempts.connectedSince(candidate.entry.key, startedAt)
        if (!isAbandon(error) && !alive && !isDialRefusal(code))
          verdicts.set(candidate.entry.key, { signal: 'connect-failed', cause: code })
      },
      onAbandon: (candidate, overtaken, startedAt) => {
        if (!overtaken || attempts.connectedSince(candidate.entry.key, startedAt)) return
        reports.push(attemptReport(candidate, port, 'slow'))
        if (!verdicts.has(candidate.entry.key))
          verdicts.set(candidate.entry.key, { signal: 'connect-slow', cause: 'slow' })
      },
    })
    winner = won.candidate
    return { socket: won.value, candidate: won.candidate }
  } catch (error) {
    if (error instanceof RaceFailedError) throw unreachableError(context.endpointIds, port, reports)
    throw error
  } finally {
    // A zone that won does not count its other address's failures against itself.
    for (const [key, verdict] of verdicts)
      if (key !== winner?.entry.key) context.record(key, verdict.signal, verdict.cause)
    // With a handshake to follow, the zone has succeeded only once it completes: a zone that
    // accepts TCP but no longer answers must not clear its failure streak on every connect.
    if (winner !== undefined && !handshakeFollows(winner.entry)) context.succeeded(winner.entry.key)
  }
}
