import { Socket } from 'node:net'
import { Signer } from '@aws-sdk/rds-signer'
import {
  type Lab,
  type PinCause,
  type RdsProxyEvent,
  type RdsProxyFront,
  rdsProxyFront,
  startLab,
} from '@privatelink/lab'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { scanSql } from '../src/pg-sql-scan.js'
import { sqlPinCauses } from '../src/rds-proxy-pinning.js'

let lab: Lab
let front: RdsProxyFront
let legacy: RdsProxyFront
let plain: RdsProxyFront
const upstreamUrl = new URL(inject('pgUrl'))
const upstream = {
  host: upstreamUrl.hostname,
  port: Number(upstreamUrl.port || 5432),
  user: decodeURIComponent(upstreamUrl.username),
  ...(upstreamUrl.password === '' ? {} : { password: decodeURIComponent(upstreamUrl.password) }),
}
const database = upstreamUrl.pathname.slice(1) || 'postgres'
const SEQUENCE = 'privatelink_lab_pinning_seq'

beforeAll(async () => {
  front = rdsProxyFront({ upstream, maxConnectionsPercent: 50 })
  legacy = rdsProxyFront({ name: 'legacy', port: 5433, upstream, pinUnnamedStatements: true })
  plain = rdsProxyFront({ name: 'plain', port: 5434, upstream, requireTls: false })
  lab = await startLab({
    fronts: [front, legacy, plain],
    services: [
      { name: 'postgres', port: 5432, target: { front: 'rds-proxy' } },
      { name: 'legacy', port: 5433, target: { front: 'legacy' } },
      { name: 'plain', port: 5434, target: { front: 'plain' } },
    ],
  })
})
afterAll(() => lab?.close())

/** A pg Client that believes it talks to `proxy`'s name while its bytes go to a lab zone ENI. */
async function connect(proxy: RdsProxyFront = front, ssl = true): Promise<pg.Client> {
  const zone = lab.endpoint.zones[0]!
  const port = zone.portMap?.[String(proxy.port)] ?? proxy.port
  const password = await new Signer({
    hostname: proxy.proxyHost,
    port: proxy.port,
    username: 'app_user',
    region: lab.region,
    credentials: lab.aws.credentials,
  }).getAuthToken()
  const client = new pg.Client({
    host: proxy.proxyHost,
    port: proxy.port,
    user: 'app_user',
    database,
    password,
    ssl: ssl ? { ca: lab.ca.certificatePem } : false,
    stream: () => {
      const socket = new Socket()
      const dial = socket.connect.bind(socket) as (port: number, host: string) => Socket
      socket.connect = (() => dial(port, zone.addresses[0]!)) as unknown as Socket['connect']
      return socket
    },
  })
  await client.connect()
  return client
}

const processId = (client: pg.Client) => (client as unknown as { processID: number }).processID

/** The pinned events of one client's session (the emulator forwards the backend's key data). */
const pinnedEvents = (client: pg.Client, proxy: RdsProxyFront = front): RdsProxyEvent[] =>
  proxy.events().filter((e) => e.type === 'pinned' && e.databaseConnection === processId(client))

/** Runs `statements` on a fresh session and returns the causes the proxy logged for it. */
async function causesOf(
  run: (client: pg.Client) => Promise<unknown>,
  proxy: RdsProxyFront = front,
): Promise<(PinCause | undefined)[]> {
  const client = await connect(proxy)
  try {
    await run(client)
    return pinnedEvents(client, proxy).map((e) => e.cause)
  } finally {
    await client.end()
  }
}

const ignoreError = (promise: Promise<unknown>) => promise.catch(() => undefined)

