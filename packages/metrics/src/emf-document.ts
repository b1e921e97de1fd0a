/**
 * CloudWatch Embedded Metric Format documents, written to AWS's specification ("Specification:
 * Embedded metric format", CloudWatch User Guide): a root object with `_aws: { Timestamp,
 * CloudWatchMetrics: [{ Namespace, Dimensions: [[names]], Metrics: [{ Name, Unit }] }] }`, each
 * dimension a string member and each metric a number or an array of numbers at the root.
 */

/** At most 100 metric definitions per directive. */
export const MAX_METRICS_PER_DOCUMENT = 100
/** At most 100 values in one metric's array. */
export const MAX_VALUES_PER_METRIC = 100
/** At most 30 dimensions in a dimension set. */
export const MAX_DIMENSIONS = 30
/** Dimension values: 1 to 1024 ASCII characters. */
export const MAX_DIMENSION_VALUE_LENGTH = 1024

/** One metric of a group: its values (a counter's sum is one value). */
export interface EmfMetric {
  name: string
  unit: string
  values: readonly number[]
}

/** Metrics that share one set of dimension values: they go in the same documents. */
export interface EmfGroup {
  dimensions: Readonly<Record<string, string>>
  metrics: readonly EmfMetric[]
}

/** A dimension value CloudWatch takes: printable ASCII, 1-1024 characters. */
export function dimensionValue(value: string | number | boolean): string {
  const text = String(value).replace(/[^\x20-\x7e]/g, '?')
  return (text.trim() === '' ? '-' : text).slice(0, MAX_DIMENSION_VALUE_LENGTH)
}

/**
 * The JSON lines for `groups`: one document per group and per 100 metrics, a metric's values
 * split over documents 100 at a time (a lone value is written as a number, as CloudWatch reads
 * either).
 */
export function emfDocuments(
  namespace: string,
  timestamp: number,
  groups: readonly EmfGroup[],
): string[] {
  const lines: string[] = []
  for (const group of groups) {
    const names = Object.keys(group.dimensions)
    if (names.length > MAX_DIMENSIONS)
      throw new RangeError(`${names.length} dimensions: EMF takes at most ${MAX_DIMENSIONS}`)
    // (metric, first value) pairs still to write, in order.
    let pending = group.metrics
      .filter((metric) => metric.values.length > 0)
      .map((metric) => ({ metric, from: 0 }))
    while (pending.length > 0) {
      const batch = pending.slice(0, MAX_METRICS_PER_DOCUMENT)
      const document: Record<string, unknown> = { ...group.dimensions }
      const definitions: { Name: string; Unit: string }[] = []
      for (const entry of batch) {
        const values = entry.metric.values.slice(entry.from, entry.from + MAX_VALUES_PER_METRIC)
        document[entry.metric.name] = values.length === 1 ? values[0] : values
        definitions.push({ Name: entry.metric.name, Unit: entry.metric.unit })
        entry.from += values.length
      }
      document['_aws'] = {
        Timestamp: timestamp,
        CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [names], Metrics: definitions }],
      }
      lines.push(JSON.stringify(document))
      pending = [
        ...batch.filter((entry) => entry.from < entry.metric.values.length),
        ...pending.slice(MAX_METRICS_PER_DOCUMENT),
      ]
    }
  }
  return lines
}
