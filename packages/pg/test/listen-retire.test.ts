import { type Connector, createConnector, type PrivateLinkError } from '@privatelink/core'
import type { Lab, RdsProxyFront } from '@privatelink/lab'
import { createClient, createPool } from '@privatelink/pg'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { bytesByZone, postgresTarget, startProxyLab, zoneA } from './support.js'

// Issue 35: a client held outside the pool's normal use (here LISTEN) whose zone goes out must
// hear it as a typed error, never sit `connected` while its notifications stop. Real LISTEN /
// NOTIFY through the RDS Proxy emulator (TLS, IAM); the own zone is blackholed (its flows freeze,
// as a lost zone's do) and found by one explicit health-check round, so nothing waits on a timer.
const target = postgresTarget()
let lab: Lab
let front: RdsProxyFront
let connector: Connector
let notifier: pg.Client
const closers: (() => Promise<unknown> | unknown)[] = []

beforeAll(async () => {
  ;({ lab, front } = await startProxyLab())
  // NOTIFY straight to PostgreSQL: the sender is not what is tested.
  notifier = new pg.Client({ ...target })
  await notifier.connect()
})
afterAll(async () => {
  await notifier?.end()
  await lab?.close()
})
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
  await lab.zone('us-west-2a').restore()
})

const options = () => ({
  connector,
  proxyHost: front.proxyHost,
  user: 'app_user',
  database: target.database,
  credentials: lab.aws.issueSession(3600),
  ssl: { ca: lab.ca.certificatePem },
  pinning: 'ignore' as const,
})

function start() {
  connector = createConnector({
    endpoint: lab.endpoint,
    port: 5432,
    locality: zoneA,
    healthCheck: { intervalMs: 0, timeoutMs: 300 },
  })
  closers.push(() => connector.close())
}

/** Notifications on `client`, and a way to wait for the next one. */
function listen(client: pg.ClientBase) {
  const received: string[] = []
  client.on('notification', (message) => received.push(message.payload ?? ''))
  return {
    received,
    next: (payload: string) =>
      vi.waitFor(() => expect(received).toContain(payload), { timeout: 5_000, interval: 20 }),
  }
}

const notify = (payload: string) => notifier.query(`NOTIFY jobs, '${payload}'`)

/** Blackholes the own zone, then one health-check round (repeated while needed) ejects it. */
async function loseOwnZone(): Promise<void> {
  await lab.zone('us-west-2a').fail('blackhole')
  for (let round = 0; round < 5; round++) {
    if (connector.zones().find((zone) => zone.zone === 'usw2-az1')?.ejected) return
    await connector.probe()
  }
  expect(connector.zones().find((zone) => zone.zone === 'usw2-az1')?.ejected).toBe(true)
}

describe('a LISTEN client whose zone is lost', () => {
  it('checked out of a pool: ERR_PG_ZONE_RETIRED on the client and the pool; LISTEN again on a new client works', async () => {
    start()
    const pool = createPool({ ...options(), max: 2 })
    closers.push(() => pool.end())
    const poolErrors: PrivateLinkError[] = []
    pool.on('error', (error) => poolErrors.push(error as PrivateLinkError))
    const held = await pool.connect()
    const clientErrors: PrivateLinkError[] = []
    held.on('error', (error) => clientErrors.push(error as PrivateLinkError))
    const first = listen(held)
    await held.query('LISTEN jobs')
    await notify('before')
    await first.next('before')

    await loseOwnZone()
    await vi.waitFor(() => expect(clientErrors.length).toBeGreaterThan(0), { timeout: 5_000 })
    expect(clientErrors[0]).toMatchObject({
      code: 'ERR_PG_ZONE_RETIRED',
      details: { zone: 'usw2-az1', reason: 'ejected', proxyHost: front.proxyHost },
    })
    expect(clientErrors[0]!.hint).toMatch(/LISTEN again/)
    expect(poolErrors.map((error) => error.code)).toEqual(['ERR_PG_ZONE_RETIRED'])
    // Not silently alive: a query on it fails at once.
    await expect(held.query('SELECT 1')).rejects.toThrow()
    held.release(clientErrors[0])

    // The README's recipe: a new client from the pool, LISTEN on it again (another zone).
    const before = bytesByZone(lab, 'postgres')
    const again = await pool.connect()
    again.on('error', () => {})
    const second = listen(again)
    await again.query('LISTEN jobs')
    await notify('after')
    await second.next('after')
    const after = bytesByZone(lab, 'postgres')
    expect(after['us-west-2a']! - before['us-west-2a']!).toBe(0)
    expect(first.received).toEqual(['before'])
    again.release()
  })

  it('from createClient: the same typed error, on the client', async () => {
    start()
    const client = createClient(options())
    closers.push(() => client.end().catch(() => {}))
    const errors: PrivateLinkError[] = []
    client.on('error', (error) => errors.push(error as PrivateLinkError))
    await client.connect()
    const notes = listen(client)
    await client.query('LISTEN jobs')
    await notify('one')
    await notes.next('one')
    await loseOwnZone()
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 5_000 })
    expect(errors[0]).toMatchObject({ code: 'ERR_PG_ZONE_RETIRED', details: { zone: 'usw2-az1' } })
  })

  it('the own zone readmitted (a zone only outranked, not out): a held client is kept until released', async () => {
    let now = 1_000_000
    connector = createConnector({
      endpoint: lab.endpoint,
      port: 5432,
      locality: zoneA,
      clock: () => now,
      healthCheck: { intervalMs: 0 },
    })
    closers.push(() => connector.close())
    const pool = createPool({ ...options(), max: 2 })
    closers.push(() => pool.end())
    const errors: unknown[] = []
    pool.on('error', (error) => errors.push(error))
    while (!connector.zones().find((zone) => zone.zone === 'usw2-az1')!.ejected)
      connector.report('usw2-az1', 'connect-failed', 'ECONNREFUSED')
    const held = await pool.connect() // in another zone while the own zone is out
    held.on('error', (error) => errors.push(error))
    const notes = listen(held)
    await held.query('LISTEN jobs')
    now += 3_600_000
    connector.preferredZones() // the own zone is back: held is retired with out: false
    await notify('still')
    await notes.next('still')
    expect(errors).toEqual([])
    held.release()
  })
})
