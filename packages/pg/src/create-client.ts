import type pg from 'pg'
import { connectionPlan } from './connection-plan.js'
import { type PrivateLinkPgOptions, readPgOptions } from './options.js'
import { type PinningMode, pinningOf, userLabel } from './pinning.js'
import { PoolRetirement } from './pool-retirement.js'
import { CLIENT_CONTEXT, type ClientContext, PrivateLinkClient } from './private-link-client.js'

/** createClient's options: ours plus pg.Client's own (statement_timeout, application_name, ...). */
export type PrivateLinkClientOptions = PrivateLinkPgOptions &
  Omit<
    pg.ClientConfig,
    'host' | 'port' | 'user' | 'password' | 'ssl' | 'stream' | 'connectionString'
  > & {
    /** As createPool's `pinning` (warnings once per cause per client). @default 'warn' */
    pinning?: PinningMode
  }

/**
 * A pg.Client through the PrivateLink endpoint to RDS Proxy. A pg.Client connects once: after an
 * authentication failure it refreshes the token (or re-reads the secret) so that a new client
 * succeeds, and rejects with the typed error; createPool retries by itself.
 */
export function createClient(given: PrivateLinkClientOptions): pg.Client {
  const options = readPgOptions(given)
  const pinning = pinningOf(options.pinning, userLabel(options.user))
  const plan = connectionPlan(options, {})
  // The client is the user's all its life (held, as a checked-out pooled client is): when its
  // zone is out it is closed with ERR_PG_ZONE_RETIRED, never left silently deaf (a LISTEN).
  const retirement = new PoolRetirement()
  const context: ClientContext = {
    stream: plan.streamContext,
    planOf: () => plan,
    retire: (client, event) => retirement.retire(client, event),
    standalone: {
      close: () => {
        retirement.stop()
        plan.source.close()
      },
    },
    pinning,
  }
  return new PrivateLinkClient({ ...plan.pgConfig, [CLIENT_CONTEXT]: context } as pg.ClientConfig)
}
