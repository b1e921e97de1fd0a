import { type Bar, barChart, comparisonBars, ratioChart, timedBars } from './chart.js'
import type { Comparison, TimedComparison } from './measure.js'

/** The parts of results/latest.json the bar charts are drawn from. */
export interface ChartedResults {
  dns?: Comparison
  redis?: Comparison
  pg?: { steady: Comparison }
  http?: { steady: Comparison[]; bursts: TimedComparison[] }
  coldImport?: TimedComparison
}

export const steadyChartName = (c: Comparison) =>
  `http-steady-${c.title.match(/(\d+) in flight/)?.[1] ?? 'x'}.svg`

/** Every ratio chart and the summary, from the JSON alone (so `--redraw` needs no new run). */
export function barCharts(results: ChartedResults): Record<string, string> {
  const charts: Record<string, string> = {}
  const summary: Bar[] = []
  if (results.dns !== undefined) {
    charts['dns.svg'] = ratioChart(results.dns)
    summary.push(
      ...comparisonBars(results.dns, 'dns ').filter(
        (b) => b.kind === 'cpu' && b.label.includes('@privatelink'),
      ),
    )
  }
  if (results.redis !== undefined) {
    charts['redis.svg'] = ratioChart(results.redis)
    summary.push(...comparisonBars(results.redis, 'redis '))
  }
  if (results.pg !== undefined) {
    charts['pg.svg'] = ratioChart(results.pg.steady)
    summary.push(
      ...comparisonBars(results.pg.steady, 'pg ').filter((b) => b.label.includes('@privatelink')),
    )
  }
  if (results.http !== undefined) {
    for (const steady of results.http.steady) {
      charts[steadyChartName(steady)] = ratioChart(steady)
      summary.push(
        ...comparisonBars(steady, `http ${steady.title.match(/\d+ in flight/)?.[0]} `).filter((b) =>
          b.label.includes('dispatcher'),
        ),
      )
    }
    for (const burst of results.http.bursts)
      summary.push(
        ...timedBars(burst, `http burst of ${burst.title.match(/(\d+) requests/)?.[1]}: `),
      )
  }
  if (results.coldImport !== undefined) {
    charts['cold-import.svg'] = barChart(
      'Cold import: ratio to the raw library (median, min-max)',
      timedBars(results.coldImport),
      '1.0 = raw library; lower is better',
    )
    summary.push(...timedBars(results.coldImport, 'cold import '))
  }
  charts['summary.svg'] = barChart(
    'privatelink vs the raw libraries (median ratio, min-max over rounds)',
    summary,
    '1.0 = raw library; blue throughput (higher is better), orange CPU and green time (lower is better)',
  )
  return charts
}
