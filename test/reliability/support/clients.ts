import {
  type Connector,
  type ConnectorOptions,
  createConnector,
  type Locality,
  type ZoneChangeEvent,
} from '@privatelink/core'
import { createEndpointDispatcher, type EndpointDispatcher } from '@privatelink/http'
import { type AwsCredentials, createPool, type IamTokenProvider } from '@privatelink/pg'
import { createRedis } from '@privatelink/redis'
import { captureError, captureObject } from './capture.js'
import { OWN, type Stack } from './stack.js'

export type Kind = 'http' | 'pg' | 'redis'
export type Pool = ReturnType<typeof createPool>
export type Redis = ReturnType<typeof createRedis>

export interface TimedZoneEvent extends ZoneChangeEvent {
  kind: Kind
  at: number
}

/** An application in the own zone: one connector per client, so zone events say whose they are. */
export interface App {
  http: EndpointDispatcher
  pool: Pool
  redis?: Redis
  connectors: Record<Kind, Connector | undefined>
  /** Ejections and readmissions, with performance.now() times. */
  events: TimedZoneEvent[]
  /** Public objects, for util.inspect in the secret scan. */
  inspectAll(): void
  close(): Promise<void>
}

export interface AppOptions {
  credentials: AwsCredentials | (() => Promise<AwsCredentials>)
  locality?: Locality
  /** Connector settings for all three (defaults when absent). */
  connectorOptions?: Omit<ConnectorOptions, 'endpoint' | 'port' | 'tls' | 'locality'>
  poolMax?: number
  tokenProvider?: IamTokenProvider
  clock?: () => number
  /** The Redis client's options beyond the endpoint's (reauth, retry...). */
  redis?: Record<string, unknown>
}

export const ownLocality: Locality = { ...OWN, source: 'options' }

export function startApp(stack: Stack, options: AppOptions): App {
  const { lab } = stack
  const locality = options.locality ?? ownLocality
  const events: TimedZoneEvent[] = []
  const connector = (kind: Kind, port: number) => {
    const made = createConnector({
      ...options.connectorOptions,
      endpoint: lab.endpoint,
      port,
      locality,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    })
    made.onZoneChange((event) => events.push({ ...event, kind, at: performance.now() }))
    return made
  }
  const connectors: Record<Kind, Connector | undefined> = {
    http: connector('http', 443),
    pg: connector('pg', 5432),
    redis: stack.cache === undefined ? undefined : connector('redis', 6379),
  }
  const http = createEndpointDispatcher({
    connector: connectors.http!,
    ca: lab.ca.certificatePem,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  })
  const pool = createPool({
    connector: connectors.pg!,
    proxyHost: stack.proxy.proxyHost,
    user: 'app_user',
    database: stack.database,
    region: lab.region,
    credentials: options.credentials,
    ssl: { ca: lab.ca.certificatePem },
    max: options.poolMax ?? 10,
    ...(options.tokenProvider === undefined ? {} : { tokenProvider: options.tokenProvider }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  })
  pool.on('error', captureError)
  const redis =
    stack.cache === undefined
      ? undefined
      : redisClient(stack, {
          ...options,
          connector: connectors.redis!,
        })
  return {
    http,
    pool,
    ...(redis === undefined ? {} : { redis }),
    connectors,
    events,
    inspectAll: () => {
      for (const value of [http, pool, redis, ...Object.values(connectors)])
        if (value !== undefined) captureObject(value)
    },
    close: async () => {
      redis?.disconnect()
      await Promise.allSettled([pool.end(), http.close()])
      for (const made of Object.values(connectors)) made?.close()
    },
  }
}

/** A Redis client through the endpoint's ElastiCache front, IAM-authenticated. */
export function redisClient(
  stack: Stack,
  options: Omit<AppOptions, 'connectorOptions'> & { connector?: Connector },
): Redis {
  const { lab } = stack
  if (stack.cache === undefined) throw new Error(`no Redis: ${stack.redisUnavailable}`)
  const redis = createRedis({
    endpoint: lab.endpoint,
    ...(options.connector === undefined
      ? { locality: options.locality ?? ownLocality }
      : { connector: options.connector }),
    servername: stack.cache.hostname,
    tls: { ca: lab.ca.certificatePem },
    auth: {
      iam: {
        userId: 'app-user',
        cacheName: stack.cache.cacheName,
        region: lab.region,
        credentials: options.credentials,
      },
    },
    maxRetriesPerRequest: null,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...options.redis,
  })
  // ioredis reports reconnects as 'error' events; commands still wait in its queue. Outcomes are
  // counted per command; the events only go to the secret scan.
  redis.on('error', captureError)
  return redis
}
