import { once } from 'node:events'
import type { Lab } from '@privatelink/lab'
import { createConnection, createPromisePool } from '@privatelink/mysql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MariadbHandle } from '../../../test/support/mariadb.js'
import { mariadb, startPlainLab, zoneA } from './support.js'

// The path forgets a connection idle for its timeout (350 s on AWS, 5 s of the lab's clock
// here). One clock drives the lab and the connector, so "idle past it" takes no real time.
const PATH_IDLE_MS = 5_000
let db: MariadbHandle | undefined
let unavailable = ''
let lab: Lab
let now = Date.now()
const clock = () => now

beforeAll(async () => {
  const found = await mariadb()
  if ('unavailable' in found) {
    unavailable = found.unavailable
    return
  }
  db = found
  lab = await startPlainLab(db, { clock, idleTimeoutMs: PATH_IDLE_MS, idleTimeoutMode: 'reset' })
})
afterAll(async () => {
  await lab?.close()
  await db?.stop()
})

const options = () => ({
  endpoint: lab.endpoint,
  proxyHost: 'test-db.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com',
  user: db!.user,
  database: db!.database,
  auth: { password: db!.password },
  ssl: { insecure: 'plaintext' as const },
  connectorOptions: { locality: zoneA, clock, pathIdleTimeoutMs: PATH_IDLE_MS, keepAlive: false },
})

/** Idle past the path's timeout: the lab forgets every flow idle that long. */
async function idlePastThePath(): Promise<void> {
  const forgotten = () => lab.zone('us-west-2a').stats()['mysql']!.flowsForgotten
  const before = forgotten()
  now += PATH_IDLE_MS + 1_000
  await lab.zone('us-west-2a').sweepIdle()
  expect(forgotten()).toBeGreaterThan(before)
}

describe("the path's idle timeout, keep-alive off", () => {
  it('a pool loses no query: the forgotten connection is replaced at checkout', async (context) => {
    if (unavailable !== '') context.skip(unavailable)
    const pool = createPromisePool({ ...options(), connectionLimit: 1 })
    try {
      await pool.query('SELECT 1')
      await idlePastThePath()
      const [rows] = await pool.query('SELECT 2 AS n')
      expect(rows).toEqual([{ n: 2 }])
    } finally {
      await pool.end()
    }
  })

  it('a connection held idle past it: a typed error, nothing sent', async (context) => {
    if (unavailable !== '') context.skip(unavailable)
    const connection = createConnection(options())
    const errors: unknown[] = []
    connection.on('error', (error) => errors.push(error))
    await new Promise<void>((resolve, reject) =>
      connection.query('SELECT 1', (error) => (error ? reject(error) : resolve())),
    )
    await idlePastThePath()
    const failed = await new Promise<unknown>((resolve) =>
      connection.query('SELECT 2', (error) => resolve(error)),
    )
    expect(failed).toMatchObject({
      code: 'ERR_MYSQL_CONNECTION_LOST',
      hint: expect.any(String),
      message: expect.stringContaining('path'),
    })
    const stream = (
      connection as unknown as { stream: NodeJS.EventEmitter & { destroyed: boolean } }
    ).stream
    if (!stream.destroyed) await once(stream, 'close')
    connection.destroy()
  })
})
