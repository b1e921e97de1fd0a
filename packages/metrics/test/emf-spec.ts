/**
 * A checker for CloudWatch Embedded Metric Format documents, written from AWS's specification
 * ("Specification: Embedded metric format", CloudWatch User Guide), apart from the writer it
 * checks. Returns the problems found; [] for a valid document.
 */
const UNITS = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
])

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

export function emfProblems(line: string): string[] {
  const problems: string[] = []
  let root: unknown
  try {
    root = JSON.parse(line)
  } catch {
    return ['not JSON']
  }
  if (line.includes('\n')) problems.push('more than one line')
  if (!isObject(root)) return ['root is not an object']
  const aws = root['_aws']
  if (!isObject(aws)) return ['_aws missing or not an object']
  for (const key of Object.keys(aws))
    if (!['Timestamp', 'CloudWatchMetrics', 'LogGroupName', 'LogStreamName'].includes(key))
      problems.push(`_aws has an unknown member ${key}`)
  if (!Number.isInteger(aws['Timestamp']) || (aws['Timestamp'] as number) < 0)
    problems.push('_aws.Timestamp is not ms since the epoch')
  const directives = aws['CloudWatchMetrics']
  if (!Array.isArray(directives) || directives.length === 0)
    return [...problems, '_aws.CloudWatchMetrics is not a non-empty array']
  for (const directive of directives) {
    if (!isObject(directive)) {
      problems.push('a MetricDirective is not an object')
      continue
    }
    for (const key of Object.keys(directive))
      if (!['Namespace', 'Dimensions', 'Metrics'].includes(key))
        problems.push(`MetricDirective has an unknown member ${key}`)
    const namespace = directive['Namespace']
    if (typeof namespace !== 'string' || namespace.length < 1 || namespace.length > 255)
      problems.push('Namespace is not 1-255 characters')
    const dimensionSets = directive['Dimensions']
    if (!Array.isArray(dimensionSets)) problems.push('Dimensions is not an array')
    else
      for (const set of dimensionSets) {
        if (!Array.isArray(set)) {
          problems.push('a DimensionSet is not an array')
          continue
        }
        if (set.length > 30) problems.push(`a DimensionSet has ${set.length} dimensions (max 30)`)
        for (const name of set) {
          const value = root[name as string]
          if (typeof name !== 'string') problems.push('a dimension reference is not a string')
          else if (typeof value !== 'string' || value.length < 1 || value.length > 1024)
            problems.push(`dimension ${name} is not a string of 1-1024 characters`)
          else if (!/^[\x20-\x7e]+$/.test(value)) problems.push(`dimension ${name} is not ASCII`)
        }
      }
    const metrics = directive['Metrics']
    if (!Array.isArray(metrics)) {
      problems.push('Metrics is not an array')
      continue
    }
    if (metrics.length > 100) problems.push(`${metrics.length} metrics in one directive (max 100)`)
    for (const metric of metrics) {
      if (!isObject(metric)) {
        problems.push('a MetricDefinition is not an object')
        continue
      }
      for (const key of Object.keys(metric))
        if (!['Name', 'Unit', 'StorageResolution'].includes(key))
          problems.push(`MetricDefinition has an unknown member ${key}`)
      const name = metric['Name']
      if (typeof name !== 'string' || name.length < 1 || name.length > 1024) {
        problems.push('a metric Name is not 1-1024 characters')
        continue
      }
      if (metric['Unit'] !== undefined && !UNITS.has(metric['Unit'] as string))
        problems.push(`metric ${name} has an unknown Unit ${String(metric['Unit'])}`)
      if (
        metric['StorageResolution'] !== undefined &&
        ![1, 60].includes(metric['StorageResolution'] as number)
      )
        problems.push(`metric ${name} has a StorageResolution other than 1 or 60`)
      const value = root[name]
      const values = Array.isArray(value) ? value : [value]
      if (values.length > 100) problems.push(`metric ${name} has ${values.length} values (max 100)`)
      if (!values.every((v) => typeof v === 'number' && Number.isFinite(v)))
        problems.push(`metric ${name}'s target member is not a number or an array of numbers`)
    }
  }
  return problems
}
