import { setTimeout as sleep } from 'node:timers/promises'
import type { Lab } from '@privatelink/lab'
import { count, ms, percentile, type Style, seconds } from './format.js'
import type { Workload } from './workload.js'
import { describeEvents, watchZoneEvents } from './zone-events.js'

export interface FaultResult {
  mode: 'blackhole' | 'hang'
  /** From the fault to the first client ejecting the zone. */
  ejectedAfterMs?: number
  /** The slowest operation while the zone was dark. */
  maxMs: number
  /** Per service: from restore to the first second in which the own zone served most of its bytes. */
  returnedAfterMs: Record<string, number | undefined>
}

export interface FailoverResult {
  healthyP99Ms: number
  faults: FaultResult[]
}

export interface PhaseSeconds {
  warmUp: number
  healthy: number
  dark: number
  /** After a restore: at least this long, longer while traffic is not back, up to restoredMax. */
  restored: number
  restoredMax: number
}

type PhaseName = 'healthy' | 'blackhole' | 'hang' | 'restored'

/**
 * Step 3: the own zone goes dark twice under a steady stream, each time restored after a while:
 * blackhole (nothing answers a connect, open connections go silent), then hang (connects
 * complete, nothing is ever answered). One line a second: the share of bytes each zone served,
 * completed operations, latency, failures; below it, what the clients did.
 */
export async function runFailover(
  lab: Lab,
  own: string,
  workload: Workload,
  log: (line: string) => void,
  s: Style,
  timing: PhaseSeconds = { warmUp: 1, healthy: 2, dark: 6, restored: 3, restoredMax: 8 },
): Promise<FailoverResult> {
  const zones = lab.endpoint.zones.map((zone) => zone.azName)
  const ownIndex = zones.indexOf(own)
  const short = (azName: string) => azName.slice(-1)
  const services = Object.keys(lab.stats()[own] ?? {})
  // Bytes each zone sent back to clients, per service: [service][zone]. A dark zone sends none.
  const served = () => {
    const stats = lab.stats()
    return services.map((service) => zones.map((zone) => stats[zone]?.[service]?.bytesOut ?? 0))
  }
  // First connections, TLS sessions and JIT: not what the table is about.
  await sleep(timing.warmUp * 1000)
  workload.take()

  const events = watchZoneEvents()
  const faults: FaultResult[] = []
  let healthyP99Ms = 0
  const plan: [PhaseName, number][] = [
    ['healthy', timing.healthy],
    ['blackhole', timing.dark],
    ['restored', timing.restored],
    ['hang', timing.dark],
    ['restored', timing.restored],
  ]
  log(
    s.dim(
      `   time  phase      ${zones.map((z) => `   ${short(z)}`).join(' ')}   ops/s    p50     p99     max  failed`,
    ),
  )
  let previous = served()
  const started = performance.now()
  let second = 0
  let fault: FaultResult | undefined
  let changedAt = started
  try {
    for (const [phase, length] of plan) {
      if (phase !== 'healthy') {
        // The fault starts as fail() is called: open connections freeze at once, the listener
        // swap (a worker thread for a blackhole) follows.
        changedAt = performance.now()
        if (phase === 'restored') await lab.zone(own).restore()
        else await lab.zone(own).fail(phase)
        if (phase !== 'restored') {
          fault = {
            mode: phase,
            maxMs: 0,
            returnedAfterMs: Object.fromEntries(services.map((name) => [name, undefined])),
          }
          faults.push(fault)
        }
        const what =
          phase === 'restored'
            ? 'restored'
            : `${phase}ed`.replace('blackholeed', 'blackholed').replace('hanged', 'hanging')
        log(s.bold(`   ${seconds(changedAt - started).padStart(6)} >>> zone ${short(own)} ${what}`))
      }
      // Back: every service, or at least most of the traffic (a pg pool keeps busy connections
      // where they are), so the next fault meets clients in the own zone again.
      let ownShare = 0
      const back = () =>
        phase !== 'restored' ||
        ownShare > 0.5 ||
        Object.values(fault?.returnedAfterMs ?? {}).every((at) => at !== undefined)
      for (let i = 0; i < length || (!back() && i < timing.restoredMax); i++) {
        // One line per wall-clock second, however busy the event loop was.
        await sleep(Math.max(0, started + (second + 1) * 1000 - performance.now()))
        second++
        const window = workload.take()
        const now = served()
        const byService = now.map((row, i) => row.map((bytes, z) => bytes - previous[i]![z]!))
        previous = now
        const delta = zones.map((_, z) => byService.reduce((sum, row) => sum + row[z]!, 0))
        const total = delta.reduce((sum, bytes) => sum + bytes, 0)
        const shares = delta.map((bytes) => (total === 0 ? 0 : bytes / total))
        ownShare = shares[ownIndex]!
        const p99 = percentile(window.durations, 99)
        const max = Math.max(0, ...window.durations)
        if (phase === 'healthy') healthyP99Ms = Math.max(healthyP99Ms, p99)
        if (fault !== undefined && phase === fault.mode) fault.maxMs = Math.max(fault.maxMs, max)
        if (fault !== undefined && phase === 'restored')
          services.forEach((service, i) => {
            const row = byService[i]!
            const sum = row.reduce((a, b) => a + b, 0)
            if (
              fault!.returnedAfterMs[service] === undefined &&
              sum > 0 &&
              row[ownIndex]! > sum / 2
            )
              fault!.returnedAfterMs[service] = performance.now() - changedAt
          })
        const taken = events.take()
        const ejected = taken.find(
          (e) => e.type === 'eject' && e.azName === own && e.at >= changedAt,
        )
        if (
          fault !== undefined &&
          phase === fault.mode &&
          fault.ejectedAfterMs === undefined &&
          ejected
        )
          fault.ejectedAfterMs = ejected.at - changedAt
        const failed = window.failed === 0 ? s.green('0') : s.red(String(window.failed))
        log(
          [
            `   ${`${second}s`.padStart(5)}  ${phase.padEnd(9)}`,
            shares.map((share) => `${Math.round(share * 100)}%`.padStart(4)).join(' '),
            count(window.completed).padStart(7),
            ms(percentile(window.durations, 50)).padStart(6),
            ms(p99).padStart(7),
            ms(max).padStart(7),
            `${' '.repeat(Math.max(0, 7 - String(window.failed).length))}${failed}`,
          ].join(' '),
        )
        const notes = describeEvents(taken, short)
        if (window.retried > 0)
          notes.push(
            `${window.retried} reads (pg, mysql) lost in flight with zone ${short(own)}: retried by the app`,
          )
        for (const note of notes) log(s.dim(`          -> ${note}`))
        if (process.env['DEMO_DEBUG']) debugLine(lab, zones, window.maxByKind, log)
      }
    }
  } finally {
    events.stop()
    // Whatever happened above, zone b is healthy again for the steps after this one.
    await lab.zone(own).restore()
  }
  return { healthyP99Ms, faults }
}

function debugLine(
  lab: Lab,
  zones: string[],
  maxByKind: Record<string, number | undefined>,
  log: (line: string) => void,
): void {
  const stats = lab.stats()
  const services = Object.keys(stats[zones[0]!] ?? {})
  const bytes = services
    .map((service) => `${service} ${zones.map((z) => stats[z]![service]!.bytesOut).join('/')}`)
    .join('  ')
  log(`          [debug] max ${JSON.stringify(maxByKind)} bytes out ${bytes}`)
}
