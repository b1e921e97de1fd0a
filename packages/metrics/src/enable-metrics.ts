import type { Counter, Histogram, MeterProvider } from '@opentelemetry/api'
import { checkOptions, invalidOption } from '@privatelink/base'
import type { ChannelGroup } from './channel-mappings.js'
import { globalMeterProvider } from './global-meter-provider.js'
import { DURATION_BUCKETS, INSTRUMENTS, type InstrumentName } from './instruments.js'
import { groupsOf, subscribeChannels } from './subscribe-channels.js'

/** Options of `enableMetrics`. */
export interface EnableMetricsOptions {
  /**
   * Where the instruments come from (the meter is `@privatelink/metrics`). Pass your SDK's
   * `MeterProvider`; in a bundle, always pass it.
   * @default the global one, `metrics.getMeterProvider()` of @opentelemetry/api
   */
  meterProvider?: MeterProvider
  /**
   * The packages whose diagnostics channels to record: `'connector'` (zones, failovers,
   * connects; every adapter's connections), `'dns'`, `'pg'`, `'mysql'`, `'redis'`.
   * @default every group
   */
  include?: readonly ChannelGroup[]
}

/**
 * Turns the SDK's diagnostics channels into OpenTelemetry metrics (the README's table) and
 * returns the function that stops recording. Nothing is loaded for a package you do not use: the
 * channels are subscribed to by name.
 *
 * @example
 * ```ts
 * const stop = enableMetrics({ meterProvider })
 * // ... later, at shutdown
 * stop()
 * ```
 */
export function enableMetrics(options: EnableMetricsOptions = {}): () => void {
  const { provider, groups } = checkOptions('options', options, () => {
    if (typeof options !== 'object' || options === null)
      throw invalidOption('options', 'an object', options)
    const given = options.meterProvider
    if (given !== undefined && typeof (given as MeterProvider)?.getMeter !== 'function')
      throw invalidOption('meterProvider', 'a MeterProvider (with getMeter)', given)
    return { provider: given ?? globalMeterProvider(), groups: groupsOf(options.include) }
  })
  const meter = provider.getMeter('@privatelink/metrics')
  const instruments = new Map<InstrumentName, Counter | Histogram>()
  const instrument = (name: InstrumentName): Counter | Histogram => {
    let made = instruments.get(name)
    if (made === undefined) {
      const spec = INSTRUMENTS[name]
      made =
        spec.kind === 'counter'
          ? meter.createCounter(name, { unit: spec.unit, description: spec.description })
          : meter.createHistogram(name, {
              unit: spec.unit,
              description: spec.description,
              advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
            })
      instruments.set(name, made)
    }
    return made
  }
  return subscribeChannels(groups, ({ instrument: name, value, attributes }) => {
    const made = instrument(name)
    if (INSTRUMENTS[name].kind === 'counter') (made as Counter).add(value, attributes)
    else (made as Histogram).record(value, attributes)
  })
}
