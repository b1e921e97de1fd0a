import { inspect } from 'node:util'
import { PrivateLinkError } from '@privatelink/core'
import pg from 'pg'
import { type ConnectionPlan, connectionPlan } from './connection-plan.js'
import type { EndpointStreamContext } from './endpoint-stream.js'
import { type PrivateLinkPgOptions, readPgOptions } from './options.js'
import type { PinCause } from './pin-causes.js'
import { type PinningMode, type PinningMonitor, pinningOf, userLabel } from './pinning.js'
import { PoolRetirement } from './pool-retirement.js'
import { CLIENT_CONTEXT, type ClientContext, PrivateLinkClient } from './private-link-client.js'
import { regionalPlans } from './regional-plans.js'

/** createPool's options: ours plus pg.Pool's own (max, idleTimeoutMillis, ...). */
export type PrivateLinkPoolOptions = PrivateLinkPgOptions &
  Omit<
    pg.PoolConfig,
    'host' | 'port' | 'user' | 'password' | 'ssl' | 'stream' | 'connectionString'
  > & {
    /**
     * A statement that would pin the RDS Proxy session (SET, a named statement, a temporary
     * table, a session advisory lock, LISTEN, a statement over 16 KB, ...): `'warn'` once per
     * cause per pool (process warning `PRIVATELINK_PG_PINNING`), `'error'` refuses it with
     * ERR_PG_PINNING before it is sent, `'ignore'` checks nothing. Each is also published on
     * `privatelink:pg:pinning` and counted in `stats().pinning`.
     * @default 'warn'
     */
    pinning?: PinningMode
  }

/** What createPool returns: a pg.Pool, plus its counts. */
export interface PrivateLinkPool extends pg.Pool {
  /** Counts since the pool was created. */
  stats(): PrivateLinkPoolStats
}

/** A pool's counts. */
export interface PrivateLinkPoolStats {
  /** Statements that would pin the RDS Proxy session, by cause (sent in 'warn', refused in 'error'). */
  pinning: Partial<Record<PinCause, number>>
  /**
   * Idle connections the path may have forgotten (idle past `pathIdleTimeoutMs` without
   * keep-alive, or across a freeze such as a thawed Lambda sandbox), closed unused: replaced at
   * checkout, or closed when the freeze was seen (ERR_PG_IDLE_CLOSED on the pool's 'error').
   */
  pathIdleReplaced: number
}

/** Errors the pool raises for its own housekeeping: counted on the pool, never fatal. */
const BENIGN = new Set(['ERR_PG_ZONE_EJECTED', 'ERR_PG_IDLE_CLOSED'])

type ConnectCallback = (
  error: Error | undefined,
  client?: pg.PoolClient,
  done?: (release?: unknown) => void,
) => void

/** What a pool is built from: one plan per target (one without failover). */
export interface PoolSetup {
  /** The first target's plan: pg's config, the endpoint source, the options. */
  primary: ConnectionPlan
  stream: EndpointStreamContext
  /** The plan of a target (undefined: the one new connections go to now). */
  planOf(target: number | undefined): ConnectionPlan
  pinning: PinningMonitor | undefined
  close(): void
}

/**
 * A pg.Pool (every pg API works) whose connections go through the PrivateLink endpoint to RDS
 * Proxy: own zone first, IAM tokens, TLS verify-full against proxyHost.
 */
export function createPool(given: PrivateLinkPoolOptions): PrivateLinkPool {
  const options = readPgOptions(given)
  const pinning = pinningOf(options.pinning, userLabel(options.user))
  const lambda = options.profile === 'lambda'
  // Lambda: one connection per sandbox; close it before RDS Proxy's idle client timeout
  // (30 min by default) would; let the process freeze or exit with the pool idle.
  const defaults = lambda ? { max: 1, idleTimeoutMillis: 30_000, allowExitOnIdle: true } : {}
  if (options.failover !== undefined) {
    const regional = regionalPlans(options, defaults)
    const { plans } = regional
    // The stream races every target; once its socket landed, TLS checks that target's proxy name
    // and the password is a token signed for that proxy and region.
    return new EndpointPool({
      primary: plans[0]!,
      pinning,
      stream: {
        ...plans[0]!.streamContext,
        connector: () => regional.connector,
        tlsFor: (target) => plans[target]!.streamContext.tls,
      },
      planOf: (target) => (target === undefined ? regional.active() : plans[target]!),
      close: () => regional.close(),
    })
  }
  const plan = connectionPlan(options, defaults)
  return new EndpointPool({
    primary: plan,
    pinning,
    stream: plan.streamContext,
    planOf: () => plan,
    close: () => {},
  })
}

