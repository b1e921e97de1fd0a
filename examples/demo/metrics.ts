import {
  type DataPoint,
  DataPointType,
  type Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics'
import { enableMetrics } from '@privatelink/metrics'
import { count, ms } from './format.js'

/** Collected when the demo asks (no export interval): the table is printed once. */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

interface Point {
  name: string
  attributes: Record<string, unknown>
  value: number
  sum: number
}

/** The app's metrics: @privatelink/metrics on an OpenTelemetry MeterProvider, as an app would. */
export function startMetrics() {
  const reader = new OnDemandReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  const stop = enableMetrics({ meterProvider })
  return {
    async collect(): Promise<Point[]> {
      const { resourceMetrics } = await reader.collect()
      return resourceMetrics.scopeMetrics.flatMap((scope) =>
        scope.metrics.flatMap((metric) =>
          (metric.dataPoints as DataPoint<number | Histogram>[]).map((point) => {
            const histogram = metric.dataPointType === DataPointType.HISTOGRAM
            const h = point.value as Histogram
            return {
              name: metric.descriptor.name,
              attributes: point.attributes,
              value: histogram ? h.count : (point.value as number),
              sum: histogram ? (h.sum ?? 0) : (point.value as number),
            }
          }),
        ),
      )
    },
    async close(): Promise<void> {
      stop()
      await meterProvider.shutdown()
    },
  }
}

const zone = (p: Point) => String(p.attributes['cloud.availability_zone'] ?? '?').slice(-1)

/** metric -> how its points read in one cell: grouped by the attribute that tells most. */
const ROWS: [string, (p: Point) => string][] = [
  ['privatelink.connector.connections', zone],
  ['privatelink.zone.ejections', (p) => `${zone(p)} ${p.attributes['privatelink.health.signal']}`],
  ['privatelink.zone.readmissions', zone],
  [
    'privatelink.connector.failovers',
    (p) => `${String(p.attributes['privatelink.failover.from']).slice(-1)}->${zone(p)}`,
  ],
  ['privatelink.connection.errors', (p) => String(p.attributes['error.type'])],
  [
    'privatelink.pool.retired_connections',
    (p) => String(p.attributes['privatelink.retire.reason']),
  ],
  ['privatelink.token.refreshes', (p) => String(p.attributes['privatelink.client'])],
  [
    'privatelink.rds_proxy.pinned_statements',
    (p) => String(p.attributes['privatelink.pinning.cause']),
  ],
  ['privatelink.dns.refused_answers', () => 'total'],
]

/** A short table: one line per metric that has points, its values by their telling attribute. */
export function metricsTable(points: Point[]): string[] {
  const lines: string[] = []
  for (const [name, label] of ROWS) {
    const sums = new Map<string, number>()
    for (const point of points.filter((p) => p.name === name))
      sums.set(label(point), (sums.get(label(point)) ?? 0) + point.value)
    const cells = [...sums].sort(([a], [b]) => a.localeCompare(b))
    lines.push(
      `${name.padEnd(40)} ${cells.length === 0 ? '0' : cells.map(([key, n]) => `${key} ${count(n)}`).join(', ')}`,
    )
  }
  const durations = points.filter((p) => p.name === 'privatelink.connector.connect.duration')
  const n = durations.reduce((sum, p) => sum + p.value, 0)
  const seconds = durations.reduce((sum, p) => sum + p.sum, 0)
  if (n > 0)
    lines.splice(
      1,
      0,
      `${'privatelink.connector.connect.duration'.padEnd(40)} ${count(n)} connects, mean ${ms((seconds / n) * 1000)}`,
    )
  return lines
}
