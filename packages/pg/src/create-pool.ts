import { inspect } from 'node:util'
import { PrivateLinkError } from '@privatelink/core'
import pg from 'pg'
import { type ConnectionPlan, connectionPlan } from './connection-plan.js'
import { EndpointStream } from './endpoint-stream.js'
import { type PrivateLinkPgOptions, readPgOptions } from './options.js'
import { regionalPlans } from './regional-plans.js'
import { retireEjectedZones } from './zone-retirement.js'

/** createPool's options: ours plus pg.Pool's own (max, idleTimeoutMillis, ...). */
export type PrivateLinkPoolOptions = PrivateLinkPgOptions &
  Omit<pg.PoolConfig, 'host' | 'port' | 'user' | 'password' | 'ssl' | 'stream' | 'connectionString'>

/** Errors the pool raises for its own housekeeping: counted on the pool, never fatal. */
const BENIGN = new Set(['ERR_PG_ZONE_EJECTED', 'ERR_PG_IDLE_CLOSED'])

type ConnectCallback = (
  error: Error | undefined,
  client?: pg.PoolClient,
  done?: (release?: unknown) => void,
) => void

/**
 * A pg.Pool (every pg API works) whose connections go through the PrivateLink endpoint to RDS
 * Proxy: own zone first, IAM tokens, TLS verify-full against proxyHost.
 */
export function createPool(given: PrivateLinkPoolOptions): pg.Pool {
  const options = readPgOptions(given)
  const lambda = options.profile === 'lambda'
  // Lambda: one connection per sandbox; close it before RDS Proxy's idle client timeout
  // (30 min by default) would; let the process freeze or exit with the pool idle.
  const defaults = lambda ? { max: 1, idleTimeoutMillis: 30_000, allowExitOnIdle: true } : {}
  if (options.failover !== undefined) {
    const regional = regionalPlans(options, defaults)
    const { plans } = regional
    const streams = new WeakMap<object, { stream?: EndpointStream }>()
    const planFor = (client?: object) => {
      const target = client === undefined ? undefined : streams.get(client)?.stream?.target
      return target === undefined ? regional.active() : plans[target]!
    }
    // pg builds every client from one config, and fixes host and password before it connects.
    // The stream races every target; once its socket landed, TLS checks that target's proxy name
    // and the password is a token signed for that proxy and region.
    class TargetedClient extends pg.Client {
      constructor(config: pg.ClientConfig) {
        const holder: { stream?: EndpointStream } = {}
        const context = {
          ...plans[0]!.streamContext,
          connector: () => regional.connector,
          tlsFor: (target: number) => plans[target]!.streamContext.tls,
        }
        super({
          ...config,
          stream: () => {
            holder.stream = new EndpointStream(context)
            return holder.stream
          },
          password: () => plans[holder.stream?.target ?? 0]!.password(),
        } as pg.ClientConfig)
        streams.set(this, holder)
      }
    }
    plans[0]!.pgConfig['Client'] = TargetedClient
    const pool = new PrivateLinkPool(plans[0]!, { planFor, close: () => regional.close() })
    regional.onTargetChange((keep) => pool.preferZones(keep))
    return pool
  }
  const plan = connectionPlan(options, defaults)
  return new PrivateLinkPool(plan)
}

interface Targets {
  /** The plan for a client (or, with none, for the active target). */
  planFor(client?: object): ConnectionPlan
  close(): void
}

class PrivateLinkPool extends pg.Pool {
  readonly #plan: ConnectionPlan
  readonly #targets: Targets
  readonly #zones: ReturnType<typeof retireEjectedZones>

  constructor(plan: ConnectionPlan, targets?: Targets) {
    super(plan.pgConfig as pg.PoolConfig)
    this.#plan = plan
    this.#targets = targets ?? { planFor: () => plan, close: () => {} }
    this.#zones = retireEjectedZones(this, plan.options.proxyHost)
    this.on('connect', (client) => this.#targets.planFor(client).scrub(client))
    this.on('error', (error: Error) => {
      if (PrivateLinkError.isInstance(error) && BENIGN.has(error.code)) return
      // Only ours is listening: behave as pg.Pool without a listener would.
      if (this.listenerCount('error') === 1) throw error
    })
  }

  override connect(): Promise<pg.PoolClient>
  override connect(callback: ConnectCallback): void
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | undefined {
    if (!this.#watching) this.#watch()
    // The hot path (pool.query checks out a client per query) adds nothing on success.
    if (callback === undefined)
      return super.connect().catch((error: unknown) => this.#recover(error))
    super.connect((error, client, done) => {
      if (error === undefined) {
        callback(undefined, client, done)
        return
      }
      this.#recover(error).then(
        (retried) =>
          callback(undefined, retried, (release) => retried.release(release as boolean | Error)),
        (final: Error) => callback(final, undefined, () => {}),
      )
    })
    return undefined
  }

  #watching = false
  #watch(): void {
    const connector = this.#plan.source.connector()
    if (connector instanceof Promise) {
      connector.then(
        (c) => this.#zones.watch(c),
        () => {},
      )
      return
    }
    this.#zones.watch(connector)
    this.#watching = true
  }

  /** Retires connections in zones traffic has left (another target took over). */
  preferZones(keep: (zone: string) => boolean): void {
    this.#zones.prefer(keep)
  }

  /** One forced refresh (a new token, or the secret read again) and one more try; typed errors. */
  async #recover(error: unknown): Promise<pg.PoolClient> {
    const plan = this.#targets.planFor()
    if (await plan.onAuthFailure(error).catch(() => false)) {
      try {
        return await super.connect()
      } catch (again) {
        throw this.#targets.planFor().mapError(again)
      }
    }
    throw plan.mapError(error)
  }

  override end(): Promise<void>
  override end(callback: () => void): void
  override end(callback?: () => void): Promise<void> | undefined {
    this.#zones.stop()
    const ended = super.end().finally(() => {
      this.#plan.source.close()
      this.#targets.close()
    })
    if (callback === undefined) return ended
    ended.then(
      () => callback(),
      () => callback(),
    )
  }

  [inspect.custom](): string {
    const { proxyHost, port, user, auth } = this.#plan.options
    return `PrivateLinkPool { ${user}@${proxyHost}:${port}, auth: ${auth.kind}, total: ${this.totalCount}, idle: ${this.idleCount}, waiting: ${this.waitingCount} }`
  }
}
