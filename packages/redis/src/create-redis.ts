import type { Socket } from 'node:net'
import {
  type Connector,
  type ConnectorTlsOptions,
  crossesPathIdle,
  DEFAULT_PATH_IDLE_TIMEOUT_MS,
  invalidOption,
} from '@privatelink/core'
import { type Command, Redis, type RedisOptions } from 'ioredis'
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
  type ResolvedAuthOptions,
  resolveAuthOptions,
} from './options.js'
import { keepAuthenticated } from './reauth.js'
import { invalidSecretOption } from './secret-option.js'
import { watchOf } from './watch-socket.js'

/** ioredis' `WriteableStream` (a pipeline or a socket), as sendCommand takes it. */
type WriteableStream = Parameters<Redis['sendCommand']>[1]

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
  const setup: RedisSetup = {
    connector,
    owned,
    open: 0,
    targets,
    resolved,
    port,
    // With failover targets the connector applies the TLS name of the target a socket lands in.
    connectTls: options.failover === undefined || resolved.tls === false ? resolved.tls : undefined,
  }
  return new PrivateLinkRedis(setup, withKeepAlive(redisOptions, pathIdleOf(connector)))
}

/** The connector's path timeout; a Connector from an older @privatelink/core has none: AWS's. */
const pathIdleOf = (connector: Connector): number =>
  (connector as Partial<Connector>).pathIdleTimeoutMs ?? DEFAULT_PATH_IDLE_TIMEOUT_MS

/** What a client and its duplicates share: one connector, the targets' TLS names and auth. */
interface RedisSetup {
  connector: Connector
  /** Made by createRedis: closed when the last client sharing it ends. */
  owned: boolean
  /** Clients sharing the connector that have not ended. */
  open: number
  targets: TargetAuth[]
  resolved: ResolvedAuthOptions
  port: number
  connectTls: ConnectorTlsOptions | false | undefined
}

/**
 * ioredis' `keepAlive` (5: 0 by default, the kernel's delay of 2 hours; 6: 30 s) set ours: left to the connector, which turns
 * TCP keep-alive on for every socket it dials with a delay well under the path's idle timeout
 * (`connectorOptions.keepAlive: false` turns it off). A delay of the user's own must be below the
 * path's idle timeout: a longer one lets the endpoint forget an idle connection first.
 */
function withKeepAlive(
  redisOptions: Record<string, unknown>,
  pathIdleTimeoutMs: number,
): Record<string, unknown> {
  const given = redisOptions['keepAlive']
  if (given === undefined || given === false) return { ...redisOptions, keepAlive: false }
  if (typeof given !== 'number' || !Number.isInteger(given) || given < 0)
    throw invalidOption('keepAlive', 'milliseconds before the first TCP keep-alive probe', given)
  if (given >= pathIdleTimeoutMs)
    throw crossesPathIdle(
      'keepAlive',
      given,
      pathIdleTimeoutMs,
      "Leave ioredis' 'keepAlive' out: the connector keeps every connection alive with a delay well under the path's timeout.",
    )
  return redisOptions
}

/**
 * The Redis createRedis returns: its connections come from the connector, are authenticated
 * before ioredis sees them and (with IAM) re-authenticated before ElastiCache's 12-hour cut;
 * `duplicate()` (BullMQ's blocking connection, subscribers) gives another client with all of it.
 * A command about to go out on a connection the path may have forgotten (idle past the path's
 * timeout across a freeze, or without keep-alive) goes on a new connection instead.
 */
class PrivateLinkRedis extends Redis {
  readonly #setup: RedisSetup
  readonly #redisOptions: Record<string, unknown>

  constructor(setup: RedisSetup, redisOptions: Record<string, unknown>) {
    const { connector, targets, resolved, port } = setup
    let everReady = false
    const Connector = endpointConnectorClass({
      connector,
      targets,
      connectTls: setup.connectTls,
      clock: resolved.clock,
      // The one connection drains when core retires its zone or region without cutting it off.
      ownerOf: (socket) => (this?.stream === socket ? this : undefined),
      portFor: () => port,
      authRefusalIsFatal: () => !everReady,
    })
    setup.open++
    // ioredis' options as given (the reply mapping included): its typings pin `replyMapping` to
    // the class's own type parameter.
    super({ ...redisOptions, host: resolved.servername, port, Connector } as RedisOptions & {
      replyMapping?: 'legacy'
    })
    this.#setup = setup
    this.#redisOptions = redisOptions
    this.once('ready', () => {
      everReady = true
    })
    this.#keepAuthenticated()
    this.once('end', () => {
      setup.open--
      if (setup.owned && setup.open === 0) connector.close()
    })
  }

  /** A new client on the same connector, TLS names, auth and re-AUTH schedule (ioredis' own options merged). */
  override duplicate(override?: Partial<RedisOptions>): Redis {
    if (this.#setup.owned && this.#setup.open === 0)
      throw invalidOption('duplicate()', 'a client that has not ended', '[ended client]')
    const redisOptions = { ...this.#redisOptions, ...override }
    for (const key of ['host', 'port', 'path', 'Connector', 'password', 'sentinels'])
      if (override?.[key as keyof RedisOptions] !== undefined)
        throw invalidOption(
          `duplicate(override).${key}`,
          'nothing: the duplicate keeps its parent endpoint and auth',
          key === 'password' ? '[password]' : override[key as keyof RedisOptions],
        )
    return new PrivateLinkRedis(
      this.#setup,
      withKeepAlive(redisOptions, pathIdleOf(this.#setup.connector)),
    )
  }

  override sendCommand(command: Command, stream?: WriteableStream): unknown {
    // Only commands ioredis would write now: the stream ended here makes it queue them offline,
    // reconnect (through the connector) and send them on the new connection.
    if (stream === undefined && this.status === 'ready') {
      const socket = this.stream as Socket | undefined
      const watch = socket === undefined ? undefined : watchOf(socket)
      // (A watch from an older @privatelink/core has no stale().)
      if (watch?.stale?.() === true) {
        watch.release()
        socket!.destroy()
      }
    }
    return super.sendCommand(command, stream)
  }

  #keepAuthenticated(): void {
    const { authenticator, clock, reauthAfterMs, reauthCheckIntervalMs } = this.#setup.resolved
    if (authenticator?.kind !== 'iam') return
    const { connector, targets } = this.#setup
    const providerFor = (stream: Socket | undefined) => {
      const index = stream === undefined ? 0 : (connector.targetOf(stream)?.index ?? 0)
      const own = targets[index]?.authenticator
      return own?.kind === 'iam' ? own.provider : authenticator.provider
    }
    keepAuthenticated(this, {
      user: authenticator.user,
      providerFor,
      clock,
      afterMs: reauthAfterMs,
      checkIntervalMs: reauthCheckIntervalMs,
      connector,
    })
  }
}
