import { Signer } from '@aws-sdk/rds-signer'
import { endpointFromConfig } from '@privatelink/core'
import { rdsProxyFront, startLab } from '@privatelink/lab'
import { createClient, createPool } from '@privatelink/pg'
import { AwsPGClient, AwsPgPoolClient } from 'aws-advanced-nodejs-wrapper/pg'
import pg from 'pg'
import {
  type Comparison,
  compare,
  compareTimed,
  comparisonTable,
  percentile,
  type TimedComparison,
  timedTable,
} from './measure.js'

/** The part of a pg-like client or pool the load drives. */
interface Queryable {
  query(text: string): Promise<unknown>
}

/** `operations` SELECT 1 with `concurrency` in flight; each query's latency in ms. */
async function load(db: Queryable, operations: number, concurrency: number): Promise<number[]> {
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
  await Promise.all(Array.from({ length: concurrency }, worker))
  return latencies
}

const POOL = 'pg.Pool (raw)'
const CLIENT = 'pg.Client (raw)'
const WRAPPER_POOL = 'aws-advanced-nodejs-wrapper AwsPgPoolClient, plugins none'
const WRAPPER_CLIENT = 'aws-advanced-nodejs-wrapper AwsPGClient, plugins none'
const WRAPPER_DEFAULT = 'aws-advanced-nodejs-wrapper AwsPGClient, default plugins'

export interface PgBench {
  steady: Comparison
  newConnection: TimedComparison
  markdown: string
}

/**
 * createPool / createClient vs raw pg vs the AWS Advanced NodeJS Wrapper on the same PostgreSQL
 * (PG_URL or 127.0.0.1:5432), then new-connection time through the lab's RDS Proxy emulator.
 */
