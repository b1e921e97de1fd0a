import { type Connector, createConnector, PrivateLinkError } from '@privatelink/core'
import type { Lab } from '@privatelink/lab'
import { createClient, createPool } from '@privatelink/pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { postgresTarget, startPlainLab, zoneA } from './support.js'

// One vocabulary across adapters: `endpoint` (what to reach), `connector` (a Connector to share),
// `connectorOptions` (settings of the connector the pool makes). pg's older spellings keep
// working, each with one deprecation warning per process. This file runs in its own worker, so
// "once per process" starts here.
const target = postgresTarget()
let lab: Lab
const warnings: { code: string | undefined; name: string }[] = []
// Deprecations only (the plaintext lab also draws the once-per-process insecure-TLS warning).
const onWarning = (warning: Error & { code?: string }) => {
  if (warning.code?.startsWith('PRIVATELINK_DEP_'))
    warnings.push({ code: warning.code, name: warning.name })
}
const closers: (() => unknown)[] = []

beforeAll(async () => {
  lab = await startPlainLab()
  process.on('warning', onWarning)
})
afterAll(async () => {
  process.off('warning', onWarning)
  await lab?.close()
})
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

const base = {
  proxyHost: 'test-db.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com',
  user: target.user,
  database: target.database,
  auth: { password: target.password },
  ssl: { insecure: 'plaintext' as const },
}

/** A connector for the lab, closed after the test, with its connects counted. */
function sharedConnector(): Connector & { connects: number } {
  const connector = createConnector({ endpoint: lab.endpoint, port: 5432, locality: zoneA })
  closers.push(() => connector.close())
  const counted = {
    ...connector,
    connects: 0,
    connect: (options?: Parameters<Connector['connect']>[0]) => {
      counted.connects++
      return connector.connect(options)
    },
  }
  return counted
}

/** Warnings are emitted on the next tick. */
const settle = () => new Promise((resolve) => setImmediate(resolve))
const codes = () => warnings.map((warning) => warning.code)

describe('the current vocabulary', () => {
  it('connector: a shared Connector dials every connection and stays open after the pool ends', async () => {
    const connector = sharedConnector()
    const pool = createPool({ ...base, connector, max: 2 })
    await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 1')])
    expect(connector.connects).toBe(2)
    await pool.end()
    const client = createClient({ ...base, connector })
    await client.connect()
    await client.end()
    expect(connector.connects).toBe(3)
    // The pool and the client left the shared connector open: it still connects.
    const socket = await connector.connect()
    socket.destroy()
  })

  it("connector with endpoint naming the connector's own endpoint is accepted", async () => {
    const connector = sharedConnector()
    for (const endpoint of [lab.endpoint, { ...lab.endpoint }]) {
      const pool = createPool({ ...base, endpoint, connector })
      await pool.query('SELECT 1')
      await pool.end()
    }
  })

  it('endpoint + connectorOptions: the pool makes its connector from the settings', async () => {
    const pool = createPool({
      ...base,
      endpoint: lab.endpoint,
      connectorOptions: { locality: zoneA, healthCheck: { intervalMs: 0 } },
    })
    closers.push(() => pool.end())
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one')
    expect(rows[0]!.one).toBe(1)
    await settle()
    expect(codes()).toEqual([])
  })

  const refused = (options: Record<string, unknown>) => {
    try {
      createPool({ ...base, ...options } as Parameters<typeof createPool>[0])
    } catch (error) {
      expect(PrivateLinkError.isInstance(error)).toBe(true)
      return [(error as PrivateLinkError).code, (error as PrivateLinkError).details['option']]
    }
    return 'created'
  }

  it('contradictions are ERR_INVALID_OPTION naming the option', () => {
    const connector = sharedConnector()
    const other = { ...lab.endpoint, id: 'vpce-0fffffffffffffff0' }
    expect(refused({ connector, connectorOptions: { locality: zoneA } })).toEqual([
      'ERR_INVALID_OPTION',
      'connectorOptions',
    ])
    expect(refused({ connector, endpoint: other })).toEqual(['ERR_INVALID_OPTION', 'endpoint'])
    expect(refused({ connector: 'vpce-0123', endpoint: lab.endpoint })).toEqual([
      'ERR_INVALID_OPTION',
      'connector',
    ])
    expect(refused({ connector, endpoint: connector })).toEqual(['ERR_INVALID_OPTION', 'endpoint'])
    expect(
      refused({ connector, failover: [{ endpoint: other, proxyHost: base.proxyHost }] }),
    ).toEqual(['ERR_INVALID_OPTION', 'connector'])
    expect(
      refused({ connector: { locality: zoneA }, connectorOptions: { locality: zoneA } }),
    ).toEqual(['ERR_INVALID_OPTION', 'connector'])
    expect(refused({})).toEqual(['ERR_INVALID_OPTION', 'endpoint'])
  })
})

describe('the older spellings', () => {
  it('endpoint: Connector works as connector, with one PRIVATELINK_DEP_PG_ENDPOINT_CONNECTOR warning per process', async () => {
    warnings.length = 0
    const connector = sharedConnector()
    for (let i = 0; i < 2; i++) {
      const pool = createPool({ ...base, endpoint: connector })
      await pool.query('SELECT 1')
      await pool.end()
    }
    const client = createClient({ ...base, endpoint: connector })
    await client.connect()
    await client.end()
    expect(connector.connects).toBe(3)
    await settle()
    expect(warnings).toEqual([
      { code: 'PRIVATELINK_DEP_PG_ENDPOINT_CONNECTOR', name: 'DeprecationWarning' },
    ])
  })

  it('connector: { settings } works as connectorOptions, with one PRIVATELINK_DEP_PG_CONNECTOR_SETTINGS warning per process', async () => {
    warnings.length = 0
    for (let i = 0; i < 2; i++) {
      // A locality the pool must honour: only the own zone's relay sees the bytes.
      const pool = createPool({
        ...base,
        endpoint: lab.endpoint,
        connector: { locality: zoneA, healthCheck: { intervalMs: 0 } },
      })
      const before = lab.zone('us-west-2a').stats()['pg']?.bytesIn ?? 0
      await pool.query('SELECT 1')
      expect(lab.zone('us-west-2a').stats()['pg']!.bytesIn).toBeGreaterThan(before)
      await pool.end()
    }
    await settle()
    expect(warnings).toEqual([
      { code: 'PRIVATELINK_DEP_PG_CONNECTOR_SETTINGS', name: 'DeprecationWarning' },
    ])
  })

  it('the old pair (endpoint: Connector, connector: { settings }) still works; the settings stay ignored', async () => {
    const connector = sharedConnector()
    const pool = createPool({ ...base, endpoint: connector, connector: { locality: zoneA } })
    await pool.query('SELECT 1')
    await pool.end()
    expect(connector.connects).toBe(1)
    await settle()
    // Both spellings warned earlier in this process: nothing new.
    expect(codes()).toEqual(['PRIVATELINK_DEP_PG_CONNECTOR_SETTINGS'])
  })
})
