import { invalidOption } from '@privatelink/core'
import { Redis, type RedisOptions } from 'ioredis'
import { endpointConnectorClass } from './endpoint-connector.js'
import {
  connectorFor,
  type EndpointAuthOptions,
  OWN_OPTIONS,
  resolveAuthOptions,
} from './options.js'
import { keepAuthenticated } from './reauth.js'
import { SocketTracker } from './socket-tracker.js'

/** ioredis options that would bypass the endpoint or our authentication. */
type Replaced =
  | 'host'
  | 'port'
  | 'path'
  | 'tls'
  | 'Connector'
  | 'username'
  | 'password'
  | 'sentinels'
  | 'name'

export interface CreateRedisOptions extends EndpointAuthOptions, Omit<RedisOptions, Replaced> {
  /** The NLB listener port. @default 6379 */
  port?: number
}

/**
 * An ioredis `Redis` whose connections come through a PrivateLink endpoint: own zone first, zone
 * health and failover from `@privatelink/core`, TLS verified against `servername`, and every
 * (re)connect authenticated with the password or a current IAM token before ioredis sees it.
 */
export function createRedis(options: CreateRedisOptions): Redis {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object with endpoint and servername', options)
  const port = options.port ?? 6379
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw invalidOption('port', 'an integer from 1 to 65535', port)
  for (const replaced of ['host', 'path', 'Connector', 'password', 'sentinels'] as const) {
    if ((options as unknown as Record<string, unknown>)[replaced] !== undefined)
      throw invalidOption(
        replaced,
        'nothing: the endpoint, servername, tls and auth options replace it',
        replaced === 'password'
          ? '[password]'
          : (options as unknown as Record<string, unknown>)[replaced],
      )
  }
  const resolved = resolveAuthOptions(options)
  const { connector, owned } = connectorFor(options, port)
  const tracker = new SocketTracker(connector)
  const redisOptions: Record<string, unknown> = { ...options }
  for (const key of [...OWN_OPTIONS, 'port']) delete redisOptions[key]
  let everReady = false
  const Connector = endpointConnectorClass({
    connector,
    servername: resolved.servername,
    tls: resolved.tls,
    authenticator: resolved.authenticator,
    clock: resolved.clock,
    tracker,
    portFor: () => port,
    authRefusalIsFatal: () => !everReady,
  })
  const redis = new Redis({
    ...(redisOptions as RedisOptions),
    host: resolved.servername,
    port,
    Connector,
  })
  redis.once('ready', () => {
    everReady = true
  })
  const { authenticator } = resolved
  if (authenticator?.kind === 'iam') {
    keepAuthenticated(redis, {
      user: authenticator.user,
      provider: authenticator.provider,
      clock: resolved.clock,
      afterMs: resolved.reauthAfterMs,
      checkIntervalMs: resolved.reauthCheckIntervalMs,
      connector,
    })
  }
  redis.once('end', () => {
    tracker.close()
    if (owned) connector.close()
  })
  return redis
}
