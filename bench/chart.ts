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
  const labelWidth = 460
  const plotWidth = 320
  const rowHeight = 26
  const top = 40
  const height = top + bars.length * rowHeight + 30
  const maxRatio = Math.max(1.5, ...bars.map((r) => r.ratio.max)) * 1.05
  const x = (ratio: number) => labelWidth + (ratio / maxRatio) * plotWidth
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 70}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ]
  bars.forEach((bar, index) => {
    const y = top + index * rowHeight
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${Math.max(1, x(bar.ratio.median) - labelWidth).toFixed(1)}" height="14" fill="${colours[bar.kind]}"/>`,
      `<line x1="${x(bar.ratio.min).toFixed(1)}" x2="${x(bar.ratio.max).toFixed(1)}" y1="${y + 11}" y2="${y + 11}" stroke="#222"/>`,
      `<text x="${(x(bar.ratio.max) + 6).toFixed(1)}" y="${y + 15}">${bar.ratio.median.toFixed(2)}x</text>`,
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

/** Latency over time (ms per request, by second since start), one series per variant. */
export function timelineChart(
  title: string,
  series: { name: string; points: { t: number; ms: number }[] }[],
  marks: { t: number; label: string }[] = [],
): string {
  const width = 720
  const height = 280
  const left = 50
  const bottom = 40
  const all = series.flatMap((s) => s.points)
  const maxT = Math.max(1, ...all.map((p) => p.t))
  const maxMs = Math.max(1, ...all.map((p) => p.ms)) * 1.1
  const x = (t: number) => left + (t / maxT) * (width - left - 20)
  const y = (ms: number) => height - bottom - (ms / maxMs) * (height - bottom - 30)
  const colours = ['#3c78d0', '#d08c3c', '#3ca05a', '#a03c8c']
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${left}" x2="${left}" y1="30" y2="${height - bottom}" stroke="#888"/>`,
    `<line x1="${left}" x2="${width - 20}" y1="${height - bottom}" y2="${height - bottom}" stroke="#888"/>`,
    `<text x="${left - 6}" y="${y(maxMs / 1.1) + 4}" text-anchor="end">${Math.round(maxMs / 1.1)}</text>`,
    `<text x="${left - 6}" y="${height - bottom + 4}" text-anchor="end">0</text>`,
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle">seconds (ms per request on the y axis)</text>`,
  ]
  for (const mark of marks) {
    parts.push(
      `<line x1="${x(mark.t)}" x2="${x(mark.t)}" y1="30" y2="${height - bottom}" stroke="#c33" stroke-dasharray="3 3"/>`,
      `<text x="${x(mark.t) + 4}" y="42" fill="#c33">${escapeXml(mark.label)}</text>`,
    )
  }
  series.forEach((s, index) => {
    const colour = colours[index % colours.length]
    for (const p of s.points)
      parts.push(
        `<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.ms).toFixed(1)}" r="1.5" fill="${colour}"/>`,
      )
    parts.push(
      `<text x="${width - 200}" y="${60 + index * 16}" fill="${colour}">${escapeXml(s.name)}</text>`,
    )
  })
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}
