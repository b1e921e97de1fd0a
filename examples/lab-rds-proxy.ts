// The @privatelink/lab README's RDS Proxy example, runnable: `pnpm tsx examples/lab-rds-proxy.ts`
// (PG_URL picks the PostgreSQL; else 127.0.0.1:5432, user postgres). test/lab-quickstart.test.ts
// runs it and checks that the README shows the lines between the `readme:` markers as they are.
import { rdsProxyFront, startLab } from '@privatelink/lab'
import { createPool } from '@privatelink/pg'

/** The real PostgreSQL behind the emulator, logged in to with the proxy's own credentials. */
export interface Upstream {
  host: string
  port: number
  user: string
  password?: string
}

/** Runs the README example against `upstream`: the row the query returned, through the proxy. */
export async function labRdsProxy(upstream: Upstream) {
  // readme:start
  const proxy = rdsProxyFront({ upstream })
  const lab = await startLab({
    fronts: [proxy],
    services: [{ name: 'postgres', port: 5432, target: { front: 'rds-proxy' } }],
  })
  // proxy.proxyHost: 'lab-proxy.proxy-k3x9q2m7a1bz.us-west-2.rds.amazonaws.com' (known once started)
  const pool = createPool({
    endpoint: lab.endpoint, // dials the zones' addresses; TLS and the IAM token name the proxy
    proxyHost: proxy.proxyHost,
    user: 'app_user', // the token's DBUser; upstream, the proxy logs in as upstream.user
    database: 'postgres', // pg's default is the user name: `database "app_user" does not exist`
    region: lab.region,
    credentials: lab.aws.credentials, // the lab's key (or lab.aws.issueSession(), or AssumeRole)
    ssl: { ca: lab.ca.certificatePem },
    connectorOptions: { locality: { source: 'options', azId: 'usw2-az1' } }, // "we run in us-west-2a"
  })
  try {
    const { rows } = await pool.query('SELECT current_user AS "user", current_database() AS db')
    // rows: [{ user: 'postgres', db: 'postgres' }]; proxy.stats().authenticated: 1
    // readme:end
    return { row: rows[0] as { user: string; db: string }, stats: proxy.stats() }
    // readme:start
  } finally {
    await pool.end()
    await lab.close()
  }
  // readme:end
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = new URL(process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres')
  const password = decodeURIComponent(url.password)
  const { row } = await labRdsProxy({
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    ...(password === '' ? {} : { password }),
  })
  console.log(row)
}
