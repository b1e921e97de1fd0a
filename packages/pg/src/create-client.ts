import { inspect } from 'node:util'
import pg from 'pg'
import { type ConnectionPlan, connectionPlan } from './connection-plan.js'
import type { PrivateLinkPgOptions } from './options.js'

/** createClient's options: ours plus pg.Client's own (statement_timeout, application_name, ...). */
export type PrivateLinkClientOptions = PrivateLinkPgOptions &
  Omit<
    pg.ClientConfig,
    'host' | 'port' | 'user' | 'password' | 'ssl' | 'stream' | 'connectionString'
  >

/**
 * A pg.Client through the PrivateLink endpoint to RDS Proxy. A pg.Client connects once: after an
 * authentication failure it refreshes the token (or re-reads the secret) so that a new client
 * succeeds, and rejects with the typed error; createPool retries by itself.
 */
export function createClient(options: PrivateLinkClientOptions): pg.Client {
  return new PrivateLinkClient(connectionPlan(options, {}))
}

type Callback = ((error: Error) => void) | ((error: null, client: pg.Client) => void)

class PrivateLinkClient extends pg.Client {
  readonly #plan: ConnectionPlan

  constructor(plan: ConnectionPlan) {
    super(plan.pgConfig as pg.ClientConfig)
    this.#plan = plan
  }

  override connect(): Promise<pg.Client>
  override connect(callback: Callback): void
  override connect(callback?: Callback): Promise<pg.Client> | undefined {
    const result = super.connect().then(
      (client) => {
        this.#plan.scrub(this)
        return client
      },
      async (error: unknown): Promise<never> => {
        this.#plan.scrub(this)
        await this.#plan.onAuthFailure(error).catch(() => false)
        throw this.#plan.mapError(error)
      },
    )
    if (callback === undefined) return result
    result.then(
      (client) => (callback as (error: null, client: pg.Client) => void)(null, client),
      (error: Error) => (callback as (error: Error) => void)(error),
    )
  }

  override end(): Promise<void>
  override end(callback: (error: Error) => void): void
  override end(callback?: (error: Error) => void): Promise<void> | undefined {
    const ended = super.end().finally(() => this.#plan.source.close())
    if (callback === undefined) return ended
    ended.then(() => callback(undefined as unknown as Error), callback)
  }

  [inspect.custom](): string {
    const { proxyHost, port, user, auth } = this.#plan.options
    return `PrivateLinkClient { ${user}@${proxyHost}:${port}, auth: ${auth.kind} }`
  }
}