describe('RDS Proxy emulator: session pinning, as AWS documents it for PostgreSQL', () => {
  it.each<[string, PinCause, (client: pg.Client) => Promise<unknown>]>([
    ['SET outside a transaction', 'set', (c) => c.query('SET statement_timeout = 5000')],
    [
      'SET inside a transaction (it outlives COMMIT)',
      'set',
      (c) => c.query('BEGIN; SET search_path TO public; COMMIT'),
    ],
    ['RESET', 'set', (c) => c.query('RESET ALL')],
    [
      "set_config(..., false) via pg's parameters",
      'set',
      (c) => c.query('SELECT set_config($1, $2, false)', ['application_name', 'pinned']),
    ],
    ['SQL PREPARE', 'prepared-statement', (c) => c.query('PREPARE lab_pin AS SELECT 1')],
    [
      "a named statement: pg's query({ name })",
      'named-statement',
      (c) => c.query({ name: 'lab-by-name', text: 'SELECT $1::int AS n', values: [1] }),
    ],
    [
      'CREATE TEMP TABLE',
      'temporary-object',
      (c) => c.query('CREATE TEMP TABLE lab_pin_tmp (id int)'),
    ],
    [
      'SELECT INTO TEMP',
      'temporary-object',
      (c) => c.query('SELECT 1 AS id INTO TEMP lab_pin_into'),
    ],
    [
      'DECLARE CURSOR',
      'cursor',
      (c) => c.query('BEGIN; DECLARE lab_cursor CURSOR FOR SELECT 1; COMMIT'),
    ],
    ['DISCARD', 'discard', (c) => c.query('DISCARD PLANS')],
    ['LISTEN', 'listen', (c) => c.query('LISTEN lab_channel')],
    ['LOAD', 'load', (c) => ignoreError(c.query("LOAD 'auto_explain'"))],
    ['nextval', 'sequence-function', (c) => c.query(`SELECT nextval('${SEQUENCE}')`)],
    [
      'pg_advisory_lock',
      'advisory-lock',
      (c) => c.query('SELECT pg_advisory_lock(4242), pg_advisory_unlock(4242)'),
    ],
    [
      'pg_try_advisory_lock with a parameter',
      'advisory-lock',
      (c) => c.query('SELECT pg_try_advisory_lock($1::bigint)', [4243]),
    ],
    [
      'a statement over 16 KB',
      'large-statement',
      (c) => c.query(`SELECT '${'x'.repeat(17_000)}' AS big`),
    ],
  ])('%s pins the session: %s', async (_name, cause, run) => {
    if (cause === 'sequence-function') {
      const setup = await connect()
      await setup.query(`CREATE SEQUENCE IF NOT EXISTS ${SEQUENCE}`)
      await setup.end()
    }
    expect(await causesOf(run)).toEqual([cause])
  })

  it('does not pin for what multiplexes: plain and parameterised queries, transaction-scoped settings and locks', async () => {
    const causes = await causesOf(async (c) => {
      await c.query('SELECT 1')
      await c.query('SELECT $1::text AS t', ['unnamed statements multiplex since November 2023'])
      await c.query('BEGIN')
      await c.query('SET LOCAL statement_timeout = 1000')
      await c.query("SELECT set_config('application_name', 'tx', true)")
      await c.query('SELECT pg_advisory_xact_lock(4244)')
      await c.query('SET TRANSACTION READ ONLY')
      await c.query('COMMIT')
      await c.query("SELECT 'SET x = 1; LISTEN y' AS text -- SET z = 1")
      await c.query('UPDATE pg_catalog.pg_class SET relname = relname WHERE false')
    })
    expect(causes).toEqual([])
  })

  it('logs the pin once per session, like the proxy: its connection, the reason and a digest with no literal', async () => {
    const client = await connect()
    try {
      await client.query("SET application_name = 'hunter2-secret'")
      await client.query('LISTEN later_cause')
      const events = pinnedEvents(client)
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({
        cause: 'set',
        user: 'app_user',
        database,
        digest: 'set application_name = $1;',
        databaseConnection: processId(client),
      })
      expect(events[0]!.message).toBe(
        `The client session was pinned to the database connection [dbConnection=${processId(client)}] for the remainder of the session. The proxy can't reuse this connection until the session ends. Reason: SQL changed session settings that the proxy doesn't track. Consider moving session configuration to the proxy's initialization query. Digest: "set application_name = $1;".`,
      )
      expect(JSON.stringify(front.events())).not.toContain('hunter2')
    } finally {
      await client.end()
    }
  })

  it('pinUnnamedStatements: every Parse pins, as before November 2023 ("A parse message was detected.")', async () => {
    const client = await connect(legacy)
    try {
      await client.query('SELECT $1::int AS n', [1])
      const [event] = pinnedEvents(client, legacy)
      expect(event?.cause).toBe('unnamed-statement')
      expect(event?.message).toMatch(/Reason: A parse message was detected\.$/)
    } finally {
      await client.end()
    }
  })
})

