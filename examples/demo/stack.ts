import { once } from 'node:events'
import { createServer, type Server } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import {
  type ElastiCacheFront,
  elastiCacheFront,
  type Lab,
  type LabFront,
  type LabServiceOptions,
  type RdsProxyFront,
  type RdsProxyMysqlFront,
  rdsProxyFront,
  rdsProxyMysqlFront,
  startLab,
} from '@privatelink/lab'
import { findMariadb, type MariadbHandle } from '../../test/support/mariadb.js'
import { findPostgres, type PostgresServer } from '../support/postgres.js'
import { findRedis, type RedisServer } from '../support/redis.js'

/** The provider's private API name: the endpoint's private DNS name. */
export const API_HOST = 'api.saas.example.com'

/** What the provider's account runs behind one PrivateLink endpoint, on this machine. */
export interface Stack {
  lab: Lab
  proxy: RdsProxyFront
  /** Absent when no Redis could be had (`redisSkipped` says why). */
  cache?: ElastiCacheFront
  redisSkipped?: string
  /** RDS Proxy for MySQL on 3306; absent when no MariaDB could be had (`mysqlSkipped` says why). */
  mysqlProxy?: RdsProxyMysqlFront
  mysqlSkipped?: string
  mariadb?: MariadbHandle
  postgres: PostgresServer
  redis?: RedisServer
  close(): Promise<void>
}

/**
 * Step 1: a lab endpoint in three zones with four services behind it: PostgreSQL 5432 behind the
 * RDS Proxy emulator (IAM + TLS), MySQL 3306 (MariaDB) behind the RDS Proxy for MySQL emulator, the
 * private HTTPS API on 443, Redis 6379 behind the ElastiCache IAM front. Everything it started is stopped by close(), also when starting fails half way.
 */
export async function startStack(
  options: { env?: Record<string, string | undefined> } = {},
): Promise<Stack> {
  const closers: (() => Promise<void>)[] = []
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => {})
  }
  try {
    const [postgres, redis, mariadb] = await Promise.all([
      findPostgres(options.env),
      findRedis(options.env),
      findMariadb(options.env),
    ])
    closers.push(() => postgres.stop())
    if ('stop' in redis) closers.push(() => redis.stop())
    if ('stop' in mariadb) closers.push(() => mariadb.stop())

    const proxy = rdsProxyFront({
      upstream: {
        host: postgres.host,
        port: postgres.port,
        user: postgres.user,
        database: postgres.database,
        ...(postgres.password === undefined ? {} : { password: postgres.password }),
      },
    })
    const fronts: LabFront[] = [proxy]
    const services: LabServiceOptions[] = [
      { name: 'postgres', port: 5432, target: { front: 'rds-proxy' } },
    ]
    const cache =
      'unavailable' in redis
        ? undefined
        : elastiCacheFront({
            cacheName: 'lab-cache',
            upstream: { host: redis.host, port: redis.port },
          })
    if (cache !== undefined) {
      fronts.push(cache)
      services.push({ name: 'redis', port: 6379, target: { front: 'elasticache' } })
    }
    const mysqlProxy =
      'unavailable' in mariadb
        ? undefined
        : rdsProxyMysqlFront({
            upstream: {
              host: mariadb.host,
              port: mariadb.port,
              user: mariadb.user,
              password: mariadb.password,
              database: mariadb.database,
            },
          })
    if (mysqlProxy !== undefined) {
      fronts.push(mysqlProxy)
      services.push({ name: 'mysql', port: 3306, target: { front: 'rds-proxy-mysql' } })
    }
    const api = await startApi()
    closers.push(api.close)
    services.push({ name: 'api', port: 443, target: { host: '127.0.0.1', port: api.port } })

    const lab = await startLab({ privateDnsName: API_HOST, fronts, services })
    closers.push(() => lab.close())
    // The API's certificate comes from the lab's CA, like the proxy's and the cache's.
    const issued = await lab.ca.issue([API_HOST])
    api.server.setSecureContext({ cert: issued.certificatePem, key: issued.privateKeyPem })

    return {
      lab,
      proxy,
      ...(cache === undefined ? {} : { cache }),
      ...('unavailable' in redis ? { redisSkipped: redis.unavailable } : { redis }),
      ...(mysqlProxy === undefined ? {} : { mysqlProxy }),
      ...('unavailable' in mariadb ? { mysqlSkipped: mariadb.unavailable } : { mariadb }),
      postgres,
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}

/** The provider's private API: answers JSON; its certificate is set once the lab's CA exists. */
async function startApi(): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer({ keepAliveTimeout: 30_000 }, (request, response) => {
    request.resume()
    request.on('end', () => {
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify({ ok: true, path: request.url }))
    })
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
