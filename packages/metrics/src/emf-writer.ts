import { checkOptions, invalidOption } from '@privatelink/base'
import { ATTRIBUTES } from './attributes.js'
import type { ChannelGroup, Measurement } from './channel-mappings.js'
import { dimensionValue, type EmfGroup, emfDocuments, MAX_DIMENSIONS } from './emf-document.js'
import { INSTRUMENTS, type InstrumentName } from './instruments.js'
import { groupsOf, subscribeChannels } from './subscribe-channels.js'

/** Options of `createEmfWriter`. */
export interface EmfWriterOptions {
  /**
   * The CloudWatch namespace: 1-255 of `a-z A-Z 0-9 . _ - # : /` and space, not starting `AWS/`.
   * @default 'PrivateLink'
   */
  namespace?: string
  /**
   * The attributes kept as CloudWatch dimensions (at most 30; every combination of values is a
   * custom metric, billed on its own); the others are summed over.
   * @default DEFAULT_EMF_DIMENSIONS
   */
  dimensions?: readonly string[]
  /** The packages whose channels to record, as in `enableMetrics`. @default every group */
  include?: readonly ChannelGroup[]
  /**
   * Where a line goes. On Lambda, stdout is the function's log stream, and CloudWatch Logs
   * extracts the metrics from it (with the JSON log format too: the line is not wrapped).
   * @default a line on process.stdout
   */
  write?: (line: string) => void
  /**
   * The clock of `_aws.Timestamp`, in ms since the epoch. A reading that is not a non-negative
   * integer (NaN, -1, 1.5, a string) is replaced by Date.now(), with one warning
   * (`PRIVATELINK_METRICS_BAD_CLOCK`): CloudWatch would drop the document, and its metrics with it.
   * @default Date.now
   */
  clock?: () => number
}

/** The writer `createEmfWriter` returns. */
export interface EmfWriter {
  /** Writes what was recorded since the last flush (nothing when nothing was); returns the lines written. */
  flush(): number
  /** Flushes, then stops recording. */
  close(): void
}

/** Zone, client, error code and pinning cause, plus the few other low-cardinality labels. */
export const DEFAULT_EMF_DIMENSIONS: readonly string[] = [
  ATTRIBUTES.availabilityZone,
  ATTRIBUTES.client,
  ATTRIBUTES.errorType,
  ATTRIBUTES.pinningCause,
  ATTRIBUTES.retireReason,
  ATTRIBUTES.outcome,
]

/** A busy process that never flushes must not grow without bound: values past this are dropped. */
const MAX_VALUES_KEPT = 1_000

const NAMESPACE = /^(?!AWS\/)(?=.*\S)[a-zA-Z0-9 ._#:/-]{1,255}$/

/**
 * Records the SDK's diagnostics channels and writes them as CloudWatch Embedded Metric Format
 * lines on `flush()`: counters as their sum since the last flush, durations as every value (in
 * seconds). No network, no environment detection: the cheapest way to a metric on Lambda is a
 * log line. Wrap the handler with `withEmfMetrics` to flush at the end of every invocation.
 */
export function createEmfWriter(options: EmfWriterOptions = {}): EmfWriter {
  const config = checkOptions('options', options, () => resolveOptions(options))
  // One entry per set of dimension values: metric name -> values (a counter keeps one sum).
  const groups = new Map<
    string,
    { dimensions: Record<string, string>; values: Map<InstrumentName, number[]> }
  >()
  const record = ({ instrument, value, attributes }: Measurement) => {
    const dimensions: Record<string, string> = {}
    for (const name of config.dimensions)
      if (attributes[name] !== undefined) dimensions[name] = dimensionValue(attributes[name])
    const key = JSON.stringify(dimensions)
    let group = groups.get(key)
    if (group === undefined) {
      group = { dimensions, values: new Map() }
      groups.set(key, group)
    }
    const values = group.values.get(instrument)
    if (values === undefined) group.values.set(instrument, [value])
    else if (INSTRUMENTS[instrument].kind === 'counter') values[0]! += value
    else if (values.length < MAX_VALUES_KEPT) values.push(value)
  }
  const unsubscribe = subscribeChannels(config.groups, record)
  let warned = false
  const timestamp = (): number => {
    const now: unknown = config.clock()
    if (typeof now === 'number' && Number.isSafeInteger(now) && now >= 0) return now
    if (!warned) {
      warned = true
      process.emitWarning(
        `privatelink/metrics: the EMF writer's clock returned ${typeof now === 'number' ? now : typeof now}, not ms since the epoch; Date.now() is written instead (later bad readings are not reported)`,
        { code: 'PRIVATELINK_METRICS_BAD_CLOCK' },
      )
    }
    return Date.now()
  }
  const flush = (): number => {
    if (groups.size === 0) return 0
    const documents: EmfGroup[] = [...groups.values()].map((group) => ({
      dimensions: group.dimensions,
      metrics: [...group.values].map(([name, values]) => ({
        name,
        unit: INSTRUMENTS[name].cloudWatchUnit,
        values,
      })),
    }))
    groups.clear()
    const lines = emfDocuments(config.namespace, timestamp(), documents)
    for (const line of lines) config.write(line)
    return lines.length
  }
  return {
    flush,
    close() {
      flush()
      unsubscribe()
    },
  }
}

function resolveOptions(options: EmfWriterOptions) {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object', options)
  const namespace = options.namespace ?? 'PrivateLink'
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace))
    throw invalidOption(
      'namespace',
      "1-255 characters of a-z A-Z 0-9 . _ - # : / and space, not starting with 'AWS/'",
      namespace,
    )
  const dimensions = options.dimensions ?? DEFAULT_EMF_DIMENSIONS
  if (
    !Array.isArray(dimensions) ||
    dimensions.length > MAX_DIMENSIONS ||
    !dimensions.every(
      (name) =>
        typeof name === 'string' && /^[\x20-\x7e]{1,250}$/.test(name) && !name.startsWith(':'),
    )
  )
    throw invalidOption(
      'dimensions',
      `an array of at most ${MAX_DIMENSIONS} attribute names (ASCII, 1-250 characters, not starting with ':')`,
      dimensions,
    )
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`))
  if (typeof write !== 'function') throw invalidOption('write', 'a function (line) => void', write)
  const clock = options.clock ?? Date.now
  if (typeof clock !== 'function') throw invalidOption('clock', 'a function returning ms', clock)
  return {
    namespace,
    dimensions: [...dimensions] as string[],
    write,
    clock,
    groups: groupsOf(options.include),
  }
}
