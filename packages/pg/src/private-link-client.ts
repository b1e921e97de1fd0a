import { inspect } from 'node:util'
import type { Retirement } from '@privatelink/core'
import pg from 'pg'
import type { ConnectionPlan } from './connection-plan.js'
import { EndpointStream, type EndpointStreamContext } from './endpoint-stream.js'
import type { PinningMonitor } from './pinning.js'

/**
 * Where a client finds its context in the config it is built from: pg-pool builds every client
 * with `new Client(poolOptions)`, so the pool's options carry it (pinned in pg-pool-internals).
 */
export const CLIENT_CONTEXT = Symbol('privatelink.pg.client')

/** What every client of one pool (or one createClient) shares. */
export interface ClientContext {
  /** How the stream dials and verifies. */
  stream: EndpointStreamContext
  /**
   * The plan of the target a connection reached (its proxy's password and errors); undefined
   * before connecting: the active target's.
   */
  planOf(target: number | undefined): ConnectionPlan
  /** How a pooled client leaves a zone core retires. @default none: only reported */
  retire?: (client: PrivateLinkClient, retirement: Retirement) => void
  /**
   * A client the user holds (createClient): it maps connect errors to typed ones (a pool does
   * that for its clients, with one retry), and `close()` runs after `end()`.
   */
  standalone?: { close(): void }
  /** Statements that would pin the RDS Proxy session: warned, counted or refused. @default none */
  pinning?: PinningMonitor | undefined
}

type ConnectCallback = ((error: Error) => void) | ((error: null, client: pg.Client) => void)

/**
 * The one client class: createClient's, and always the pool's `Client`. It owns its
 * EndpointStream (pg's `stream`), so the zone and health of its connection are read from the
 * stream, never from pg's private `connection.stream`.
 */
export class PrivateLinkClient extends pg.Client {
  /** The connection under pg: zone, target, in-flight state. */
  readonly stream: EndpointStream
  /** Checked out of its pool (set from pg-pool's public 'acquire' / 'release'). */
  checkedOut = false
  /** Named statements pg has parsed on this connection (only the first Parse pins). */
  readonly namedStatements = new Set<string>()
  /**
   * Core retired this connection's zone while it was checked out: at its release it leaves the
   * pool instead of going back to it (or straight to a waiting checkout).
   */
  leaving: 'drain' | 'out' | undefined
  /** Why core retired it (for the typed error a held client gets). */
  leavingReason: string | undefined
  /** pg-pool's release for the current checkout (see `release`). */
  #poolRelease: ((error?: unknown) => void) | undefined
  readonly #context: ClientContext
  readonly #password: () => Promise<string> | string

  constructor(config: pg.ClientConfig) {
    const context = (config as Record<symbol, ClientContext | undefined>)[CLIENT_CONTEXT]
    if (context === undefined) throw new TypeError('PrivateLinkClient needs its ClientContext')
    const { retire } = context
    const stream = new EndpointStream(
      context.stream,
      retire === undefined ? undefined : (retirement) => retire(this!, retirement),
    )
    // The password of the proxy the socket reached (failover targets sign for their own).
    const password = () => context.planOf(stream.target).password()
    super({ ...config, stream: () => stream, password } as pg.ClientConfig)
    this.stream = stream
    this.#context = context
    this.#password = password
    // A client of no pool is its user's all its life: held, as a checked-out pooled client is.
    this.checkedOut = context.standalone !== undefined
  }

  override connect(): Promise<pg.Client>
  override connect(callback: ConnectCallback): void
  override connect(callback?: ConnectCallback): Promise<pg.Client> | undefined {
    const { standalone } = this.#context
    const result = super.connect().then(
      (client) => {
        this.#scrub()
        return client
      },
      async (error: unknown): Promise<never> => {
        this.#scrub()
        if (standalone === undefined) throw error
        const plan = this.#context.planOf(this.stream.target)
        await plan.onAuthFailure(error).catch(() => false)
        throw plan.mapError(error)
      },
    )
    if (callback === undefined) return result
    result.then(
      (client) => (callback as (error: null, client: pg.Client) => void)(null, client),
      (error: Error) => (callback as (error: Error) => void)(error),
    )
  }

  // pg-pool gives each checkout its own `client.release` (assigned as the client is handed out):
  // it is kept here and handed back wrapped, so that a client leaving its zone is released with
  // an error, pg-pool's documented way to destroy a client instead of reusing it. Without this, a
  // saturated pool hands a released client straight to the next waiting checkout, and it never
  // leaves a zone that is out.
  get release(): ((error?: unknown) => void) | undefined {
    return this.#poolRelease === undefined ? undefined : this.#release
  }

  set release(release: ((error?: unknown) => void) | undefined) {
    this.#poolRelease = release
  }

  readonly #release = (error?: unknown): void => {
    const release = this.#poolRelease!
    const leaving = this.leaving
    if (leaving === undefined || (error !== undefined && error !== null && error !== false)) {
      release(error)
      return
    }
    this.stream.release()
    release(true)
    // pg-pool ends it gracefully (Terminate); in a zone that is out, nothing would answer.
    if (leaving === 'out') this.stream.destroy()
  }

  // pg's query() overloads all take (config, values?, callback?): the query is checked for
  // pinning, then passed on as it came.
  // biome-ignore lint/suspicious/noExplicitAny: pg's overloads, passed through as they are
  override query(config: any, values?: any, callback?: any): any {
    const pinning = this.#context.pinning
    if (pinning !== undefined) {
      const refused = pinning.check(config, this)
      if (refused !== undefined) return refuseQuery(refused, config, values, callback)
    }
    return (super.query as (...given: unknown[]) => unknown).call(this, config, values, callback)
  }

  /** pg keeps the password it sent on the client (non-enumerable): put the function back. */
  #scrub(): void {
    const fields = this as unknown as {
      password?: unknown
      connectionParameters?: { password?: unknown }
    }
    fields.password = this.#password
    if (fields.connectionParameters !== undefined)
      fields.connectionParameters.password = this.#password
  }

  override end(): Promise<void>
  override end(callback: (error: Error) => void): void
  override end(callback?: (error: Error) => void): Promise<void> | undefined {
    const { standalone } = this.#context
    if (standalone === undefined) {
      if (callback === undefined) return super.end()
      super.end(callback)
      return undefined
    }
    const ended = super.end().finally(() => standalone.close())
    if (callback === undefined) return ended
    ended.then(() => callback(undefined as unknown as Error), callback)
  }

  [inspect.custom](): string {
    const { proxyHost, port, user, auth } = this.#context.planOf(this.stream.target).options
    const zone = this.stream.zone === undefined ? '' : `, zone: ${this.stream.zone}`
    return `PrivateLinkClient { ${user}@${proxyHost}:${port}, auth: ${auth.kind}${zone} }`
  }
}

/** A query refused before it was sent, delivered the way pg would deliver its error. */
function refuseQuery(error: Error, config: unknown, values: unknown, callback: unknown): unknown {
  const query = config as { callback?: unknown; submit?: unknown; handleError?: unknown }
  const done = [callback, values, query.callback].find((f) => typeof f === 'function')
  if (typeof query.submit === 'function') {
    // A Submittable (pg-cursor, pg-query-stream): it hears the error as pg would tell it.
    if (typeof query.handleError === 'function')
      process.nextTick(() => (query.handleError as (error: Error) => void)(error))
    return query
  }
  if (done !== undefined) {
    process.nextTick(done as (error: Error) => void, error)
    return undefined
  }
  return Promise.reject(error)
}
