import { createConnector } from '@privatelink/core'
import type { Lab } from '@privatelink/lab'
import { timelineChart } from './chart.js'
import { percentile, table } from './measure.js'

interface Point {
  t: number
  ms: number
  ok: boolean
}

export interface FailoverTimeline {
  rows: Record<string, string | number>[]
  svg: string
  markdown: string
}

/**
 * New connections (TCP + TLS, one at a time) over time while the own zone is refused,
 * blackholed and hung in turn: default options vs racing off (the next zone only after the
 * connect timeout, as a sequential client would). Both loops run at once against the same
 * faults, each with its own connector and zone health.
 */
export async function failoverTimeline(
  lab: Lab,
  tls: { ca: string; servername: string },
  options: { quick?: boolean } = {},
): Promise<FailoverTimeline> {
  const phase = options.quick ? 1.5 : 4
  const own = lab.zone('us-west-2a')
  const locality = { source: 'options' as const, azId: lab.endpoint.zones[0]!.azId }
  const connectTimeoutMs = 10_000
  const variants = {
    'default options': createConnector({ endpoint: lab.endpoint, port: 443, tls, locality }),
    'racing off (attemptDelayMs = connectTimeoutMs, 10 s)': createConnector({
      endpoint: lab.endpoint,
      port: 443,
      tls,
      locality,
      attemptDelayMs: connectTimeoutMs,
      connectTimeoutMs,
    }),
  }
  const plan = [
    { at: phase, label: 'refuse', run: () => own.fail('refuse') },
    { at: phase * 2, label: 'restore', run: () => own.restore() },
    { at: phase * 3, label: 'blackhole', run: () => own.fail('blackhole') },
    { at: phase * 4, label: 'restore', run: () => own.restore() },
    { at: phase * 5, label: 'hang', run: () => own.fail('hang') },
    { at: phase * 6, label: 'restore', run: () => own.restore() },
  ]
  const end = phase * 7
  const zero = performance.now()
  let stop = false
  const series: Record<string, Point[]> = {}
  try {
    // Connect times known before the first fault (the adaptive attempt delay needs them).
    for (const connector of Object.values(variants))
      for (let i = 0; i < 10; i++) (await connector.connect()).destroy()
    const faults = plan.map(
      (step) =>
        new Promise<void>((resolve) =>
          setTimeout(() => void step.run().then(resolve, resolve), step.at * 1000),
        ),
    )
    const stopper = setTimeout(() => {
      stop = true
    }, end * 1000)
    const loops = Object.entries(variants).map(async ([name, connector]) => {
      const points: Point[] = []
      series[name] = points
      while (!stop) {
        const begin = performance.now()
        let ok = true
        try {
          ;(await connector.connect()).destroy()
        } catch {
          ok = false
        }
        points.push({ t: (begin - zero) / 1000, ms: performance.now() - begin, ok })
      }
    })
    await Promise.all([...loops, ...faults])
    clearTimeout(stopper)
  } finally {
    await own.restore().catch(() => {})
    for (const connector of Object.values(variants)) connector.close()
  }
  const phases = [
    ['healthy', 0],
    ['refused', 1],
    ['restored', 2],
    ['blackholed', 3],
    ['restored', 4],
    ['hung', 5],
    ['restored', 6],
  ] as const
  const rows = Object.entries(series).flatMap(([name, points]) =>
    phases.map(([label, index]) => {
      const inPhase = points.filter((p) => p.t >= index * phase && p.t < (index + 1) * phase)
      const ms = inPhase.map((p) => p.ms)
      const shown = (value: number) => (ms.length === 0 ? '-' : value.toFixed(1))
      return {
        variant: name,
        'own zone': `${label} (${index * phase}-${(index + 1) * phase} s)`,
        connects: inPhase.length,
        failed: inPhase.filter((p) => !p.ok).length,
        'p50 ms': shown(percentile(ms, 50)),
        'p99 ms': shown(percentile(ms, 99)),
        'max ms': shown(ms.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY)),
      }
    }),
  )
  const svg = timelineChart(
    'New connections (TCP + TLS, one at a time) while the own zone fails: ms per connect',
    Object.entries(series).map(([name, points]) => ({
      name,
      points: points.map((p) => ({ t: p.t, ms: p.ms })),
    })),
    plan.map((step) => ({ t: step.at, label: step.label })),
    { logScale: true },
  )
  return { rows, svg, markdown: table(rows) }
}
