import type { Endpoint, Locality } from '@privatelink/core'
import { type Lab, type RdsProxyFront, rdsProxyFront, startLab } from '@privatelink/lab'
import { createEmfWriter, enableMetrics } from '@privatelink/metrics'
import { createPool } from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { emfProblems } from './emf-spec.js'
import { named, onDemandMetrics, total } from './otel-reader.js'

// Real SDK activity against the lab, recorded through the real OpenTelemetry SDK and the EMF
// writer at once: a pg pool through the RDS Proxy emulator (IAM token, TLS), a statement that
// pins and its fix, a public address the dial guard refuses, and a zone that refuses connections
// until it is ejected, then readmitted on an injected clock.
const zoneA: Locality = { azName: 'us-west-2a', azId: 'usw2-az1', source: 'options' }
let lab: Lab
let front: RdsProxyFront
const sdk = onDemandMetrics()
const lines: string[] = []
let stopMetrics: () => void
let emf: ReturnType<typeof createEmfWriter>

beforeAll(async () => {
  const url = new URL(inject('pgUrl'))
  front = rdsProxyFront({
    upstream: {
      host: url.hostname,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username || 'postgres'),
      database: url.pathname.slice(1) || 'postgres',
      ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
    },
  })
  lab = await startLab({
    fronts: [front],
    services: [{ name: 'postgres', port: 5432, target: { front: 'rds-proxy' } }],
  })
  stopMetrics = enableMetrics({ meterProvider: sdk.meterProvider })
  emf = createEmfWriter({
    write: (line) => lines.push(line),
    dimensions: [
      'cloud.availability_zone',
      'privatelink.pinning.cause',
      'error.type',
      'privatelink.health.signal',
    ],
  })
})
afterAll(async () => {
  stopMetrics?.()
  emf?.close()
  await sdk.shutdown()
  await lab?.close()
})

function pool(endpoint: Endpoint, clock: () => number = Date.now) {
  return createPool({
    endpoint,
    proxyHost: front.proxyHost,
    user: 'app_user',
    database: new URL(inject('pgUrl')).pathname.slice(1) || 'postgres',
    credentials: lab.aws.issueSession(3600),
    ssl: { ca: lab.ca.certificatePem },
    max: 2,
    connectorOptions: {
      locality: zoneA,
      clock,
      ejection: { consecutiveFailures: 1, baseMs: 30_000 },
      healthCheck: { intervalMs: 0 },
    },
  })
}

describe('metrics from real SDK activity in the lab', () => {
  it('a guard refusal, a pinning statement, an ejection and a readmission, as OpenTelemetry metrics and EMF lines', async () => {
    // 1. The own zone's address is public (a hand-edited endpoint): the guard refuses to dial it.
    const tampered: Endpoint = {
      ...lab.endpoint,
      id: 'vpce-0tampered0000000',
      zones: lab.endpoint.zones.map((zone) =>
        zone.azName === 'us-west-2a' ? { ...zone, addresses: ['52.1.2.3'] } : zone,
      ),
    }
    const guarded = pool(tampered)
    await guarded.query('SELECT 1')
    await guarded.end()

    // 2. A statement that pins, then its fix (SET LOCAL ends with the transaction).
    let now = Date.now()
    // One clock for the pools below: health is shared per endpoint and options, clock included.
    const clock = () => now
    const db = pool(lab.endpoint, clock)
    await db.query("SET application_name = 'metrics-test'")
    await db.query("BEGIN; SET LOCAL application_name = 'metrics-test'; COMMIT")
    await db.end()

    // 3. The own zone refuses connections: the first connect fails over, the zone is ejected.
    await lab.zone('us-west-2a').fail('refuse')
    const failing = pool(lab.endpoint, clock)
    await failing.query('SELECT 1')
    await lab.zone('us-west-2a').restore()
    // 4. Past the ejection time, the zone is eligible again at the next connect.
    now += 60_000
    // A second connection of the same pool (its first one is busy) asks the router again.
    await Promise.all([failing.query('SELECT 1'), failing.query('SELECT 1')])
    await failing.end()

    const points = await sdk.collect()
    expect(total(points, 'privatelink.dns.refused_answers')).toBeGreaterThanOrEqual(1)
    // The lab saw one pinned session, for the same cause the metric has.
    expect(front.stats().pinned).toEqual({ set: 1 })
    expect(named(points, 'privatelink.rds_proxy.pinned_statements')).toEqual([
      expect.objectContaining({
        value: 1,
        attributes: {
          'privatelink.pinning.cause': 'set',
          'server.address': front.proxyHost,
          'privatelink.zone': 'usw2-az1',
          'privatelink.client': 'pg',
        },
      }),
    ])
    expect(
      total(points, 'privatelink.zone.ejections', {
        'cloud.availability_zone': 'us-west-2a',
        'privatelink.health.signal': 'connect-failed',
        'error.type': 'ECONNREFUSED',
      }),
    ).toBe(1)
    expect(
      total(points, 'privatelink.zone.readmissions', { 'cloud.availability_zone': 'us-west-2a' }),
    ).toBe(1)
    expect(
      total(points, 'privatelink.connection.errors', {
        'error.type': 'ECONNREFUSED',
        'cloud.availability_zone': 'us-west-2a',
        'privatelink.client': 'connector',
      }),
    ).toBeGreaterThanOrEqual(1)
    expect(
      total(points, 'privatelink.connector.failovers', {
        'privatelink.failover.from': 'us-west-2a',
      }),
    ).toBeGreaterThanOrEqual(1)
    // Every connection handed out is counted in its zone and timed once.
    const connections = total(points, 'privatelink.connector.connections')
    expect(connections).toBeGreaterThanOrEqual(4)
    expect(total(points, 'privatelink.connector.connect.duration')).toBe(connections)
    expect(
      total(points, 'privatelink.token.refreshes', { 'privatelink.client': 'pg' }),
    ).toBeGreaterThanOrEqual(1)

    // The same activity as EMF lines: valid, and the counts agree.
    expect(emf.flush()).toBeGreaterThan(0)
    for (const line of lines) expect(emfProblems(line), line).toEqual([])
    const documents = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    const sum = (name: string) =>
      documents.reduce(
        (s, d) =>
          s +
          (typeof d[name] === 'number'
            ? (d[name] as number)
            : Array.isArray(d[name])
              ? (d[name] as number[]).length
              : 0),
        0,
      )
    expect(sum('privatelink.rds_proxy.pinned_statements')).toBe(1)
    expect(sum('privatelink.zone.ejections')).toBe(1)
    expect(sum('privatelink.connector.connections')).toBe(connections)
    expect(sum('privatelink.connector.connect.duration')).toBe(connections)
    expect(lines.join('\n')).not.toMatch(/app_user|X-Amz-Signature|metrics-test/)
  })
})
