import { once } from 'node:events'
import { type Connector, createConnector } from '@privatelink/core'
import type { Lab } from '@privatelink/lab'
import { createConnection } from '@privatelink/mysql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MariadbHandle } from '../../../test/support/mariadb.js'
import { mariadb, startPlainLab, zoneA } from './support.js'

// The callback connection's end(): COM_QUIT gets no answer and the server hangs up. That hang-up
// is the goodbye, not a lost connection: no 'error' after end's callback, nothing told to core.
let db: MariadbHandle | undefined
let unavailable = ''
let lab: Lab
let connector: Connector

beforeAll(async () => {
  const found = await mariadb()
  if ('unavailable' in found) {
    unavailable = found.unavailable
    return
  }
  db = found
  lab = await startPlainLab(db)
  connector = createConnector({
    endpoint: lab.endpoint,
    port: 3306,
    locality: zoneA,
    clock: () => 1_000_000,
    healthCheck: { intervalMs: 0 },
  })
})
afterAll(async () => {
  connector?.close()
  await lab?.close()
  await db?.stop()
})

describe('createConnection end()', () => {
  it('closes quietly after a query, with or without a callback', async (context) => {
    if (unavailable !== '') context.skip(unavailable)
    for (const withCallback of [true, false]) {
      const connection = createConnection({
        proxyHost: 'test-db.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com',
        user: db!.user,
        database: db!.database,
        auth: { password: db!.password },
        ssl: { insecure: 'plaintext' },
        connector,
      })
      const errors: unknown[] = []
      connection.on('error', (error) => errors.push(error))
      await new Promise<void>((resolve, reject) =>
        connection.query('SELECT 3 AS x', (error) => (error ? reject(error) : resolve())),
      )
      const stream = (
        connection as unknown as { stream: NodeJS.EventEmitter & { destroyed: boolean } }
      ).stream
      const closed = stream.destroyed ? Promise.resolve() : once(stream, 'close')
      if (withCallback) await new Promise<void>((resolve) => connection.end(() => resolve()))
      else connection.end()
      await closed
      await new Promise((resolve) => setImmediate(resolve))
      expect(errors).toEqual([])
      expect(connector.zones().filter((z) => z.ejected)).toEqual([])
    }
  })
})
