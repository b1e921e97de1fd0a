import { Signer } from '@aws-sdk/rds-signer'
import { endpointFromConfig } from '@privatelink/core'
import { rdsProxyMysqlFront, startLab } from '@privatelink/lab'
import { createPool } from '@privatelink/mysql'
import mysql, { type Pool } from 'mysql2'
import {
  type Comparison,
  compare,
  compareTimed,
  comparisonTable,
  percentile,
  type TimedComparison,
  timedTable,
} from './measure.js'

/** `operations` SELECT 1 with `concurrency` in flight on a mysql2 promise pool; latencies in ms. */
async function load(pool: Pool, operations: number, concurrency: number): Promise<number[]> {
  const db = pool.promise()
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

const RAW = 'mysql2 createPool (raw)'
const end = (pool: Pool) => new Promise<void>((resolve) => pool.end(() => resolve()))

export interface MysqlBench {
  steady: Comparison
  steadyTls: Comparison
  newConnection: TimedComparison
  markdown: string
}

/**
 * createPool vs raw mysql2 on the same MariaDB / MySQL (MYSQL_URL or root@127.0.0.1:3306), then
 * new-connection time through the lab's RDS Proxy for MySQL emulator.
 */
export async function mysqlBench(options: { quick?: boolean } = {}): Promise<MysqlBench> {
  const quick = options.quick === true
  const url = new URL(process.env['MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test')
  const target = {
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1) || 'test',
  }

  // 1. SELECT 1 at 8 in flight. The endpoint's zones all point at the server itself and TLS is
  // off on both sides (the local server has none), so the figure is the adapter's own cost.
  const endpoint = endpointFromConfig({
    dnsName:
      'vpce-0123456789abcdef0-abcd1234.vpce-svc-0123456789abcdef0.us-west-2.vpce.amazonaws.com',
    zones: ['a', 'b', 'c'].map((letter) => ({
      azName: `us-west-2${letter}`,
      addresses: [target.host],
    })),
  })
  const raw = mysql.createPool({ ...target, connectionLimit: 8 })
  const ours = createPool({
    endpoint,
    proxyHost: 'bench-db.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com',
    port: target.port,
    user: target.user,
    database: target.database,
    auth: { password: target.password },
    ssl: { insecure: 'plaintext' },
    connectorOptions: { locality: { source: 'options', azName: 'us-west-2a' } },
    connectionLimit: 8,
  })
  let steady: Comparison
  try {
    steady = await compare(
      'MySQL SELECT 1, 8 in flight',
      'query',
      {
        [RAW]: (n) => load(raw, n, 8),
        '@privatelink/mysql createPool': (n) => load(ours, n, 8),
      },
      { operations: quick ? 500 : 2_500, rounds: quick ? 5 : 11 },
    )
  } finally {
    await Promise.all([end(raw), end(ours)])
  }

  // 2. New connections through the lab: its ENIs -> RDS Proxy for MySQL emulator (SSLRequest +
  // TLS, the cleartext token checked against the lab's keys) -> the same database.
  const front = rdsProxyMysqlFront({ upstream: target })
  const lab = await startLab({
    fronts: [front],
    services: [{ name: 'mysql', port: 3306, target: { front: 'rds-proxy-mysql' } }],
  })
  try {
    const own = lab.zone('us-west-2a')
    const ownPort = lab.endpoint.zones[0]!.portMap?.['3306'] ?? 3306
    const staticToken = await new Signer({
      hostname: front.proxyHost,
      port: 3306,
      username: 'app_user',
      region: lab.region,
      credentials: lab.aws.credentials,
    }).getAuthToken()
    // Raw mysql2 dialling the zone's address: its TLS checks the chain only (mysql2's default,
    // verifyIdentity off; an IP host has no name to check), one token for every connection.
    const rawTls = mysql.createPool({
      host: own.address,
      port: ownPort,
      user: 'app_user',
      database: target.database,
      password: staticToken,
      ssl: { ca: lab.ca.certificatePem },
      enableCleartextPlugin: true,
      connectionLimit: 1,
    })
    const iam = createPool({
      endpoint: lab.endpoint,
      proxyHost: front.proxyHost,
      user: 'app_user',
      database: target.database,
      credentials: lab.aws.credentials,
      ssl: { ca: lab.ca.certificatePem },
      connectorOptions: { locality: { source: 'options', azName: 'us-west-2a' } },
      connectionLimit: 1,
    })
    // SELECT 1 at 8 in flight over TLS through the emulator: mysql2 wraps our stream in TLS (a JS
    // stream under Node's TLS), raw mysql2 its own net.Socket (native): the difference is that.
    const rawTls8 = mysql.createPool({
      host: own.address,
      port: ownPort,
      user: 'app_user',
      database: target.database,
      password: staticToken,
      ssl: { ca: lab.ca.certificatePem },
      enableCleartextPlugin: true,
      connectionLimit: 8,
    })
    const iam8 = createPool({
      endpoint: lab.endpoint,
      proxyHost: front.proxyHost,
      user: 'app_user',
      database: target.database,
      credentials: lab.aws.credentials,
      ssl: { ca: lab.ca.certificatePem },
      connectorOptions: { locality: { source: 'options', azName: 'us-west-2a' } },
      connectionLimit: 8,
    })
    const authenticatedBefore = front.stats().authenticated
    const steadyTls = await compare(
      'MySQL SELECT 1 over TLS through the RDS Proxy for MySQL emulator, 8 in flight',
      'query',
      {
        'raw mysql2 createPool, TLS (native)': (n) => load(rawTls8, n, 8),
        '@privatelink/mysql createPool, TLS over the stream': (n) => load(iam8, n, 8),
      },
      { operations: quick ? 300 : 1_500, rounds: quick ? 5 : 7 },
    )
    await Promise.all([end(rawTls8), end(iam8)])
    // Each pool keeps 8 connections: more logins than 16 mean connections were replaced mid-run.
    const tlsLogins = front.stats().authenticated - authenticatedBefore
    const perRound = quick ? 5 : 15
    // Each round: `perRound` new connections one after another (connect, SELECT 1, destroy).
    const connects = (pool: Pool) => async () => {
      const db = pool.promise()
      const times: number[] = []
      const cpu = process.cpuUsage()
      for (let i = 0; i < perRound; i++) {
        const begin = performance.now()
        const connection = await db.getConnection()
        times.push(performance.now() - begin)
        await connection.query('SELECT 1')
        connection.destroy()
      }
      const used = process.cpuUsage(cpu)
      return { value: percentile(times, 50), details: (used.user + used.system) / perRound }
    }
    const newConnection = await compareTimed(
      'New connection through the RDS Proxy for MySQL emulator (SSLRequest + TLS + cleartext IAM token)',
      'connect ms',
      {
        'raw mysql2, TLS (chain only), a token signed once': connects(rawTls),
        '@privatelink/mysql createPool, IAM (token cached, TLS verified against the proxy name, connector)':
          connects(iam),
      },
      { rounds: 5 },
    )
    await Promise.all([end(rawTls), end(iam)])
    const markdown = [
      comparisonTable(steady),
      '',
      'Over TLS, through the emulator (both sides cross the same relay and proxy):',
      '',
      comparisonTable(steadyTls),
      '',
      `Logins to the emulator during that run, both pools: ${tlsLogins} (16 = no connection replaced).`,
      '',
      `New connections (${perRound} per round, one at a time; median connect time per round):`,
      '',
      timedTable(newConnection, {
        column: 'CPU µs/connection, client + in-process lab and emulator (median)',
        render: (details) => percentile(details as number[], 50).toFixed(0),
      }),
    ].join('\n')
    return { steady, steadyTls, newConnection, markdown }
  } finally {
    await lab.close()
  }
}
