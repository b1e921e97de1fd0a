import type { Endpoint, Locality } from '@privatelink/core'
import { createEndpointDispatcher } from '@privatelink/http'
import { createPool as createMysqlPool } from '@privatelink/mysql'
import { type AwsCredentials, createPool } from '@privatelink/pg'
import { createRedis } from '@privatelink/redis'

export interface ServicesOptions {
  /** The one interface endpoint, from discoverEndpoint() or endpointFromEnv(). */
  endpoint: Endpoint
  /** Where this code runs. @default detected by each client's connector */
  locality?: Locality
  /** The region of the RDS Proxy and the cache (token signing). */
  region: string
  /** Signs the database's and the cache's IAM tokens (e.g. a role in the provider's account). */
  credentials: AwsCredentials | (() => Promise<AwsCredentials>)
  /** Port 5432: RDS Proxy with IAM authentication. */
  postgres: { proxyHost: string; user: string; database: string }
  /** Port 3306: RDS Proxy for MySQL with IAM authentication. Leave out when there is none. */
  mysql?: { proxyHost: string; user: string; database: string }
  /** Port 6379: ElastiCache with IAM authentication. Leave out when there is none. */
  redis?: { servername: string; cacheName: string; userId: string }
  /** Extra CA certificates (PEM). @default Node's roots, which hold AWS's (Amazon Trust Services) */
  ca?: string
}

/**
 * Up to four clients on one endpoint, one per NLB listener: PostgreSQL on 5432 (pg Pool), MySQL on
 * 3306 (mysql2 pool), Redis on 6379 (ioredis), HTTPS on 443 (undici dispatcher). Each client has its own connector for its
 * port, with its own zone health: the NLB has a target group per listener, and one can lose its
 * targets in a zone while the others keep theirs.
 */
export function openServices(options: ServicesOptions) {
  const { endpoint, locality, region, credentials, ca } = options
  const db = createPool({
    endpoint,
    proxyHost: options.postgres.proxyHost,
    user: options.postgres.user,
    database: options.postgres.database,
    region,
    credentials,
    ...(ca === undefined ? {} : { ssl: { ca } }),
    ...(locality === undefined ? {} : { connectorOptions: { locality } }),
  })
  // The provider's API on 443 under its private DNS name (the dispatcher's default origin).
  const api = createEndpointDispatcher({
    endpoint,
    ...(locality === undefined ? {} : { locality }),
    ...(ca === undefined ? {} : { ca }),
  })
  // RDS Proxy for MySQL on 3306: a mysql2 pool (promise API), IAM token sent with the cleartext
  // plugin over TLS verified against the proxy's name.
  const mysql =
    options.mysql === undefined
      ? undefined
      : createMysqlPool({
          endpoint,
          proxyHost: options.mysql.proxyHost,
          user: options.mysql.user,
          database: options.mysql.database,
          region,
          credentials,
          ...(ca === undefined ? {} : { ssl: { ca } }),
          ...(locality === undefined ? {} : { connectorOptions: { locality } }),
        }).promise()
  const cache =
    options.redis === undefined
      ? undefined
      : createRedis({
          endpoint,
          servername: options.redis.servername,
          ...(ca === undefined ? {} : { tls: { ca } }),
          auth: {
            iam: {
              userId: options.redis.userId,
              cacheName: options.redis.cacheName,
              region,
              credentials,
            },
          },
          ...(locality === undefined ? {} : { locality }),
        })
  // ioredis emits 'error' while it reconnects (commands wait in its queue meanwhile); without a
  // listener Node would treat it as an uncaught exception.
  cache?.on('error', () => {})
  return {
    db,
    mysql,
    api,
    cache,
    async close(): Promise<void> {
      cache?.disconnect()
      await Promise.allSettled([db.end(), api.close(), mysql?.end()])
    },
  }
}

export type Services = ReturnType<typeof openServices>
