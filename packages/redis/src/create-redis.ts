import type { Socket } from 'node:net'
import { type Connector, invalidOption } from '@privatelink/core'
import { Redis, type RedisOptions } from 'ioredis'
import { withCheckedOptions } from './checked-options.js'
import { endpointConnectorClass } from './endpoint-connector.js'
import {
  failoverConnector,
  type RedisFailoverTarget,
  resolveFailoverTargets,
  type TargetAuth,
} from './failover-targets.js'
import {
  connectorFor,
  type EndpointAuthOptions,
  OWN_OPTIONS,
  resolveAuthOptions,
} from './options.js'
import { keepAuthenticated } from './reauth.js'
import { invalidSecretOption } from './secret-option.js'

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

/**
 * Options of createRedis: the endpoint, TLS and auth options, `port` and `failover`, plus ioredis'
 * own options except those that would bypass the endpoint or our AUTH (`host`, `path`,
 * `Connector`, `password`, `sentinels` are refused). Checked at construction: a bad value throws
 * `ERR_INVALID_OPTION` naming the option.
 */
export interface CreateRedisOptions extends EndpointAuthOptions, Omit<RedisOptions, Replaced> {
  /** The NLB listener port (the same in every target). @default 6379 */
  port?: number
  /**
   * More targets after this one, in priority order, each an endpoint with its own cache name on
   * the certificate and, with IAM, its own cache name, region and credentials for tokens (another
   * region, or a cross-region endpoint). Connections stay in the first target while any of its
   * zones is in, move to the next when all are out, and come back once it passes health checks.
   * Not with `connector`. @default none
   */
  failover?: RedisFailoverTarget[]
}

/**
 * An ioredis `Redis` whose connections come through a PrivateLink endpoint: own zone first, zone
 * health and failover from `@privatelink/core`, TLS verified against `servername`, and every
 * (re)connect authenticated with the password or a current IAM token before ioredis sees it.
 * With `failover`, one connector over every target: a connection is verified and authenticated
 * for the target (region) it reached, and connections follow traffic when it changes region.
 */
export function createRedis(options: CreateRedisOptions): Redis {
  return withCheckedOptions(options, () => buildRedis(options))
}

function buildRedis(options: CreateRedisOptions): Redis {
  // A connection URL given as options may carry a password: never echoed.
  if (typeof options !== 'object' || options === null)
    throw invalidSecretOption('options', 'an object with endpoint and servername', options)
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
  let targets: TargetAuth[] = [
    { servername: resolved.servername, tls: resolved.tls, authenticator: resolved.authenticator },
  ]
  let connector: Connector
  let owned = true
  if (options.failover === undefined) ({ connector, owned } = connectorFor(options, port))
  else {
    const failover = resolveFailoverTargets(options, resolved)
    targets = failover.targets
    connector = failoverConnector(options, failover.endpoints, port)
  }
  const redisOptions: Record<string, unknown> = { ...options }
  for (const key of [...OWN_OPTIONS, 'port']) delete redisOptions[key]
  let everReady = false
  const Connector = endpointConnectorClass({
    connector,
    targets,
    // With failover targets the connector applies the TLS name of the target a socket lands in.
    connectTls: options.failover === undefined || resolved.tls === false ? resolved.tls : undefined,
    clock: resolved.clock,
    // The one connection drains when core retires its zone or region without cutting it off.
    ownerOf: (socket) => (redis.stream === socket ? redis : undefined),
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
    const providerFor = (stream: Socket | undefined) => {
      const index = stream === undefined ? 0 : (connector.targetOf(stream)?.index ?? 0)
      const own = targets[index]?.authenticator
      return own?.kind === 'iam' ? own.provider : authenticator.provider
    }
    keepAuthenticated(redis, {
      user: authenticator.user,
      providerFor,
      clock: resolved.clock,
      afterMs: resolved.reauthAfterMs,
      checkIntervalMs: resolved.reauthCheckIntervalMs,
      connector,
    })
  }
  redis.once('end', () => {
    if (owned) connector.close()
  })
  return redis
}
