import 'reflect-metadata'
import { createConnector } from '@privatelink/core'
import type { Lab, RdsProxyFront } from '@privatelink/lab'
import { createPgModule, type PrivateLinkPgModule } from '@privatelink/pg'
import knex from 'knex'
import { QueryTypes, Sequelize } from 'sequelize'
import { DataSource } from 'typeorm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bytesByZone, postgresTarget, startProxyLab, zoneA } from '../packages/pg/test/support.js'

// Issue 35: ORMs that build their own pg clients (Sequelize's dialectModule, TypeORM's driver,
// Knex before 3.3) take createPgModule: every client they make shares one connector and one IAM
// token provider. Each runs the README's snippet against the lab's RDS Proxy emulator (TLS
// verify-full against the proxy name, IAM tokens checked with the lab's keys).
const target = postgresTarget()
let lab: Lab
let front: RdsProxyFront

beforeAll(async () => {
  ;({ lab, front } = await startProxyLab())
})
afterAll(() => lab?.close())

/** The module as the README builds it, against the lab. */
const pgModuleForLab = (): PrivateLinkPgModule =>
  createPgModule({
    endpoint: lab.endpoint,
    proxyHost: front.proxyHost,
    user: 'app_user',
    credentials: lab.aws.issueSession(3600),
    ssl: { ca: lab.ca.certificatePem },
    connectorOptions: { locality: zoneA },
    // ORMs send SET at connect (time zone, client_min_messages): counted, not warned, here.
    pinning: 'ignore',
  })

/** What `work` cost the proxy: IAM logins, tokens signed, bytes per zone. */
async function measure(pgModule: PrivateLinkPgModule, work: () => Promise<void>) {
  const logins = front.stats().authenticated
  const bytes = bytesByZone(lab, 'postgres')
  await work()
  const after = bytesByZone(lab, 'postgres')
  return {
    logins: front.stats().authenticated - logins,
    signed: pgModule.tokenProvider?.stats().signed,
    ownZone: after['us-west-2a']! - bytes['us-west-2a']!,
    otherZones:
      after['us-west-2b']! - bytes['us-west-2b']! + (after['us-west-2c']! - bytes['us-west-2c']!),
  }
}

const lastLogin = () =>
  front
    .events()
    .filter((event) => event.type === 'connected')
    .at(-1)

