import { type ChildProcess, execFileSync, fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createConnector } from '@privatelink/core'
import { createEndpointDispatcher } from '@privatelink/http'
import { createTestCa, type Lab, startLab } from '@privatelink/lab'
import { Agent, type Dispatcher, request } from 'undici'
import { timelineChart } from './chart.js'
import { type Comparison, compare, percentile, table } from './measure.js'

const HOST = 'api.bench.example.com'
const OWN = { source: 'options' as const, azId: 'usw2-az1' }

interface Sample {
  t: number
  ms: number
  ok: boolean
}

async function startServer(): Promise<{ child: ChildProcess; port: number; ca: string }> {
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

async function load(
  dispatcher: Dispatcher,
  origin: string,
  total: number,
  concurrency: number,
  options: { reset?: boolean; start?: number } = {},
): Promise<Sample[]> {
  let started = 0
  const samples: Sample[] = []
  const zero = options.start ?? performance.now()
  const worker = async () => {
    while (started < total) {
      started++
      const begin = performance.now()
      let ok = true
      try {
        const response = await request(`${origin}/`, {
          dispatcher,
          ...(options.reset ? { reset: true } : {}),
        })
        await response.body.dump()
        ok = response.statusCode === 200
      } catch {
        ok = false
      }
      samples.push({ t: (begin - zero) / 1000, ms: performance.now() - begin, ok })
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return samples
}

const summary = (label: string, samples: Sample[], baseline?: number) => {
  const ms = samples.map((s) => s.ms)
  const p99 = percentile(ms, 99)
  return {
    case: label,
    operations: samples.length,
    failed: samples.filter((s) => !s.ok).length,
    'p50 ms': percentile(ms, 50).toFixed(2),
    'p99 ms': p99.toFixed(2),
    'max ms': Math.max(...ms).toFixed(1),
    ...(baseline === undefined ? {} : { 'added p99 ms': (p99 - baseline).toFixed(2) }),
  }
}

const zoneCounts = (lab: Lab) =>
  lab.endpoint.zones.map((z) => lab.zone(z.azName).stats()['api']!.accepted)

export interface HttpBench {
  steady: Comparison
  newConnections: Record<string, string | number>[]
  bursts: Record<string, string | number>[]
  warm: { rows: Record<string, string | number>[]; svg: string }
  coldImport: Record<string, string | number>[]
  markdown: string
}

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
    // 1. Steady state, keep-alive, 16 in flight.
    const dispatcher = createEndpointDispatcher({
      endpoint: lab.endpoint,
      ca: server.ca,
      locality: OWN,
    })
    const agent = new Agent(agentOptions)
    closers.push(
      () => dispatcher.close(),
      () => agent.close(),
    )
    const steady = await compare(
      'HTTPS keep-alive, 16 in flight',
      'req',
      {
        'undici Agent (raw)': async (n) => void (await load(agent, ownUrl, n, 16)),
        '@privatelink/http dispatcher': async (n) =>
          void (await load(dispatcher, `https://${HOST}`, n, 16)),
      },
      { operations: quick ? 2_000 : 10_000 },
    )

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
    const count = quick ? 500 : 2_000
    const healthy = await connects(count)
    newConnections.push(summary('connector.connect(), TCP: healthy', healthy))
    await own.fail('blackhole')
    const blackholed = await connects(count)
    await own.restore()
    newConnections.push(
      summary(
        'connector.connect(), TCP: own zone blackholed',
        blackholed,
        percentile(
          healthy.map((s) => s.ms),
          99,
        ),
      ),
    )
    connector.close()
    const fresh = () =>
      createEndpointDispatcher({ endpoint: lab.endpoint, ca: server.ca, locality: OWN })
    const tlsHealthyDispatcher = fresh()
    await load(tlsHealthyDispatcher, `https://${HOST}`, 50, 4, { reset: true })
    const tlsHealthy = await load(tlsHealthyDispatcher, `https://${HOST}`, quick ? 200 : 400, 16, {
      reset: true,
    })
    await own.fail('blackhole')
    const tlsBlackholed = await load(
      tlsHealthyDispatcher,
      `https://${HOST}`,
      quick ? 200 : 400,
      16,
      {
        reset: true,
      },
    )
    await own.restore()
    await tlsHealthyDispatcher.close()
    newConnections.push(summary('HTTPS, new TLS connection per request: healthy', tlsHealthy))
    newConnections.push(
      summary(
        'HTTPS, new TLS connection per request: own zone blackholed',
        tlsBlackholed,
        percentile(
          tlsHealthy.map((s) => s.ms),
          99,
        ),
      ),
    )

    // 3. Cold-pool bursts on a healthy endpoint: N requests at once into a new dispatcher / Agent.
    const bursts: Record<string, string | number>[] = []
    for (const size of quick ? [100] : [100, 1_000]) {
      const rounds: Record<string, { ms: number[]; zones: number[][]; failed: number }> = {
        'undici Agent (raw)': { ms: [], zones: [], failed: 0 },
        '@privatelink/http dispatcher': { ms: [], zones: [], failed: 0 },
      }
      for (let round = 0; round < (quick ? 3 : 5); round++) {
        const order = round % 2 === 0 ? Object.keys(rounds) : Object.keys(rounds).reverse()
        for (const name of order) {
          const before = zoneCounts(lab)
          const isAgent = name.startsWith('undici')
          const target: Dispatcher = isAgent ? new Agent(agentOptions) : fresh()
          const started = performance.now()
          const samples = await load(target, isAgent ? ownUrl : `https://${HOST}`, size, size)
          rounds[name]!.ms.push(performance.now() - started)
          rounds[name]!.failed += samples.filter((s) => !s.ok).length
          rounds[name]!.zones.push(zoneCounts(lab).map((n, i) => n - before[i]!))
          await target.close()
        }
      }
      const agentMedian = percentile(rounds['undici Agent (raw)']!.ms, 50)
      for (const [name, r] of Object.entries(rounds)) {
        const median = percentile(r.ms, 50)
        bursts.push({
          burst: size,
          variant: name,
          'time ms (median, min-max)': `${median.toFixed(0)} (${Math.min(...r.ms).toFixed(0)}-${Math.max(...r.ms).toFixed(0)})`,
          'vs raw': `${(median / agentMedian).toFixed(2)}x`,
          'connections per zone a/b/c (each round)': r.zones.map((z) => z.join('/')).join(', '),
          failed: r.failed,
        })
      }
    }

    // 4. Warm zone loss: keep-alive load, default options; blackhole, restore, hang, restore.
    const warmDispatcher = fresh()
    await load(warmDispatcher, `https://${HOST}`, 200, 16)
    const zero = performance.now()
    const phase = quick ? 2 : 4
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
    )

    // 5. Cold import in fresh processes: undici alone vs @privatelink/http (built).
    const coldImport: Record<string, string | number>[] = []
    // The built CommonJS entry of each, as a Lambda bundle would load it.
    const httpPackage = new URL('../packages/http/package.json', import.meta.url)
    const httpEntry = new URL('../packages/http/dist/index.cjs', import.meta.url).pathname
    const undiciEntry = createRequire(httpPackage).resolve('undici')
    let built = existsSync(httpEntry)
    try {
      if (built) execFileSync(process.execPath, ['-e', `require(${JSON.stringify(httpEntry)})`])
    } catch {
      built = false
    }
    if (built) {
      const time = (entry: string) =>
        Number(
          execFileSync(process.execPath, [
            '-e',
            `const t=performance.now();require(${JSON.stringify(entry)});console.log(performance.now()-t)`,
          ]).toString(),
        )
      const runs: Record<string, number[]> = { undici: [], '@privatelink/http': [] }
      for (let i = 0; i < (quick ? 5 : 11); i++) {
        runs['undici']!.push(time(undiciEntry))
        runs['@privatelink/http']!.push(time(httpEntry))
      }
      const base = percentile(runs['undici']!, 50)
      for (const [name, values] of Object.entries(runs)) {
        coldImport.push({
          module: name,
          'require ms (median, min-max)': `${percentile(values, 50).toFixed(1)} (${Math.min(...values).toFixed(1)}-${Math.max(...values).toFixed(1)})`,
          'vs undici': `${(percentile(values, 50) / base).toFixed(2)}x`,
        })
      }
    }

    const markdown = [
      '### Steady state',
      '',
      "See the comparison table above (goal: >= 0.98x the Agent's req/s, <= 1.02x its CPU per request).",
      '',
      '### New connections with the own zone blackholed (connect times known; goal: added p99 < 50 ms, 0 errors)',
      '',
      table(newConnections),
      '',
      "### Cold-pool bursts on a healthy endpoint (goal: no connections outside the own zone, <= 1.1x the Agent's time)",
      '',
      table(bursts),
      '',
      '### Warm zone loss under keep-alive load, default options (goal: 0 failed, max <= 5 s)',
      '',
      table(warmRows),
      '',
      '![warm zone loss](warm-zone-loss.svg)',
      '',
      '### Cold import (fresh processes; goal: <= 1.1x undici alone)',
      '',
      coldImport.length > 0
        ? table(coldImport)
        : '(run `pnpm build` first: measured on the built package)',
    ].join('\n')
    return { steady, newConnections, bursts, warm: { rows: warmRows, svg }, coldImport, markdown }
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {})
  }
}