describe("RDS Proxy emulator: the proxy's CloudWatch metrics", () => {
  it('counts connections borrowed, in a transaction and pinned, as the gauges define them', async () => {
    const start = front.metrics()
    const idle = await connect()
    const inTransaction = await connect()
    const pinned = await connect()
    try {
      await inTransaction.query('BEGIN')
      await pinned.query('SET work_mem = 8192')
      expect(front.metrics()).toMatchObject({
        ClientConnections: start.ClientConnections + 3,
        DatabaseConnections: start.DatabaseConnections + 3,
        DatabaseConnectionsCurrentlyInTransaction:
          start.DatabaseConnectionsCurrentlyInTransaction + 1,
        DatabaseConnectionsCurrentlySessionPinned:
          start.DatabaseConnectionsCurrentlySessionPinned + 1,
        DatabaseConnectionsCurrentlyBorrowed: start.DatabaseConnectionsCurrentlyBorrowed + 2,
      })
      await inTransaction.query('COMMIT')
      expect(front.metrics().DatabaseConnectionsCurrentlyInTransaction).toBe(
        start.DatabaseConnectionsCurrentlyInTransaction,
      )
      expect(front.metrics().DatabaseConnectionsCurrentlyBorrowed).toBe(
        start.DatabaseConnectionsCurrentlyBorrowed + 1,
      )
      await idle.query('SELECT 1')
    } finally {
      await Promise.all([idle.end(), inTransaction.end(), pinned.end()])
    }
    // A closed session's connection is no longer counted (pinned or not).
    for (
      let turn = 0;
      turn < 200 && front.metrics().DatabaseConnections > start.DatabaseConnections;
      turn++
    )
      await new Promise((resolve) => setImmediate(resolve))
    expect(front.metrics()).toMatchObject({
      DatabaseConnections: start.DatabaseConnections,
      DatabaseConnectionsCurrentlySessionPinned: start.DatabaseConnectionsCurrentlySessionPinned,
    })
  })

  it('counts queries (one per simple Query or Execute), by TLS, and their database response latency', async () => {
    const before = front.metrics()
    const beforePlain = plain.metrics()
    const client = await connect()
    const cleartext = await connect(plain, false)
    try {
      await client.query('SELECT 1; SELECT 2') // one query of two statements
      await client.query('SELECT $1::int AS n', [3]) // Parse, Bind, Describe, Execute, Sync
      await cleartext.query('SELECT 4')
    } finally {
      await client.end()
      await cleartext.end()
    }
    const after = front.metrics()
    expect(after.QueryRequests - before.QueryRequests).toBe(2)
    expect(after.QueryRequestsTLS - before.QueryRequestsTLS).toBe(2)
    expect(after.QueryRequestsNoTLS).toBe(before.QueryRequestsNoTLS)
    expect(plain.metrics().QueryRequestsNoTLS - beforePlain.QueryRequestsNoTLS).toBe(1)
    const latency = after.QueryDatabaseResponseLatency
    expect(latency.SampleCount).toBeGreaterThanOrEqual(
      before.QueryDatabaseResponseLatency.SampleCount + 2,
    )
    expect(latency.Minimum).toBeGreaterThanOrEqual(0)
    expect(latency.Maximum).toBeGreaterThanOrEqual(latency.Minimum)
    expect(latency.Average).toBeCloseTo(latency.Sum / latency.SampleCount)
  })

  it("MaxDatabaseConnectionsAllowed is MaxConnectionsPercent of the database's max_connections", async () => {
    const client = await connect()
    try {
      const { rows } = await client.query<{ max_connections: string }>('SHOW max_connections')
      expect(front.metrics().MaxDatabaseConnectionsAllowed).toBe(
        Math.floor((Number(rows[0]!.max_connections) * 50) / 100),
      )
    } finally {
      await client.end()
    }
  })

  it('validates the new options', () => {
    expect(() => rdsProxyFront({ upstream, maxConnectionsPercent: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    expect(() => rdsProxyFront({ upstream, pinUnnamedStatements: 'yes' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
  })
})

describe('SQL scanning for pinning', () => {
  it('digests without literals, past comments, quoted strings and dollar quotes', () => {
    expect(
      scanSql("SET search_path = 'a'; /* SET x */ SET NAMES $1 -- LISTEN y\n; SELECT 1.5e3").digest,
    ).toBe('set search_path = $1; set names $2; select $3;')
    expect(scanSql("SELECT E'it\\'s; SET x', $tag$ ; LISTEN z $tag$, \"Set\"").statements).toEqual([
      'select $1, $2, "Set"',
    ])
  })

  it('finds each cause where a statement starts or a function is called, not inside literals', () => {
    expect(sqlPinCauses("SELECT 'SET a = 1', $$LISTEN b$$").map((f) => f.cause)).toEqual([])
    expect(sqlPinCauses('select pg_advisory_xact_lock(1)').map((f) => f.cause)).toEqual([])
    expect(
      sqlPinCauses('SET LOCAL a = 1; SET CONSTRAINTS ALL DEFERRED').map((f) => f.cause),
    ).toEqual([])
    expect(sqlPinCauses('PREPARE TRANSACTION $1').map((f) => f.cause)).toEqual([])
    expect(
      sqlPinCauses(
        'SET SESSION AUTHORIZATION DEFAULT; CREATE GLOBAL TEMPORARY VIEW v AS SELECT 1',
      ).map((f) => f.cause),
    ).toEqual(['set', 'temporary-object'])
    expect(sqlPinCauses("select set_config('a', 'b', true)").map((f) => f.cause)).toEqual([])
    expect(sqlPinCauses("select set_config('a', lower('B'), false)").map((f) => f.cause)).toEqual([
      'set',
    ])
    expect(sqlPinCauses('SELECT pg_advisory_unlock_all()').map((f) => f.cause)).toEqual([
      'advisory-lock',
    ])
  })
})