describe('createPgModule: ORMs that build their own pg clients', () => {
  it("Sequelize (dialectModule): its pool's connections share one token; one login per connection", async () => {
    const pgModule = pgModuleForLab()
    // readme:sequelize
    const sequelize = new Sequelize(target.database, 'app_user', undefined, {
      dialect: 'postgres',
      dialectModule: pgModule,
      pool: { max: 4 },
      logging: false,
    })
    // end
    const cost = await measure(pgModule, async () => {
      const rows = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          sequelize.query<{ n: number }>(`SELECT ${i}::int AS n`, { type: QueryTypes.SELECT }),
        ),
      )
      expect(rows.map((row) => row[0]?.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    })
    await sequelize.close()
    await pgModule.end()
    // Its pool's connections, plus one Sequelize opens first to read the server version.
    expect(cost.logins).toBeGreaterThan(1)
    expect(cost.logins).toBeLessThanOrEqual(4 + 1)
    expect(cost.signed).toBe(1)
    expect(cost.ownZone).toBeGreaterThan(0)
    expect(cost.otherZones).toBe(0)
    expect(lastLogin()?.user).toBe('app_user')
  })

  it('TypeORM (driver): a DataSource over the module; its pool is createPool', async () => {
    const pgModule = pgModuleForLab()
    // readme:typeorm
    const dataSource = new DataSource({
      type: 'postgres',
      driver: pgModule,
      username: 'app_user',
      database: target.database,
      poolSize: 4,
    })
    await dataSource.initialize()
    // end
    const cost = await measure(pgModule, async () => {
      const rows = await Promise.all(
        Array.from({ length: 8 }, (_, i) => dataSource.query('SELECT $1::int AS n', [i])),
      )
      expect(rows.map((result) => result[0].n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    })
    await dataSource.destroy()
    await pgModule.end()
    expect(cost.logins).toBeLessThanOrEqual(4)
    expect(cost.signed).toBe(1)
    expect(cost.otherZones).toBe(0)
  })

  it("Knex 3.1 (its own pg.Client): connection from the module's connectionConfig", async () => {
    const pgModule = pgModuleForLab()
    // readme:knex31
    const db = knex({
      client: 'pg',
      connection: () => pgModule.connectionConfig({ database: target.database }),
      pool: { min: 0, max: 4 },
    })
    // end
    const cost = await measure(pgModule, async () => {
      const rows = await Promise.all(
        Array.from({ length: 8 }, (_, i) => db.raw('SELECT ?::int AS n', [i])),
      )
      expect(rows.map((result) => result.rows[0].n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    })
    await db.destroy()
    await pgModule.end()
    expect(cost.logins).toBeGreaterThan(0)
    expect(cost.logins).toBeLessThanOrEqual(4)
    expect(cost.signed).toBe(1)
    expect(cost.otherZones).toBe(0)
  })

  it('refuses what would contradict it: another user, a connection string', () => {
    const pgModule = pgModuleForLab()
    expect(() => new pgModule.Client({ user: 'someone_else' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    expect(() => new pgModule.Pool({ connectionString: 'postgres://x@y/z' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    // Failover targets need createPool's per-target plans: refused here, with the way out.
    expect(() =>
      createPgModule({
        endpoint: lab.endpoint,
        proxyHost: front.proxyHost,
        user: 'app_user',
        failover: [{ endpoint: lab.endpoint, proxyHost: front.proxyHost }],
      } as Parameters<typeof createPgModule>[0]),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        details: expect.objectContaining({ option: 'failover' }),
      }),
    )
    // Where and how to connect is the module's: an ORM's host, port, password and ssl are ignored.
    const client = new pgModule.Client({ host: 'localhost', port: 1, password: 'x', ssl: true })
    expect(client.host).toBe(front.proxyHost)
    return pgModule.end()
  })

  // A zone lost under an ORM's idle connections: they are closed typed (ERR_PG_ZONE_RETIRED), the
  // ORM drops them, and its next queries run in another zone. The own zone is blackholed (its
  // flows freeze) and found by one explicit health-check round: no timer is waited for.
  describe('the own zone lost under idle ORM connections', () => {
    const lossFor = async (
      run: (pgModule: PrivateLinkPgModule) => Promise<() => Promise<void>>,
    ) => {
      const connector = createConnector({
        endpoint: lab.endpoint,
        port: 5432,
        locality: zoneA,
        healthCheck: { intervalMs: 0, timeoutMs: 300 },
      })
      const pgModule = createPgModule({
        connector,
        proxyHost: front.proxyHost,
        user: 'app_user',
        credentials: lab.aws.issueSession(3600),
        ssl: { ca: lab.ca.certificatePem },
        pinning: 'ignore',
      })
      const query = await run(pgModule) // connections made in the own zone, now idle
      try {
        await lab.zone('us-west-2a').fail('blackhole')
        const own = () => connector.zones().find((zone) => zone.zone === 'usw2-az1')
        for (let round = 0; round < 5 && !own()?.ejected; round++) await connector.probe()
        expect(own()?.ejected).toBe(true)
        // The closed connections' 'error' events are emitted on the next tick: the ORM hears
        // them (and drops the connections) before its next checkout.
        await new Promise((resolve) => setImmediate(resolve))
        const before = bytesByZone(lab, 'postgres')
        await query()
        const after = bytesByZone(lab, 'postgres')
        expect(after['us-west-2a']! - before['us-west-2a']!).toBe(0)
      } finally {
        await lab.zone('us-west-2a').restore()
        await pgModule.end()
        connector.close()
      }
    }

    it('Knex 3.1 over connectionConfig', async () => {
      let db: ReturnType<typeof knex> | undefined
      await lossFor(async (pgModule) => {
        db = knex({
          client: 'pg',
          connection: () => pgModule.connectionConfig({ database: target.database }),
          pool: { min: 0, max: 2 },
        })
        await Promise.all([db.raw('SELECT 1'), db.raw('SELECT 1')])
        return async () => {
          const rows = await Promise.all([db!.raw('SELECT 2 AS n'), db!.raw('SELECT 2 AS n')])
          expect(rows.map((result) => result.rows[0].n)).toEqual([2, 2])
        }
      })
      await db?.destroy()
    })

    it('Sequelize over the module', async () => {
      let sequelize: Sequelize | undefined
      await lossFor(async (pgModule) => {
        sequelize = new Sequelize(target.database, 'app_user', undefined, {
          dialect: 'postgres',
          dialectModule: pgModule,
          pool: { max: 2 },
          logging: false,
        })
        const select = () => sequelize!.query('SELECT 1 AS n', { type: QueryTypes.SELECT })
        await Promise.all([select(), select()])
        return async () => {
          const rows = await Promise.all([select(), select()])
          expect(rows).toEqual([[{ n: 1 }], [{ n: 1 }]])
        }
      })
      await sequelize?.close()
    })
  })
})
