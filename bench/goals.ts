import type { ColdImportBench } from './cold-import.js'
import type { HttpBench } from './http.js'
import type { IdleCostBench } from './idle-cost.js'
import type { LambdaBundle } from './lambda-bundle.js'
import type { Comparison, Spread, TimedComparison } from './measure.js'
import type { PgBench } from './pg.js'
import type { RedisBench } from './redis.js'
import type { TopologyBench } from './topology.js'

/** One goal an issue set, the figure measured against it, and whether it was met. */
export interface Goal {
  issue: number
  goal: string
  measured: string
  /** null: the issue asks for the figure but sets no goal. */
  met: boolean | null
}

const ratio = (s: Spread) => `${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)})`

function variant(comparison: Comparison, name: string) {
  const found = comparison.variants.find((v) => v.name === name)
  if (found === undefined) throw new Error(`no variant ${name} in ${comparison.title}`)
  return found
}

function timed(comparison: TimedComparison, name: string) {
  const found = comparison.variants.find((v) => v.name === name)
  if (found === undefined) throw new Error(`no variant ${name} in ${comparison.title}`)
  return found
}

const number = (row: Record<string, string | number> | undefined, column: string) =>
  Number(row?.[column] ?? Number.NaN)

/** The goals of issues 10, 11, 19 and 31 checked against the figures (medians of per-round ratios). */
export function goals(results: {
  http?: HttpBench
  pg?: PgBench
  redis?: RedisBench
  coldImport?: ColdImportBench
  lambda?: LambdaBundle
  topology?: TopologyBench
  idle?: IdleCostBench
}): Goal[] {
  const out: Goal[] = []
  if (results.topology !== undefined) out.push(...topologyGoals(results.topology))
  const { http, pg, redis, coldImport, lambda, idle } = results
  if (http !== undefined) {
    for (const steady of http.steady) {
      const d = variant(steady, '@privatelink/http dispatcher request()')
      const inFlight = steady.title.match(/(\d+) in flight/)?.[1]
      const failed = Object.entries(http.steadyFailures)
        .filter(([key]) => key.startsWith(`${d.name}, ${inFlight}:`))
        .reduce((sum, [, n]) => sum + n, 0)
      out.push({
        issue: 19,
        goal: `steady state (${steady.title}): >= 0.98x the Agent's req/s, <= 1.02x its CPU/req`,
        measured: `req/s ${ratio(d.throughputRatio)}, CPU ${ratio(d.cpuRatio)}, ${failed} failed`,
        met: d.throughputRatio.median >= 0.98 && d.cpuRatio.median <= 1.02 && failed === 0,
      })
    }
    for (const row of http.newConnections.filter((r) => 'added p99 ms' in r))
      out.push({
        issue: 19,
        goal: `${row['case']}: added p99 < 50 ms, 0 errors`,
        measured: `added p99 ${row['added p99 ms']} ms, ${row['failed']} failed`,
        met: number(row, 'added p99 ms') < 50 && number(row, 'failed') === 0,
      })
    for (const burst of http.bursts) {
      const d = timed(burst, '@privatelink/http dispatcher')
      const outside = d.details.reduce<number>((sum, detail) => {
        const zones = (detail as { zones: number[] }).zones
        return sum + zones.slice(1).reduce((a, b) => a + b, 0)
      }, 0)
      const failed = d.details.reduce<number>(
        (sum, detail) => sum + (detail as { failed: number }).failed,
        0,
      )
      out.push({
        issue: 19,
        goal: `${burst.title}: no connections outside the own zone, <= 1.1x the Agent's time`,
        measured: `${outside} connections outside the own zone over ${d.values.length} rounds, time ${ratio(d.ratio)}, ${failed} failed`,
        met: outside === 0 && d.ratio.median <= 1.1 && failed === 0,
      })
    }
    const failed = http.warm.rows.reduce((sum, row) => sum + number(row, 'failed'), 0)
    const max = Math.max(
      ...http.warm.rows.map((row) => number(row, 'max ms')).filter(Number.isFinite),
    )
    out.push({
      issue: 19,
      goal: 'warm zone loss (own zone blackholed, then hung), default options: 0 failed, max <= 5 s',
      measured: `${failed} failed, max ${(max / 1000).toFixed(2)} s`,
      met: failed === 0 && max <= 5_000,
    })
    const region = http.region
    const seconds = (value: number | undefined) =>
      value === undefined ? 'not seen' : `${value.toFixed(2)} s`
    out.push({
      issue: 20,
      goal: 'a whole region blackholed under keep-alive load (HTTP, default options): 0 failed, traffic in the secondary < 2 s, back after restore',
      measured: `${region.failed} failed; first request served by the secondary ${seconds(region.firstSecondaryS)} after the fault (failover event ${seconds(region.failoverS)}); return ${seconds(region.returnS)} after the restore`,
      met:
        region.failed === 0 &&
        region.firstSecondaryS !== undefined &&
        region.firstSecondaryS < 2 &&
        region.returnS !== undefined,
    })
  }
  if (pg !== undefined) {
    const d = variant(pg.steady, '@privatelink/pg createPool')
    out.push({
      issue: 10,
      goal: 'SELECT 1 at 8 in flight: createPool >= 0.97x raw pg.Pool',
      measured: `q/s ${ratio(d.throughputRatio)}, CPU ${ratio(d.cpuRatio)}`,
      met: d.throughputRatio.median >= 0.97,
    })
  }
  if (redis !== undefined) {
    const d = variant(redis.steady, '@privatelink/redis createRedis')
    out.push({
      issue: 11,
      goal: 'GET/SET at 16 in flight: createRedis >= 0.97x raw ioredis',
      measured: `ops/s ${ratio(d.throughputRatio)}, CPU ${ratio(d.cpuRatio)}`,
      met: d.throughputRatio.median >= 0.97,
    })
  }
  if (coldImport !== undefined) {
    const http = timed(coldImport.comparison, '@privatelink/http')
    out.push({
      issue: 19,
      goal: 'cold import of @privatelink/http <= 1.1x undici alone',
      measured: ratio(http.ratio),
      met: http.ratio.median <= 1.1,
    })
    const pgImport = timed(coldImport.comparison, '@privatelink/pg')
    const ec2 = coldImport.loadedClientEc2.includes('@privatelink/pg')
    out.push({
      issue: 10,
      goal: 'cold import of @privatelink/pg <= 1.15x pg + @aws-sdk/rds-signer, no @aws-sdk/client-ec2 loaded',
      measured: `${ratio(pgImport.ratio)}, client-ec2 ${ec2 ? 'loaded' : 'not loaded'}`,
      met: pgImport.ratio.median <= 1.15 && !ec2,
    })
    const redisImport = timed(coldImport.comparison, '@privatelink/redis')
    out.push({
      issue: 11,
      goal: 'cold import of @privatelink/redis vs ioredis alone (figure asked for, no goal set)',
      measured: ratio(redisImport.ratio),
      met: null,
    })
  }
  if (lambda !== undefined)
    out.push({
      issue: 10,
      goal: 'esbuild bundle of the Lambda example: no @aws-sdk/client-ec2 in it',
      measured: `${(lambda.bytes / 1024).toFixed(0)} KiB, client-ec2 ${lambda.containsClientEc2 ? 'in it' : 'not in it'}`,
      met: !lambda.containsClientEc2,
    })
  if (idle !== undefined) out.push(...idleGoals(idle))
  return out
}

