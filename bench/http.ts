import { type ChildProcess, fork } from 'node:child_process'
import { createConnector } from '@privatelink/core'
import { createEndpointDispatcher } from '@privatelink/http'
import { createTestCa, type Lab, startLab } from '@privatelink/lab'
import { Agent, type Dispatcher, fetch, request } from 'undici'
import { steadyChartName } from './bar-charts.js'
import { timelineChart } from './chart.js'
import { type FailoverTimeline, failoverTimeline } from './failover-timeline.js'
import {
  type Comparison,
  compare,
  compareTimed,
  comparisonTable,
  percentile,
  type TimedComparison,
  table,
  timedTable,
} from './measure.js'

export const HOST = 'api.bench.example.com'
export const OWN = { source: 'options' as const, azId: 'usw2-az1' }

interface Sample {
  t: number
  ms: number
  ok: boolean
  /** The failure's code and message (or the status), for the report. */
  error?: string
}

/** The HTTPS server in its own process (bench/https-server.mjs), with a certificate for HOST. */
export async function startServer(): Promise<{ child: ChildProcess; port: number; ca: string }> {
  const ca = await createTestCa()
  const issued = await ca.issue([HOST])
  const child = fork(new URL('./https-server.mjs', import.meta.url), {
    env: { ...process.env, BENCH_CERT: issued.certificatePem, BENCH_KEY: issued.privateKeyPem },
    stdio: 'ignore',
  })
  const port = await new Promise<number>((resolve) =>
    child.once('message', (m: { port: number }) => resolve(m.port)),
  )
  return { child, port, ca: ca.certificatePem }
}

