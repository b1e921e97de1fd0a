import { Socket } from 'node:net'
import { startLab } from '@privatelink/lab'
import pg from 'pg'
import { type Comparison, compare, comparisonTable } from './measure.js'

export interface LabCheck {
  comparison: Comparison
  markdown: string
}

/**
 * The lab must not be what limits a zone: raw pg.Pool, 8 connections, SELECT 1 at 8 in flight,
 * all in one zone vs spread over three, every zone equally near (0.25 ms both ways), plain
 * PostgreSQL behind the relays. If one zone's relay saturated first, the first would lose.
 */
export async function labCheck(options: { quick?: boolean } = {}): Promise<LabCheck> {
  const url = new URL(process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres')
  const lab = await startLab({
    topology: { intraAzRttMs: 0.25, interAzRttMs: 0.25 },
    services: [
      { name: 'pg', port: 5432, target: { host: url.hostname, port: Number(url.port || 5432) } },
    ],
  })
  const settings = {
    user: decodeURIComponent(url.username || 'postgres'),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1) || 'postgres',
  }
  const zone = (index: number) => ({
    host: lab.endpoint.zones[index]!.addresses[0]!,
    port: lab.endpoint.zones[index]!.portMap?.['5432'] ?? 5432,
  })
  const one = new pg.Pool({ ...settings, ...zone(0), max: 8 })
  // The same pool, each new connection dialled to the next zone in turn (pg's stream factory).
  let next = 0
  const spread = new pg.Pool({
    ...settings,
    ...zone(0),
    max: 8,
    stream: () => {
      const socket = new Socket()
      const connect = socket.connect.bind(socket) as (port: number, host: string) => Socket
      const target = zone(next++ % 3)
      ;(socket as unknown as { connect: () => Socket }).connect = () =>
        connect(target.port, target.host)
      return socket
    },
  })
  const load = async (db: { query(text: string): Promise<unknown> }, operations: number) => {
    let issued = 0
    const latencies: number[] = []
    const worker = async () => {
      while (issued < operations) {
        issued++
        const begin = performance.now()
        await db.query('SELECT 1')
        latencies.push(performance.now() - begin)
      }
    }
    await Promise.all(Array.from({ length: 8 }, worker))
    return latencies
  }
  try {
    const comparison = await compare(
      'pg.Pool through the lab, every zone 0.25 ms away: one zone vs three',
      'query',
      {
        'pg.Pool, 8 connections spread over three zones': (n) => load(spread, n),
        'pg.Pool, 8 connections in one zone': (n) => load(one, n),
      },
      { operations: options.quick ? 500 : 2_000, rounds: 5 },
    )
    return {
      comparison,
      markdown: `Raw pg.Pool, SELECT 1 at 8 in flight through the relays, every zone equally near (0.25 ms): one pool, all 8 connections in one zone against the same pool with its connections dialled to the three zones in turn. One delay line per lab and one event loop serve every zone, so a zone has nothing of its own to saturate.\n\n${comparisonTable(comparison)}`,
    }
  } finally {
    await one.end()
    await spread.end()
    await lab.close()
  }
}