/** Issue 30: what idle clients cost, per endpoint and per additional client. */
function idleGoals(idle: IdleCostBench): Goal[] {
  const percent = (value: number) => `${value.toFixed(4)}% of a core`
  return [
    {
      issue: 30,
      goal: 'idle CPU per endpoint (one client each, checks on) <= 0.05% of a core',
      measured: percent(idle.cpuPerEndpointPercent),
      met: idle.cpuPerEndpointPercent <= 0.05,
    },
    {
      issue: 30,
      goal: 'idle CPU per additional client of an endpoint <= 0.01% of a core',
      measured: percent(idle.cpuPerExtraClientPercent),
      met: idle.cpuPerExtraClientPercent <= 0.01,
    },
    {
      issue: 30,
      goal: 'memory per endpoint (one client each) <= 0.3 MB',
      measured: `${idle.memoryPerEndpointMb.toFixed(3)} MB (per additional client ${idle.memoryPerExtraClientMb.toFixed(3)} MB)`,
      met: idle.memoryPerEndpointMb <= 0.3,
    },
  ]
}

/** Issue 31: on the modelled AWS topology, ours against each of today's ways, per package. */
function topologyGoals(topology: TopologyBench): Goal[] {
  const share = (value: number) => `${(value * 100).toFixed(2)}%`
  return topology.packages.flatMap((result) =>
    result.variants
      .filter((v) => v.ours)
      .flatMap((v): Goal[] => {
        const base = result.variants.find((candidate) => candidate.name === v.versus)!
        return [
          {
            issue: 31,
            goal: `${result.name}: ${v.name}, 0% of bytes across zones while the own zone is healthy`,
            measured: `${share(v.crossZoneShare.median)} (rounds ${share(v.crossZoneShare.min)}-${share(v.crossZoneShare.max)}); ${base.name}: ${share(base.crossZoneShare.median)}`,
            met: v.crossZoneShare.max === 0,
          },
          {
            issue: 31,
            goal: `${result.name}: ${v.name}, p50 and p99 below ${base.name}'s`,
            measured: `p50 ${ratio(v.p50Ratio!)}, p99 ${ratio(v.p99Ratio!)}`,
            met: v.p50Ratio!.median < 1 && v.p99Ratio!.median < 1,
          },
          {
            issue: 31,
            goal: `${result.name}: ${v.name}, 0 failed operations in the zone-loss phase`,
            measured: `${v.zoneLoss.failed} failed of ${v.zoneLoss.operations}, slowest ${(v.zoneLoss.slowestMs / 1000).toFixed(2)} s; ${base.name}: ${base.zoneLoss.failed} failed, slowest ${(base.zoneLoss.slowestMs / 1000).toFixed(2)} s`,
            met: v.zoneLoss.failed === 0,
          },
        ]
      }),
  )
}
