import type { Lab } from '@privatelink/lab'
import { createPromisePool } from '@privatelink/mysql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MariadbHandle } from '../../../test/support/mariadb.js'
import { mariadb, startPlainLab, zoneA } from './support.js'

// A zone that goes silent (the lab's 'hang': TCP accepted, nothing answered) passes a TCP-only
// health check. A query left without a byte back has core check the zones past TCP (the
// greeting): the zone is ejected and the query fails typed instead of waiting forever. (The
// check comes after the stall threshold, 2 s: this test waits for the query's end, not a timer.)
let db: MariadbHandle | undefined
let unavailable = ''
let lab: Lab

beforeAll(async () => {
  const found = await mariadb()
  if ('unavailable' in found) {
    unavailable = found.unavailable
    return
  }
  db = found
  lab = await startPlainLab(db)
})
afterAll(async () => {
  await lab?.zone('us-west-2a').restore()
  await lab?.close()
  await db?.stop()
})

describe('a query in a zone that went silent', () => {
  it('fails with ERR_MYSQL_CONNECTION_LOST and the zone is ejected', async (context) => {
    if (unavailable !== '') context.skip(unavailable)
    const pool = createPromisePool({
      endpoint: lab.endpoint,
      proxyHost: 'test-db.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com',
      user: db!.user,
      database: db!.database,
      auth: { password: db!.password },
      ssl: { insecure: 'plaintext' },
      connectionLimit: 1,
      connectorOptions: { locality: zoneA, healthCheck: { intervalMs: 0, timeoutMs: 300 } },
    })
    try {
      const connection = await pool.getConnection()
      await connection.query('SELECT 1')
      await lab.zone('us-west-2a').fail('hang')
      const failed = await connection.query('SELECT 2').then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(failed).toMatchObject({
        code: 'ERR_MYSQL_CONNECTION_LOST',
        details: { zone: 'usw2-az1' },
        cause: expect.any(Error),
      })
      connection.destroy()
      // The next query goes to a zone that answers.
      const [rows] = await pool.query('SELECT 3 AS n')
      expect(rows).toEqual([{ n: 3 }])
    } finally {
      await pool.end()
    }
  }, 20_000)
})
