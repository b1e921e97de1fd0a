import type { Comparison, Spread, TimedComparison } from './measure.js'

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export interface Bar {
  label: string
  ratio: Spread
  /** cpu / time bars are "lower is better", throughput "higher is better". */
  kind: 'throughput' | 'cpu' | 'time'
}

const colours = { throughput: '#3c78d0', cpu: '#d08c3c', time: '#3ca05a' } as const

/**
 * A horizontal bar chart of ratios (1.0 = the raw library), one bar per row with min-max
 * whiskers across rounds. Hand-rolled SVG: no browser, no plotting dependency.
 */
export function barChart(title: string, bars: Bar[], footnote = '1.0 = raw library'): string {
  const labelWidth = 580
  const plotWidth = 320
  const rowHeight = 26
  const top = 40
  const height = top + bars.length * rowHeight + 30
  // The axis stops at 3x: a bar beyond it is drawn to the edge, its figure still printed.
  const maxRatio = Math.min(3, Math.max(1.5, ...bars.map((r) => r.ratio.max))) * 1.05
  const x = (ratio: number) => labelWidth + (Math.min(ratio, maxRatio) / maxRatio) * plotWidth
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 130}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ]
  bars.forEach((bar, index) => {
    const y = top + index * rowHeight
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${Math.max(1, x(bar.ratio.median) - labelWidth).toFixed(1)}" height="14" fill="${colours[bar.kind]}"/>`,
      `<line x1="${x(bar.ratio.min).toFixed(1)}" x2="${x(bar.ratio.max).toFixed(1)}" y1="${y + 11}" y2="${y + 11}" stroke="#222"/>`,
      `<text x="${(x(bar.ratio.max) + 6).toFixed(1)}" y="${y + 15}">${bar.ratio.median.toFixed(2)}x${bar.ratio.max > maxRatio ? ' (axis cut)' : ''}</text>`,
    )
  })
  const one = x(1)
  parts.push(
    `<line x1="${one.toFixed(1)}" x2="${one.toFixed(1)}" y1="${top - 4}" y2="${top + bars.length * rowHeight}" stroke="#888" stroke-dasharray="4 3"/>`,
    `<text x="${one.toFixed(1)}" y="${height - 10}" text-anchor="middle" fill="#555">${escapeXml(footnote)}</text>`,
    '</svg>',
  )
  return `${parts.join('\n')}\n`
}

/** Bars of a comparison: throughput and CPU ratio of every variant that has a baseline. */
export function comparisonBars(comparison: Comparison, prefix = ''): Bar[] {
  return comparison.variants
    .filter((v) => v.baseline !== v.name)
    .flatMap((v) => [
      { label: `${prefix}${v.name}: throughput`, ratio: v.throughputRatio, kind: 'throughput' },
      { label: `${prefix}${v.name}: CPU per ${comparison.unit}`, ratio: v.cpuRatio, kind: 'cpu' },
    ])
}

/** Bars of a timed comparison: time ratio of every variant that has a baseline. */
export function timedBars(comparison: TimedComparison, prefix = ''): Bar[] {
  return comparison.variants
    .filter((v) => v.baseline !== v.name)
    .map((v) => ({ label: `${prefix}${v.name} vs ${v.baseline}`, ratio: v.ratio, kind: 'time' }))
}

/** One comparison as a chart: ratio to each variant's baseline (median, min-max over rounds). */
export function ratioChart(comparison: Comparison): string {
  return barChart(
    `${comparison.title}: ratio to the raw library (median, min-max)`,
    comparisonBars(comparison),
    '1.0 = raw library; throughput: higher is better, CPU: lower is better',
  )
}

/**
 * At most three points per pixel column (min, median, max): a chart of thousands of requests
 * stays small and keeps its outliers.
 */
function thin(points: { t: number; ms: number }[], columns: number, maxT: number) {
  const byColumn = new Map<number, { t: number; ms: number }[]>()
  for (const p of points) {
    const column = Math.floor((p.t / maxT) * columns)
    const list = byColumn.get(column) ?? []
    list.push(p)
    byColumn.set(column, list)
  }
  return [...byColumn.values()].flatMap((list) => {
    if (list.length <= 3) return list
    const sorted = [...list].sort((a, b) => a.ms - b.ms)
    return [sorted[0]!, sorted[Math.floor(sorted.length / 2)]!, sorted.at(-1)!]
  })
}

/** Latency over time (ms per request, by second since start), one series per variant. */
export function timelineChart(
  title: string,
  series: { name: string; points: { t: number; ms: number }[] }[],
  marks: { t: number; label: string }[] = [],
  options: { logScale?: boolean } = {},
): string {
  const width = 720
  const height = 300
  const left = 56
  const right = 20
  const bottom = 40
  const top = 50
  const all = series.flatMap((s) => s.points)
  // A loop, not Math.max(...all): a warm-load run has ~100k points, past the argument limit.
  let maxT = 1
  let maxMs = 1
  for (const p of all) {
    if (p.t > maxT) maxT = p.t
    if (p.ms > maxMs) maxMs = p.ms
  }
  maxMs *= 1.1
  const log = options.logScale === true
  // Log scale from 0.1 ms: a 1 ms connect and a 10 s one fit on one chart.
  const minLog = -1
  const maxLog = Math.log10(maxMs)
  const plotHeight = height - bottom - top
  const x = (t: number) => left + (t / maxT) * (width - left - right)
  const y = (ms: number) =>
    height -
    bottom -
    (log
      ? ((Math.log10(Math.max(ms, 0.1)) - minLog) / (maxLog - minLog)) * plotHeight
      : (ms / maxMs) * plotHeight)
  const colours = ['#3c78d0', '#d08c3c', '#3ca05a', '#a03c8c']
  const ticks = log
    ? [0.1, 1, 10, 100, 1_000, 10_000, 100_000].filter((tick) => tick <= maxMs)
    : [0, Math.round(maxMs / 1.1)]
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${height - bottom}" stroke="#888"/>`,
    `<line x1="${left}" x2="${width - right}" y1="${height - bottom}" y2="${height - bottom}" stroke="#888"/>`,
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle">seconds since start; ms per operation on the y axis${log ? ' (log scale)' : ''}</text>`,
  ]
  for (const tick of ticks)
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${tick}</text>`,
    )
  for (const second of Array.from({ length: Math.floor(maxT / 5) + 1 }, (_, i) => i * 5))
    parts.push(
      `<text x="${x(second).toFixed(1)}" y="${height - bottom + 14}" text-anchor="middle">${second}</text>`,
    )
  for (const mark of marks) {
    parts.push(
      `<line x1="${x(mark.t).toFixed(1)}" x2="${x(mark.t).toFixed(1)}" y1="${top - 14}" y2="${height - bottom}" stroke="#c33" stroke-dasharray="3 3"/>`,
      `<text x="${(x(mark.t) + 3).toFixed(1)}" y="${top - 4}" fill="#c33">${escapeXml(mark.label)}</text>`,
    )
  }
  series.forEach((s, index) => {
    const colour = colours[index % colours.length]
    for (const p of thin(s.points, width - left - right, maxT))
      parts.push(
        `<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.ms).toFixed(1)}" r="1.5" fill="${colour}"/>`,
      )
    parts.push(
      `<text x="${width - right - 4}" y="${top + 14 + index * 16}" text-anchor="end" fill="${colour}">${escapeXml(s.name)}</text>`,
    )
  })
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}
