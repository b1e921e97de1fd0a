import type pg from 'pg'
import { connectionPlan } from './connection-plan.js'
import type { PrivateLinkPgOptions } from './options.js'
import { CLIENT_CONTEXT, type ClientContext, PrivateLinkClient } from './private-link-client.js'

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
  const plan = connectionPlan(options, {})
  const context: ClientContext = {
    stream: plan.streamContext,
    planOf: () => plan,
    standalone: { close: () => plan.source.close() },
  }
  return new PrivateLinkClient({ ...plan.pgConfig, [CLIENT_CONTEXT]: context } as pg.ClientConfig)
}
