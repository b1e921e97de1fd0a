import {
  type DataPoint,
  DataPointType,
  type Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics'

/** A reader that exports nothing on its own: the test calls collect() when it wants the data. */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** One data point, flattened: a counter's sum, or a histogram's count, sum and buckets. */
export interface Point {
  name: string
  unit: string
  attributes: Record<string, unknown>
  value?: number
  count?: number
  sum?: number
  buckets?: number[]
}

/** A real OpenTelemetry MeterProvider with a reader collected on demand (no timers). */
export function onDemandMetrics() {
  const reader = new OnDemandReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  return {
    meterProvider,
    async collect(): Promise<Point[]> {
      const { resourceMetrics, errors } = await reader.collect()
      if (errors.length > 0) throw errors[0]
      return resourceMetrics.scopeMetrics.flatMap((scope) =>
        scope.metrics.flatMap((metric) =>
          (metric.dataPoints as DataPoint<number | Histogram>[]).map((point): Point => {
            const base = {
              name: metric.descriptor.name,
              unit: metric.descriptor.unit,
              attributes: { ...point.attributes },
            }
            if (metric.dataPointType === DataPointType.HISTOGRAM) {
              const h = point.value as Histogram
              return { ...base, count: h.count, sum: h.sum ?? 0, buckets: h.buckets.boundaries }
            }
            return { ...base, value: point.value as number }
          }),
        ),
      )
    },
    shutdown: () => meterProvider.shutdown(),
  }
}

/** The points of one metric. */
export const named = (points: Point[], name: string) => points.filter((p) => p.name === name)

/** Sum of a counter's points whose attributes include `match`. */
export function total(points: Point[], name: string, match: Record<string, unknown> = {}): number {
  return named(points, name)
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + (p.value ?? p.count ?? 0), 0)
}