export async function pgBench(options: { quick?: boolean } = {}): Promise<PgBench> {
  const quick = options.quick === true
  const url = new URL(process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres')
  const target = {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'postgres'),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1) || 'postgres',
  }
  const direct = { ...target, max: 8 }

  // 1. SELECT 1 at 8 in flight. The endpoint's zones all point at the server itself and TLS is
  // off on both sides (the test server has none), so the figure is the adapter's own cost.
  const endpoint = endpointFromConfig({
    dnsName:
      'vpce-0123456789abcdef0-abcd1234.vpce-svc-0123456789abcdef0.us-west-2.vpce.amazonaws.com',
    zones: ['a', 'b', 'c'].map((letter) => ({
      azName: `us-west-2${letter}`,
      addresses: [target.host],
    })),
  })
  const ours = {
    endpoint,
    proxyHost: 'bench-db.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com',
    port: target.port,
    user: target.user,
    database: target.database,
    region: 'us-west-2',
    auth: { password: target.password },
    ssl: { insecure: 'plaintext' as const },
    connectorOptions: { locality: { source: 'options' as const, azName: 'us-west-2a' } },
  }
  const wrapperConfig = { ...target, plugins: '' }
  const pool = new pg.Pool(direct)
  const client = new pg.Client(target)
  const ourPool = createPool({ ...ours, max: 8 })
  const ourClient = createClient(ours)
  const wrapperPool = new AwsPgPoolClient(wrapperConfig, { maxConnections: 8, minConnections: 0 })
  const wrapperClient = new AwsPGClient(wrapperConfig)
  const wrapperDefault = new AwsPGClient({ ...target })
  const closers: (() => Promise<unknown>)[] = [
    () => pool.end(),
    () => client.end(),
    () => ourPool.end(),
    () => ourClient.end(),
    () => wrapperPool.end(),
    () => wrapperClient.end(),
    () => wrapperDefault.end(),
  ]
  let steady: Comparison
  try {
    await Promise.all([client.connect(), ourClient.connect()])
    await Promise.all([wrapperClient.connect(), wrapperDefault.connect()])
    steady = await compare(
      'PostgreSQL SELECT 1, 8 in flight',
      'query',
      {
        [POOL]: (n) => load(pool, n, 8),
        '@privatelink/pg createPool': (n) => load(ourPool, n, 8),
        [WRAPPER_POOL]: (n) => load(wrapperPool, n, 8),
        [CLIENT]: (n) => load(client, n, 8),
        '@privatelink/pg createClient': (n) => load(ourClient, n, 8),
        [WRAPPER_CLIENT]: (n) => load(wrapperClient, n, 8),
        [WRAPPER_DEFAULT]: (n) => load(wrapperDefault, n, 8),
      },
      {
        operations: quick ? 500 : 2_500,
        // Eleven rounds: a round's ratio swings +-30% here, and the goal is within 3%.
        rounds: quick ? 5 : 11,
        baselines: {
          [CLIENT]: CLIENT,
          '@privatelink/pg createClient': CLIENT,
          [WRAPPER_CLIENT]: CLIENT,
          [WRAPPER_DEFAULT]: CLIENT,
        },
      },
    )
  } finally {
    for (const close of closers) await close().catch(() => {})
  }

  // 2. New connections through the lab: its ENIs -> RDS Proxy emulator (TLS, IAM token checked
  // against the lab's keys) -> the same PostgreSQL. Every variant crosses the same emulator.
  const front = rdsProxyFront({
    upstream: {
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      ...(target.password === '' ? {} : { password: target.password }),
    },
  })
  const lab = await startLab({
    fronts: [front],
    services: [{ name: 'postgres', port: 5432, target: { front: 'rds-proxy' } }],
  })
  try {
    const own = lab.zone('us-west-2a')
    const ownPort = lab.endpoint.zones[0]!.portMap?.['5432'] ?? 5432
    const signer = new Signer({
      hostname: front.proxyHost,
      port: 5432,
      username: 'app_user',
      region: lab.region,
      credentials: lab.aws.credentials,
    })
    const staticToken = await signer.getAuthToken()
    // pg keeps ssl.servername when host is an IP literal: verify-full against the proxy name.
    const rawTls = {
      host: own.address,
      port: ownPort,
      user: 'app_user',
      database: target.database,
      ssl: { ca: lab.ca.certificatePem, servername: front.proxyHost },
      max: 1,
    }
    const rawStatic = new pg.Pool({ ...rawTls, password: staticToken })
    const rawSigner = new pg.Pool({ ...rawTls, password: () => signer.getAuthToken() })
    const iam = createPool({
      endpoint: lab.endpoint,
      proxyHost: front.proxyHost,
      user: 'app_user',
      database: target.database,
      region: lab.region,
      credentials: lab.aws.credentials,
      ssl: { ca: lab.ca.certificatePem },
      connectorOptions: { locality: { source: 'options', azName: 'us-west-2a' } },
      max: 1,
    })
    const perRound = quick ? 5 : 15
    // Each round: `perRound` new connections one after another (connect, SELECT 1, destroy);
    // the figure is their median connect time.
    const connects = (target: pg.Pool) => async () => {
      const times: number[] = []
      const cpu = process.cpuUsage()
      for (let i = 0; i < perRound; i++) {
        const begin = performance.now()
        const connection = await target.connect()
        times.push(performance.now() - begin)
        await connection.query('SELECT 1')
        connection.release(true)
      }
      const used = process.cpuUsage(cpu)
      return { value: percentile(times, 50), details: (used.user + used.system) / perRound }
    }
    const newConnection = await compareTimed(
      'New connection through the RDS Proxy emulator (TLS verify-full + auth)',
      'connect ms',
      {
        'raw pg, TLS, static password (a token signed once)': connects(rawStatic),
        'raw pg, TLS, password () => rds-signer getAuthToken()': connects(rawSigner),
        '@privatelink/pg createPool, IAM (token cached, connector)': connects(iam),
      },
      { rounds: 5 },
    )
    await Promise.all([rawStatic.end(), rawSigner.end(), iam.end()])
    const markdown = [
      comparisonTable(steady),
      '',
      `New connections (${perRound} per round, one at a time; median connect time per round):`,
      '',
      timedTable(newConnection, {
        column: 'CPU µs/connection, client + in-process lab and emulator (median)',
        render: (details) => percentile(details as number[], 50).toFixed(0),
      }),
    ].join('\n')
    return { steady, newConnection, markdown }
  } finally {
    await lab.close()
  }
}