/** `total` requests, `concurrency` at a time, through `dispatcher`; one sample each. */
export async function load(
  dispatcher: Dispatcher,
  origin: string,
  total: number,
  concurrency: number,
  options: { reset?: boolean; start?: number; fetch?: boolean } = {},
): Promise<Sample[]> {
  let started = 0
  const samples: Sample[] = []
  const zero = options.start ?? performance.now()
  const one = async (): Promise<boolean> => {
    if (options.fetch) {
      const response = await fetch(`${origin}/`, { dispatcher })
      await response.arrayBuffer()
      return response.status === 200
    }
    const response = await request(`${origin}/`, {
      dispatcher,
      ...(options.reset ? { reset: true } : {}),
    })
    await response.body.dump()
    return response.statusCode === 200
  }
  const worker = async () => {
    while (started < total) {
      started++
      const begin = performance.now()
      let ok = true
      let error: string | undefined
      try {
        ok = await one()
        if (!ok) error = 'status not 200'
      } catch (caught) {
        ok = false
        const cause = (caught as { cause?: { code?: string; message?: string } }).cause
        const top = caught as { code?: string; message?: string }
        error = `${top.code ?? ''} ${top.message ?? String(caught)}${cause === undefined ? '' : ` (cause: ${cause.code ?? ''} ${cause.message ?? ''})`}`
      }
      samples.push({
        t: (begin - zero) / 1000,
        ms: performance.now() - begin,
        ok,
        ...(error === undefined ? {} : { error }),
      })
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return samples
}

/**
 * Latencies of a steady-state run. Failures are counted into `failures` (by variant and cause)
 * and reported beside the figures rather than stopping the bench.
 */
export function latencies(
  samples: Sample[],
  failures: Map<string, number>,
  variant: string,
): number[] {
  for (const f of samples)
    if (!f.ok) {
      const key = `${variant}: ${f.error ?? '?'}`
      failures.set(key, (failures.get(key) ?? 0) + 1)
    }
  return samples.filter((s) => s.ok).map((s) => s.ms)
}

const summary = (label: string, samples: Sample[], baseline?: number) => {
  const ms = samples.map((s) => s.ms)
  const p99 = percentile(ms, 99)
  const shown = (value: number, digits: number) => (ms.length === 0 ? '-' : value.toFixed(digits))
  return {
    case: label,
    operations: samples.length,
    failed: samples.filter((s) => !s.ok).length,
    'p50 ms': shown(percentile(ms, 50), 2),
    'p99 ms': shown(p99, 2),
    'max ms': shown(
      ms.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY),
      1,
    ),
    ...(baseline === undefined ? {} : { 'added p99 ms': shown(p99 - baseline, 2) }),
  }
}

const zoneCounts = (lab: Lab) =>
  lab.endpoint.zones.map((z) => lab.zone(z.azName).stats()['api']!.accepted)

export interface HttpBench {
  steady: Comparison[]
  /** New connections each Agent / dispatcher opened during the steady-state runs. */
  connections: Record<string, number>
  /** Failed requests during the steady-state runs, by variant and cause. */
  steadyFailures: Record<string, number>
  newConnections: Record<string, string | number>[]
  bursts: TimedComparison[]
  warm: { rows: Record<string, string | number>[]; svg: string }
  timeline: FailoverTimeline
  /** A whole region lost (issue 20): per-phase rows, failures and the times it took, in seconds. */
  region: {
    rows: Record<string, string | number>[]
    failed: number
    failoverS: number | undefined
    firstSecondaryS: number | undefined
    returnS: number | undefined
  }
  markdown: string
}

const AGENT = 'undici Agent request() (raw)'
const DISPATCHER = '@privatelink/http dispatcher request()'
const FETCH = 'undici fetch() via Agent (raw)'
const FETCH_DISPATCHER = 'undici fetch() via @privatelink/http dispatcher'

/** Issue 19's acceptance figures: every one side by side with a plain undici Agent, one process. */
export async function httpBench(options: { quick?: boolean } = {}): Promise<HttpBench> {
  const quick = options.quick === true
  const server = await startServer()
  const lab = await startLab({
    privateDnsName: HOST,
    services: [{ name: 'api', port: 443, target: { host: '127.0.0.1', port: server.port } }],
  })
  const own = lab.zone('us-west-2a')
  const ownUrl = `https://${own.address}:${lab.endpoint.zones[0]!.portMap?.['443'] ?? 443}`
  const agentOptions = { connect: { ca: server.ca, servername: HOST } }
  const closers: (() => Promise<unknown>)[] = [
    async () => server.child.disconnect(),
    () => lab.close(),
  ]
  try {
    // 1. Steady state, keep-alive, 16 and 256 in flight: the Agent dials the own zone's lab
    // address, the dispatcher the endpoint (own zone first), so both cross the same relay.
    // Idle sockets live 60 s on both sides (the server's keep-alive timeout): between two rounds
    // of one variant the others run for seconds, longer than undici's 4 s default, and re-opened
    // TLS connections would be measured instead of the steady state.
    const steady: Comparison[] = []
    const connections: Record<string, number> = {}
    const failures = new Map<string, number>()
    for (const inFlight of [16, 256]) {
      const dispatcher = createEndpointDispatcher({
        endpoint: lab.endpoint,
        ca: server.ca,
        locality: OWN,
        keepAliveTimeoutMs: 60_000,
      })
      const agent = new Agent({ ...agentOptions, keepAliveTimeout: 60_000 })
      const opened = { agent: 0, dispatcher: 0 }
      agent.on('connect', () => opened.agent++)
      dispatcher.on('connect', () => opened.dispatcher++)
      const endpointUrl = `https://${HOST}`
      steady.push(
        await compare(
          `HTTPS keep-alive, ${inFlight} in flight`,
          'req',
          {
            [AGENT]: async (n) =>
              latencies(await load(agent, ownUrl, n, inFlight), failures, `${AGENT}, ${inFlight}`),
            [DISPATCHER]: async (n) =>
              latencies(
                await load(dispatcher, endpointUrl, n, inFlight),
                failures,
                `${DISPATCHER}, ${inFlight}`,
              ),
            [FETCH]: async (n) =>
              latencies(
                await load(agent, ownUrl, n, inFlight, { fetch: true }),
                failures,
                `${FETCH}, ${inFlight}`,
              ),
            [FETCH_DISPATCHER]: async (n) =>
              latencies(
                await load(dispatcher, endpointUrl, n, inFlight, { fetch: true }),
                failures,
                `${FETCH_DISPATCHER}, ${inFlight}`,
              ),
          },
          {
            operations: quick ? Math.max(inFlight, 200) : 2_000,
            // Eleven rounds: the per-round ratios swing +-20% on a shared 2-core machine, and the
            // goal is +-2%.
            rounds: quick ? 5 : 11,
            // Enough for every variant to open its connections before the first round.
            warmup: quick ? inFlight : Math.max(inFlight * 2, 300),
            baselines: { [FETCH_DISPATCHER]: FETCH },
          },
        ),
      )
      connections[`Agent, ${inFlight} in flight`] = opened.agent
      connections[`dispatcher, ${inFlight} in flight`] = opened.dispatcher
      // Closed before the next sections: its health checks would dial every zone meanwhile.
      await Promise.all([dispatcher.close(), agent.close()])
    }

    // 2. New connections with the own zone blackholed, once connect times are known: the
    // connector alone (TCP), and HTTPS with a new TLS connection per request.
    const newConnections: Record<string, string | number>[] = []
    const connector = createConnector({ endpoint: lab.endpoint, port: 443, locality: OWN })
    for (let i = 0; i < 50; i++) (await connector.connect()).destroy()
    const connects = async (count: number) => {
      const samples: Sample[] = []
      for (let i = 0; i < count; i++) {
        const begin = performance.now()
        try {
          ;(await connector.connect()).destroy()
          samples.push({ t: 0, ms: performance.now() - begin, ok: true })
        } catch {
          samples.push({ t: 0, ms: performance.now() - begin, ok: false })
        }
      }
      return samples
    }
    // Healthy and blackholed chunks alternate, 5 rounds, so each round's added p99 compares two
    // moments of the same load; the figure is the median of the per-round differences.
    const alternating = async (label: string, run: () => Promise<Sample[]>) => {
      const healthy: Sample[] = []
      const blackholed: Sample[] = []
      const added: number[] = []
      for (let round = 0; round < 5; round++) {
        const before = await run()
        await own.fail('blackhole')
        const during = await run()
        await own.restore()
        healthy.push(...before)
        blackholed.push(...during)
        const p99 = (samples: Sample[]) =>
          percentile(
            samples.map((x) => x.ms),
            99,
          )
        added.push(p99(during) - p99(before))
      }
      const row = summary(`${label}: own zone blackholed`, blackholed)
      newConnections.push(summary(`${label}: healthy`, healthy), {
        ...row,
        'added p99 ms': percentile(added, 50).toFixed(2),
        'added p99 ms per round': added.map((x) => x.toFixed(1)).join(', '),
      })
    }
    const perChunk = quick ? 40 : 400
    await alternating('connector.connect(), TCP, one at a time', () => connects(perChunk))
    connector.close()
    const tlsDispatcher = createEndpointDispatcher({
      endpoint: lab.endpoint,
      ca: server.ca,
      locality: OWN,
    })
    await load(tlsDispatcher, `https://${HOST}`, 50, 4, { reset: true })
    await alternating('HTTPS, new TLS connection per request, 16 in flight', () =>
      load(tlsDispatcher, `https://${HOST}`, quick ? 32 : 96, 16, { reset: true }),
    )
    await tlsDispatcher.close()

    // 3. Cold-pool bursts on a healthy endpoint: N requests at once into a new dispatcher / Agent.
    // Active health checks are off for the dispatcher here: their own probe connects reach every
    // zone by design and would show up as connections outside the own zone.
    const bursts: TimedComparison[] = []
    for (const size of quick ? [100] : [100, 1_000]) {
      const burst = (create: () => Dispatcher, origin: string) => async () => {
        const before = zoneCounts(lab)
        const target = create()
        const started = performance.now()
        const samples = await load(target, origin, size, size)
        const value = performance.now() - started
        const zones = zoneCounts(lab).map((n, i) => n - before[i]!)
        await target.close()
        const errors: Record<string, number> = {}
        for (const sample of samples)
          if (!sample.ok) errors[sample.error ?? '?'] = (errors[sample.error ?? '?'] ?? 0) + 1
        return {
          value,
          details: { zones, failed: samples.filter((s) => !s.ok).length, errors },
        }
      }
      bursts.push(
        await compareTimed(
          `Cold-pool burst of ${size} requests`,
          'time ms',
          {
            'undici Agent (raw)': burst(() => new Agent(agentOptions), ownUrl),
            '@privatelink/http dispatcher': burst(
              () =>
                createEndpointDispatcher({
                  endpoint: lab.endpoint,
                  ca: server.ca,
                  locality: OWN,
                  healthCheck: { intervalMs: 0 },
                }),
              `https://${HOST}`,
            ),
          },
          { rounds: 5, warmup: quick || size > 100 ? 0 : 1 },
        ),
      )
    }
    const fresh = () =>
      createEndpointDispatcher({ endpoint: lab.endpoint, ca: server.ca, locality: OWN })

    // 4. Warm zone loss: keep-alive load, default options; blackhole, restore, hang, restore.
    const warmDispatcher = fresh()
    await load(warmDispatcher, `https://${HOST}`, 200, 16)
    const zero = performance.now()
    const phase = quick ? 1.5 : 4
    const plan = [
      { at: phase, label: 'blackhole own zone', run: () => own.fail('blackhole') },
      { at: phase * 2, label: 'restore', run: () => own.restore() },
      { at: phase * 3, label: 'hang own zone', run: () => own.fail('hang') },
      { at: phase * 4, label: 'restore', run: () => own.restore() },
    ]
    const end = phase * 5
    const samples: Sample[] = []
    let stop = false
    const scheduled = plan.map(
      (step) =>
        new Promise<void>((resolve) =>
          setTimeout(() => void step.run().then(resolve, resolve), step.at * 1000),
        ),
    )
    const stopper = setTimeout(() => {
      stop = true
    }, end * 1000)
    const worker = async () => {
      while (!stop)
        samples.push(...(await load(warmDispatcher, `https://${HOST}`, 1, 1, { start: zero })))
    }
    await Promise.all([...Array.from({ length: 16 }, worker), ...scheduled])
    clearTimeout(stopper)
    await warmDispatcher.close()
    const phases = [
      ['healthy', 0, phase],
      ['own zone blackholed', phase, phase * 2],
      ['restored', phase * 2, phase * 3],
      ['own zone hung', phase * 3, phase * 4],
      ['restored', phase * 4, end],
    ] as const
    const warmRows = phases.map(([label, from, to]) =>
      summary(
        `${label} (${from}-${to} s)`,
        samples.filter((s) => s.t >= from && s.t < to),
      ),
    )
    const svg = timelineChart(
      'Warm zone loss under keep-alive load, default options (ms per request)',
      [
        {
          name: '@privatelink/http dispatcher',
          points: samples.map((s) => ({ t: s.t, ms: s.ms })),
        },
      ],
      plan.map((step) => ({ t: step.at, label: step.label })),
      { logScale: true },
    )

    // 5. New connections over time while the own zone is refused, blackholed and hung: default
    // options vs racing off.
    const timeline = await failoverTimeline(lab, { ca: server.ca, servername: HOST }, { quick })

    // 6. A whole region lost under keep-alive load (issue 20): the primary's three zones
    // blackholed, then restored; a second lab is the secondary region. Default options.
    const secondary = await startLab({
      region: 'us-east-1',
      privateDnsName: HOST,
      services: [{ name: 'api', port: 443, target: { host: '127.0.0.1', port: server.port } }],
    })
    closers.push(() => secondary.close())
    const regional = createEndpointDispatcher({
      endpoint: [{ endpoint: lab.endpoint }, { endpoint: secondary.endpoint }],
      ca: server.ca,
      locality: OWN,
    })
    await load(regional, `https://${HOST}`, 200, 16)
    const regionPhase = quick ? 3 : 6
    const regionZero = performance.now()
    const moves: { type: string; t: number }[] = []
    regional.connector.onTargetChange((event) =>
      moves.push({ type: event.type, t: (performance.now() - regionZero) / 1000 }),
    )
    const primaryZones = lab.endpoint.zones.map((zone) => lab.zone(zone.azName))
    const regionSamples: Sample[] = []
    let regionStop = false
    const regionPlan = [
      setTimeout(
        () => void Promise.all(primaryZones.map((zone) => zone.fail('blackhole'))),
        regionPhase * 1000,
      ),
      setTimeout(
        () => void Promise.all(primaryZones.map((zone) => zone.restore())),
        regionPhase * 2000,
      ),
      setTimeout(() => {
        regionStop = true
      }, regionPhase * 4000),
    ]
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (!regionStop)
          regionSamples.push(
            ...(await load(regional, `https://${HOST}`, 1, 1, { start: regionZero })),
          )
      }),
    )
    for (const timer of regionPlan) clearTimeout(timer)
    await regional.close()
    // A request that started after the fault and succeeded can only have reached the secondary.
    const servedAfter = regionSamples.filter((x) => x.ok && x.t >= regionPhase)
    const firstSecondary =
      servedAfter.length === 0
        ? undefined
        : servedAfter.reduce((a, x) => Math.min(a, x.t + x.ms / 1000), Number.POSITIVE_INFINITY) -
          regionPhase
    const failoverMove = moves.find((m) => m.type === 'failover')
    const returnMove = moves.find((m) => m.type === 'return')
    const regionRows = (
      [
        ['healthy', 0, regionPhase],
        ['primary region blackholed', regionPhase, regionPhase * 2],
        ['primary restored', regionPhase * 2, regionPhase * 4],
      ] as const
    ).map(([label, from, to]) =>
      summary(
        `${label} (${from}-${to} s)`,
        regionSamples.filter((x) => x.t >= from && x.t < to),
      ),
    )
    const region = {
      rows: regionRows,
      failed: regionSamples.filter((x) => !x.ok).length,
      failoverS: failoverMove === undefined ? undefined : failoverMove.t - regionPhase,
      firstSecondaryS: firstSecondary,
      returnS: returnMove === undefined ? undefined : returnMove.t - regionPhase * 2,
    }

    const zonesOf = (details: unknown[]) =>
      details.map((d) => (d as { zones: number[] }).zones.join('/')).join(', ')
    const errorsOf = (details: unknown[]) => {
      const all: Record<string, number> = {}
      for (const d of details)
        for (const [error, n] of Object.entries((d as { errors: Record<string, number> }).errors))
          all[error] = (all[error] ?? 0) + n
      const list = Object.entries(all).map(([error, n]) => `${n} x ${error.trim()}`)
      return list.length === 0 ? '' : ` (${list.join('; ')})`
    }
    const failedOf = (details: unknown[]) =>
      details.reduce<number>((sum, d) => sum + (d as { failed: number }).failed, 0)
    const markdown = [
      "### Steady state (goal: >= 0.98x the Agent's req/s, <= 1.02x its CPU per request)",
      '',
      `New connections each opened during the steady-state runs (warm-up included, request() and fetch() share one Agent / dispatcher): ${Object.entries(
        connections,
      )
        .map(([name, n]) => `${name}: ${n}`)
        .join('; ')}.`,
      '',
      `Failed requests during the steady-state runs (warm-up included): ${failures.size === 0 ? 'none' : [...failures].map(([k, n]) => `${n} x ${k}`).join('; ')}.`,
      '',
      ...steady.flatMap((c) => [
        `${c.title}:`,
        '',
        comparisonTable(c),
        '',
        `![${c.title}](${steadyChartName(c)})`,
        '',
      ]),
      '### New connections with the own zone blackholed (connect times known; goal: added p99 < 50 ms, 0 errors)',
      '',
      table(newConnections),
      '',
      "### Cold-pool bursts on a healthy endpoint (goal: no connections outside the own zone, <= 1.1x the Agent's time)",
      '',
      'The dispatcher runs with `healthCheck: { intervalMs: 0 }` here: active health checks dial every zone by design (one probe per zone every 2 s while sockets are open), which would count as connections outside the own zone. The counts below are TCP connections the lab accepted per zone during the round.',
      '',
      ...bursts.flatMap((c) => [
        `${c.title}:`,
        '',
        timedTable(c, {
          column: 'connections per zone a/b/c, each round; failed',
          render: (details) =>
            `${zonesOf(details)}; ${failedOf(details)} failed${errorsOf(details)}`,
        }),
        '',
      ]),
      '### Warm zone loss under keep-alive load, default options (goal: 0 failed, max <= 5 s)',
      '',
      '16 in flight on warm keep-alive sockets. Each request is counted in the phase it started in: one that started just before a fault and was held by it shows in the phase before.',
      '',
      table(warmRows),
      '',
      '![warm zone loss](warm-zone-loss.svg)',
      '',
      '### New connections while the own zone fails: default options vs racing off',
      '',
      'TCP + TLS connects one at a time through the connector, two loops at once against the same faults, each with its own connector and zone health. Racing off: `attemptDelayMs` = `connectTimeoutMs` (10 s), so the next zone starts only when an attempt times out, as a client that tries addresses in turn would.',
      '',
      timeline.markdown,
      '',
      '![failover timeline](failover-timeline.svg)',
      '',
      '### A whole region lost under keep-alive load (two labs as two regions, default options)',
      '',
      `16 requests in flight through one dispatcher over [primary us-west-2, secondary us-east-1]; at ${regionPhase} s every zone of the primary is blackholed, at ${regionPhase * 2} s restored. Region failover event ${region.failoverS === undefined ? 'not seen' : `${region.failoverS.toFixed(2)} s`} after the fault; first request answered by the secondary ${region.firstSecondaryS === undefined ? '-' : `${region.firstSecondaryS.toFixed(2)} s`} after it (requests started after the fault can only succeed there); return event ${region.returnS === undefined ? 'not seen' : `${region.returnS.toFixed(2)} s`} after the restore; ${region.failed} failed.`,
      '',
      table(region.rows),
    ].join('\n')
    return {
      steady,
      connections,
      steadyFailures: Object.fromEntries(failures),
      newConnections,
      bursts,
      warm: { rows: warmRows, svg },
      timeline,
      region,
      markdown,
    }
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {})
  }
}
