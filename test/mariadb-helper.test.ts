import mysql from 'mysql2/promise'
import { describe, expect, it } from 'vitest'
import { findMariadb } from './support/mariadb.js'

describe('test/support/mariadb', () => {
  it('starts a private mariadbd (temp datadir, random port, ordinary grant tables) when told to, or says why it cannot', async (context) => {
    const found = await findMariadb({ PRIVATELINK_TEST_SERVICES: 'start' })
    if ('unavailable' in found) return context.skip(found.unavailable)
    try {
      expect(found.source).toBe('started')
      expect(found.port).not.toBe(3306)
      const connection = await mysql.createConnection(found)
      const [rows] = await connection.query('SELECT CURRENT_USER() AS who, DATABASE() AS db')
      expect(rows).toEqual([{ who: 'root@localhost', db: 'test' }])
      // Grant tables are on: a wrong password is refused.
      await expect(
        mysql.createConnection({ ...found, password: 'not-the-password' }),
      ).rejects.toMatchObject({ errno: 1045 })
      await connection.end()
    } finally {
      await found.stop()
    }
  }, 60_000)
})
