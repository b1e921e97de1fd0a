import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Lab, RdsProxyEvent, RdsProxyFront } from '@privatelink/lab'
import { createClient, createPool } from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresTarget, startProxyLab, zoneA } from './support.js'

// The client's pinning checks and the lab's RDS Proxy emulator, which pins sessions on the
// conditions AWS documents (its own classifier, written apart from pg's): the same statements
// through both must give the same cause. One client per statement: a session pins once.
const target = postgresTarget()
let lab: Lab
let front: RdsProxyFront

beforeAll(async () => {
  ;({ lab, front } = await startProxyLab())
})
afterAll(() => lab?.close())

const options = () => ({
  endpoint: lab.endpoint,
  proxyHost: front.proxyHost,
  user: 'app_user',
  database: target.database,
  credentials: lab.aws.issueSession(3600),
  ssl: { ca: lab.ca.certificatePem },
  connectorOptions: { locality: zoneA },
})

type Query = string | { text: string; values?: unknown[]; name?: string }

const statements: [string, Query, string | undefined][] = [
  ['plain', 'SELECT 1', undefined],
  ['SET', 'SET search_path = public', 'set'],
  ['set_config, session', "SELECT set_config('application_name', 'x', false)", 'set'],
  ['SET LOCAL in a transaction', 'BEGIN; SET LOCAL work_mem = 1024; COMMIT', undefined],
  [
    'named statement',
    { text: 'SELECT $1::int AS n', values: [1], name: 'pin-by-name' },
    'named-statement',
  ],
  ['unnamed statement', { text: 'SELECT $1::int AS n', values: [1] }, undefined],
  ['SQL PREPARE', 'PREPARE pin_q AS SELECT 1', 'prepared-statement'],
  ['temporary table', 'CREATE TEMP TABLE pin_t (id int)', 'temporary-object'],
  ['session advisory lock', 'SELECT pg_advisory_lock(4242)', 'advisory-lock'],
  ['transaction advisory lock', 'BEGIN; SELECT pg_advisory_xact_lock(4242); COMMIT', undefined],
  ['LISTEN', 'LISTEN pin_channel', 'listen'],
  ['cursor', 'BEGIN; DECLARE pin_c CURSOR FOR SELECT 1; COMMIT', 'cursor'],
  ['DISCARD', 'DISCARD ALL', 'discard'],
  ['a literal that looks like SET', "SELECT 'SET x = 1; LISTEN y' AS s", undefined],
  ['over 16 KB', `SELECT '${'x'.repeat(17_000)}' AS big`, 'large-statement'],
]

describe('pinning: the client and the RDS Proxy emulator agree', () => {
  it.each(statements)('%s', async (_name, query, expected) => {
    const client = createClient({ ...options(), pinning: 'ignore' })
    const checked = createClient({ ...options(), pinning: 'warn' })
    const found: string[] = []
    const onPinning = (message: unknown) => found.push((message as { cause: string }).cause)
    const pinned: RdsProxyEvent[] = []
    const stop = front.onEvent((event) => {
      if (event.type === 'pinned') pinned.push(event)
    })
    subscribe('privatelink:pg:pinning', onPinning)
    try {
      // The lab sees what an unchecked client sends; the checked client says what it found. One
      // after the other (a session advisory lock is held until its session ends).
      await client.connect()
      await client.query(query as string)
      await client.end()
      const seen = pinned.splice(0)
      await checked.connect()
      await checked.query(query as string)
      pinned.splice(0, pinned.length, ...seen)
    } finally {
      unsubscribe('privatelink:pg:pinning', onPinning)
      await Promise.all([client.end().catch(() => {}), checked.end()])
      stop()
    }
    expect(pinned[0]?.cause).toBe(expected)
    expect(found[0]).toBe(expected)
  })
})

describe("pinning: 'warn' and 'error'", () => {
  it("'warn' warns once per cause per pool, counts every one and publishes cause and hint, never the SQL", async () => {
    const pool = createPool({ ...options(), max: 1 })
    const warnings: string[] = []
    const onWarning = (warning: Error & { code?: string }) => {
      if (warning.code === 'PRIVATELINK_PG_PINNING') warnings.push(warning.message)
    }
    const messages: unknown[] = []
    const onPinning = (message: unknown) => messages.push(message)
    process.on('warning', onWarning)
    subscribe('privatelink:pg:pinning', onPinning)
    try {
      await pool.query("SET application_name = 'secret-looking-value'")
      await pool.query("SET application_name = 'secret-looking-value'")
      await pool.query({ text: 'SELECT $1::int', values: [1], name: 'pin-named' })
      await pool.query({ text: 'SELECT $1::int', values: [2], name: 'pin-named' })
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.off('warning', onWarning)
      unsubscribe('privatelink:pg:pinning', onPinning)
    }
    // The named statement is parsed once on the pool's one connection: it pins once.
    expect(pool.stats().pinning).toEqual({ set: 2, 'named-statement': 1 })
    expect(warnings).toHaveLength(2)
    expect(messages[0]).toMatchObject({
      cause: 'set',
      proxyHost: front.proxyHost,
      zone: 'usw2-az1',
    })
    expect((messages[0] as { hint: string }).hint).toMatch(/InitQuery|SET LOCAL/)
    expect(JSON.stringify(messages)).not.toContain('secret-looking-value')
    await pool.end()
  })

  it("'error' refuses the statement before it is sent (ERR_PG_PINNING), promise and callback alike", async () => {
    const pool = createPool({ ...options(), pinning: 'error', max: 1 })
    const before = front.stats().pinned['listen'] ?? 0
    const error = (await pool.query('LISTEN pin_refused').catch((e: unknown) => e)) as {
      code?: string
      hint?: string
      details?: Record<string, unknown>
    }
    expect(error.code).toBe('ERR_PG_PINNING')
    expect(error.details?.['cause']).toBe('listen')
    expect(error.hint).toMatch(/LISTEN/)
    const client = await pool.connect()
    const viaCallback = await new Promise((resolve) =>
      client.query('LISTEN pin_refused', (e: Error | null) => resolve(e)),
    )
    expect((viaCallback as { code?: string }).code).toBe('ERR_PG_PINNING')
    const { rows } = await client.query<{ one: number }>('SELECT 1 AS one')
    expect(rows[0]!.one).toBe(1)
    client.release()
    expect(front.stats().pinned['listen'] ?? 0).toBe(before)
    expect(pool.stats().pinning).toEqual({ listen: 2 })
    await pool.end()
  })

  it('a bad pinning option is ERR_INVALID_OPTION naming it', () => {
    expect(() => createPool({ ...options(), pinning: 'loud' as never })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        details: expect.objectContaining({ option: 'pinning' }),
      }),
    )
  })
})