/** Every client of the pool is a PrivateLinkClient (its `Client`). */
const isStale = (client: pg.PoolClient): boolean =>
  (client as unknown as PrivateLinkClient).stream.stale()

/** createPool's pool (createPgModule's `Pool` too): a pg.Pool of PrivateLinkClients. */
export class EndpointPool extends pg.Pool implements PrivateLinkPool {
  readonly #setup: PoolSetup
  readonly #retirement: PoolRetirement
  #pathIdleReplaced = 0

  constructor(setup: PoolSetup) {
    let retirement: PoolRetirement | undefined
    const context: ClientContext = {
      stream: setup.stream,
      planOf: setup.planOf,
      retire: (client, event) => retirement?.retire(client, event),
      pinning: setup.pinning,
    }
    super({
      ...setup.primary.pgConfig,
      Client: PrivateLinkClient,
      [CLIENT_CONTEXT]: context,
    } as unknown as pg.PoolConfig)
    this.#setup = setup
    this.#retirement = retirement = new PoolRetirement(this)
    this.on('error', (error: Error) => {
      if (PrivateLinkError.isInstance(error) && BENIGN.has(error.code)) return
      // Only ours is listening: behave as pg.Pool without a listener would.
      if (this.listenerCount('error') === 1) throw error
    })
  }

  override connect(): Promise<pg.PoolClient>
  override connect(callback: ConnectCallback): void
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | undefined {
    // The hot path (pool.query checks out a client per query) adds one check on success: whether
    // the idle client's connection may be forgotten by the path (core's stale(), by the clock).
    if (callback === undefined)
      return super.connect().then(
        (client) => (isStale(client) ? this.#replaceStale(client) : client),
        (error: unknown) => this.#recover(error),
      )
    super.connect((error, client, done) => {
      if (error === undefined && !isStale(client!)) {
        callback(undefined, client, done)
        return
      }
      const next = error === undefined ? this.#replaceStale(client!) : this.#recover(error)
      next.then(
        (retried) =>
          callback(undefined, retried, (release) => retried.release(release as boolean | Error)),
        (final: Error) => callback(final, undefined, () => {}),
      )
    })
    return undefined
  }

  /**
   * An idle client whose connection the path may have forgotten (a Lambda sandbox thawed after
   * the path's timeout) leaves the pool unused and the checkout takes another, so the caller's
   * first query after a long freeze does not meet a reset.
   */
  async #replaceStale(stale: pg.PoolClient): Promise<pg.PoolClient> {
    let client = stale
    while (isStale(client)) {
      this.#pathIdleReplaced++
      const { stream } = client as unknown as PrivateLinkClient
      stream.release()
      client.release(true)
      // The path forgot it: a goodbye would only meet a reset, or nothing.
      stream.destroy()
      client = await super.connect().catch((error: unknown) => this.#recover(error))
    }
    return client
  }

  /** One forced refresh (a new token, or the secret read again) and one more try; typed errors. */
  async #recover(error: unknown): Promise<pg.PoolClient> {
    const plan = this.#setup.planOf(undefined)
    if (await plan.onAuthFailure(error).catch(() => false)) {
      try {
        return await super.connect()
      } catch (again) {
        throw this.#setup.planOf(undefined).mapError(again)
      }
    }
    throw plan.mapError(error)
  }

  stats(): PrivateLinkPoolStats {
    return {
      pinning: { ...this.#setup.pinning?.counts },
      pathIdleReplaced: this.#pathIdleReplaced + this.#retirement.pathIdleClosed,
    }
  }

  override end(): Promise<void>
  override end(callback: () => void): void
  override end(callback?: () => void): Promise<void> | undefined {
    this.#retirement.stop()
    const ended = super.end().finally(() => {
      this.#setup.primary.source.close()
      this.#setup.close()
    })
    if (callback === undefined) return ended
    ended.then(
      () => callback(),
      () => callback(),
    )
  }

  [inspect.custom](): string {
    const { proxyHost, port, user, auth } = this.#setup.primary.options
    return `PrivateLinkPool { ${user}@${proxyHost}:${port}, auth: ${auth.kind}, total: ${this.totalCount}, idle: ${this.idleCount}, waiting: ${this.waitingCount} }`
  }
}
