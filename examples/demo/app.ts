import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'
import { detectLocality, discoverEndpoint, type Endpoint, type Locality } from '@privatelink/core'
import type { createEndpointDispatcher } from '@privatelink/http'
import type { createPool as createMysqlPool } from '@privatelink/mysql'
import type { createPool } from '@privatelink/pg'
import type { createRedis } from '@privatelink/redis'
import { request } from 'undici'
import { openServices } from '../multi-service-endpoint/services.js'
import { API_HOST, type Stack } from './stack.js'

export type Pool = ReturnType<typeof createPool>
export type Redis = ReturnType<typeof createRedis>
export type MysqlPool = ReturnType<ReturnType<typeof createMysqlPool>['promise']>

/** The application in zone b: four clients on one endpoint, every option at its default. */
export interface App {
  locality: Locality
  endpoint: Endpoint
  pool: Pool
  http: ReturnType<typeof createEndpointDispatcher>
  redis?: Redis
  mysql?: MysqlPool
  close(): Promise<void>
}

/**
 * Step 2, as an application on an EC2 instance in us-west-2b would do it: where am I (IMDSv2),
 * which endpoint (EC2 API), whose credentials (STS AssumeRole into the provider's account with
 * its ExternalId), then a pg pool, a mysql2 pool, an HTTP dispatcher and a Redis client over the endpoint.
 */
export async function startApp(stack: Stack, log: (line: string) => void): Promise<App> {
  const { lab } = stack
  lab.metadata.setZone('us-west-2b')
  const locality = await detectLocality({ env: lab.metadata.env('ec2') })
  if (locality.source === 'unknown') throw new Error('IMDSv2 did not tell the zone')
  log(`   IMDSv2 (token, then placement): ${locality.azName} (${locality.azId})`)

  // The instance role's own key finds the endpoint in its own account...
  const endpoint = await discoverEndpoint({
    serviceName: lab.endpoint.serviceName!,
    region: lab.region,
    credentials: lab.aws.credentials,
    ec2ClientConfig: { endpoint: lab.aws.endpoint },
  })
  log(
    `   EC2 DescribeVpcEndpoints (real EC2Client, SigV4): ${endpoint.id}, ${endpoint.zones.length} zones, private DNS ${endpoint.privateDnsName}`,
  )

  // ...and a role in the provider's account signs the database and cache tokens.
  const role = lab.aws.roles[0]!
  const sts = new STSClient({
    endpoint: lab.aws.endpoint,
    region: lab.region,
    credentials: lab.aws.credentials,
  })
  const assumed = await sts.send(
    new AssumeRoleCommand({
      RoleArn: role.arn,
      RoleSessionName: 'privatelink-demo',
      ExternalId: role.externalId ?? 'privatelink-lab',
    }),
  )
  sts.destroy()
  const credentials = {
    accessKeyId: assumed.Credentials!.AccessKeyId!,
    secretAccessKey: assumed.Credentials!.SecretAccessKey!,
    sessionToken: assumed.Credentials!.SessionToken!,
    expiration: assumed.Credentials!.Expiration!,
  }
  log(
    `   STS AssumeRole ${role.arn} with ExternalId: session until ${credentials.expiration.toISOString().slice(11, 19)} UTC`,
  )

  const services = openServices({
    endpoint,
    locality,
    region: lab.region,
    credentials,
    postgres: {
      proxyHost: stack.proxy.proxyHost,
      user: 'app_user',
      database: stack.postgres.database,
    },
    ...(stack.mysqlProxy === undefined
      ? {}
      : {
          mysql: {
            proxyHost: stack.mysqlProxy.proxyHost,
            user: 'app_user',
            database: stack.mariadb!.database,
          },
        }),
    ...(stack.cache === undefined
      ? {}
      : {
          redis: {
            servername: stack.cache.hostname,
            cacheName: stack.cache.cacheName,
            userId: 'app-user',
          },
        }),
    ca: lab.ca.certificatePem, // the lab's CA stands in for Amazon Trust Services
  })
  const { db: pool, api: http, cache: redis, mysql } = services
  const app: App = {
    locality,
    endpoint,
    pool,
    http,
    ...(redis === undefined ? {} : { redis }),
    ...(mysql === undefined ? {} : { mysql }),
    close: () => services.close(),
  }
  try {
    const { rows } = await pool.query<{ user: string; version: string }>(
      "SELECT current_user AS user, split_part(version(), ' ', 2) AS version",
    )
    log(
      `   pg: IAM token for app_user, TLS verify-full against ${stack.proxy.proxyHost}: PostgreSQL ${rows[0]!.version}`,
    )
    if (mysql !== undefined) {
      const [rows] = await mysql.query('SELECT VERSION() AS version')
      const version = (rows as { version: string }[])[0]!.version
      log(
        `   mysql: IAM token (cleartext plugin over TLS) for app_user, verified against ${stack.mysqlProxy!.proxyHost}: ${version}`,
      )
    } else log(`   mysql: skipped (${stack.mysqlSkipped})`)
    const response = await request(`https://${API_HOST}/v1/orders/42`, { dispatcher: http })
    const body = (await response.body.json()) as { path: string }
    log(`   https://${API_HOST}${body.path}: ${response.statusCode}`)
    if (redis !== undefined) {
      await redis.set('privatelink:demo', 'hello')
      log(
        `   redis: IAM AUTH over TLS to ${stack.cache!.hostname}: GET -> ${await redis.get('privatelink:demo')}`,
      )
    } else log(`   redis: skipped (${stack.redisSkipped})`)
  } catch (error) {
    await app.close()
    throw error
  }
  return app
}
