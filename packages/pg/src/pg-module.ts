import { invalidOption } from '@privatelink/core'
import pg from 'pg'
import { type ConnectionPlan, connectionPlan } from './connection-plan.js'
import { EndpointPool } from './create-pool.js'
import { EndpointStream } from './endpoint-stream.js'
import { type PrivateLinkPgOptions, readPgOptions } from './options.js'
import { type PinningMode, pinningOf, userLabel } from './pinning.js'
import { PoolRetirement } from './pool-retirement.js'
import { CLIENT_CONTEXT, type ClientContext, PrivateLinkClient } from './private-link-client.js'
import type { IamTokenProvider } from './token-provider.js'
import { RETIRED_WHY, zoneRetiredError } from './zone-retired-error.js'

/** createPgModule's options: createClient's, for every client the ORM builds. */
export type PrivateLinkPgModuleOptions = Omit<PrivateLinkPgOptions, 'failover'> & {
  /** As createPool's `pinning`, warned once per cause per module. @default 'warn' */
  pinning?: PinningMode
}

/**
 * What createPgModule returns: the members of `require('pg')` that Sequelize (`dialectModule`),
 * TypeORM (`driver`) and Knex use, with `Client` and `Pool` going through one connector and one
 * token provider, plus a connection config for code that builds its own pg clients.
 */
export interface PrivateLinkPgModule {
  /**
   * `new Client(config)`: a pg.Client through the endpoint to RDS Proxy (createClient's). What
   * decides where and how it connects is the module's (`host`, `port`, `password`, `ssl`,
   * `stream` in `config` are ignored; a `connectionString` or another `user` is refused); the
   * rest of `config` (database, types, statement_timeout, ...) is pg's.
   */
  readonly Client: typeof pg.Client
  /**
   * `new Pool(config)`: createPool's pool (a PrivateLinkPool) over the module's connector and
   * tokens; `config` as `Client`'s.
   */
  readonly Pool: typeof pg.Pool
  /** pg's own type parsers (shared with `require('pg')`). */
  readonly types: typeof pg.types
  /** pg's own defaults. */
  readonly defaults: typeof pg.defaults
  /** No native bindings: ORMs that look for them take the JavaScript client. */
  readonly native: null
  /** pg's error class for server errors. */
  readonly DatabaseError: typeof pg.DatabaseError
  /** pg's Query class (a Submittable). */
  readonly Query: typeof pg.Query
  /** pg's identifier quoting. */
  readonly escapeIdentifier: typeof pg.escapeIdentifier
  /** pg's literal quoting. */
  readonly escapeLiteral: typeof pg.escapeLiteral
  /**
   * pg.Client options for a client you build with your own `pg` (Knex before 3.3's `connection`):
   * host = proxyHost, the shared token as `password`, and a `stream` through the connector
   * (SSLRequest + TLS verified against proxyHost). Such a client is closed with
   * ERR_PG_ZONE_RETIRED when its zone goes out while nothing is in flight; it has no pinning
   * checks and no retry after an authentication failure (the next connection gets a new token).
   */
  connectionConfig(overrides?: pg.ClientConfig): PgConnectionConfig
  /** The token provider every client shares (undefined with password or secret auth). */
  readonly tokenProvider: IamTokenProvider | undefined
  /** Closes the connector the module made (not a `connector` you passed). Clients close on their own. */
  end(): Promise<void>
}

/**
 * pg.Client options as `connectionConfig()` gives them (without `types`, whose parser signature
 * other libraries' typings, Knex's among them, declare differently).
 */
export type PgConnectionConfig = Omit<pg.ClientConfig, 'types'>

/** What the module decides itself: given by an ORM, ignored. */
const OWNED = new Set(['host', 'port', 'password', 'ssl', 'stream', 'Client', 'user'])

/**
 * A pg module for ORMs and query builders that build their own pg clients from a module
 * (Sequelize's `dialectModule`, TypeORM's `driver`, Knex): every Client and Pool they make shares
 * one connector (one zone health, own zone first) and one IAM token provider, so N pooled
 * connections cost N proxy handshakes and one token, not N connectors and N tokens.
 */
export function createPgModule(given: PrivateLinkPgModuleOptions): PrivateLinkPgModule {
  const options = readPgOptions(given) as PrivateLinkPgModuleOptions & { failover?: unknown }
  if (options.failover !== undefined)
    throw invalidOption(
      'failover',
      'nothing in createPgModule (use createPool with failover, and pass the pool to the ORM)',
      '[targets]',
    )
  const plan = connectionPlan(options as PrivateLinkPgOptions, {})
  const pinning = pinningOf(options.pinning, userLabel(options.user))
  const pgConfigFor = (config: unknown) => ({
    ...plan.pgConfig,
    ...ormConfig(config, plan.options.user),
  })
  // Held clients (the ORM's pool holds them): closed with a typed error when their zone is out.
  const retirement = new PoolRetirement()
  const context: ClientContext = {
    stream: plan.streamContext,
    planOf: () => plan,
    retire: (client, event) => retirement.retire(client, event),
    standalone: { close: () => {} },
    pinning,
  }
  // The module owns the connector: a pool's end() leaves it open for the other clients.
  const shared: ConnectionPlan = { ...plan, source: { ...plan.source, close: () => {} } }

  class Client extends PrivateLinkClient {
    constructor(config?: pg.ClientConfig) {
      super({ ...pgConfigFor(config), [CLIENT_CONTEXT]: context } as pg.ClientConfig)
    }
  }
  class Pool extends EndpointPool {
    constructor(config?: pg.PoolConfig) {
      super({
        primary: { ...shared, pgConfig: pgConfigFor(config) },
        stream: plan.streamContext,
        planOf: () => plan,
        pinning,
        close: () => {},
      })
    }
  }
  return {
    Client,
    Pool,
    types: pg.types,
    defaults: pg.defaults,
    native: null,
    DatabaseError: pg.DatabaseError,
    Query: pg.Query,
    escapeIdentifier: pg.escapeIdentifier,
    escapeLiteral: pg.escapeLiteral,
    tokenProvider: plan.tokenProvider,
    connectionConfig: (overrides) =>
      ({ ...pgConfigFor(overrides), stream: () => heldStream(plan) }) as PgConnectionConfig,
    end: async () => {
      retirement.stop()
      plan.source.close()
    },
  }
}

/** An ORM's config, less what the module decides; a different user or a URL is refused. */
function ormConfig(config: unknown, user: string): Record<string, unknown> {
  if (config === undefined || config === null) return {}
  if (typeof config !== 'object') throw invalidOption('config', 'pg client options', config)
  const given = config as Record<string, unknown>
  if (given['connectionString'] !== undefined)
    throw invalidOption(
      'connectionString',
      'nothing: the module decides where and how pg connects (pass the database as database)',
      '[connection string]',
    )
  const named = given['user'] ?? given['username']
  if (named !== undefined && named !== null && named !== user)
    throw invalidOption('user', `the module's user (${user}), or nothing`, named)
  const rest: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(given))
    if (!OWNED.has(key) && key !== 'username' && value !== undefined) rest[key] = value
  return rest
}

/** A stream for a plain pg.Client: its zone out while nothing is in flight, it fails typed. */
function heldStream(plan: ConnectionPlan): EndpointStream {
  const stream: EndpointStream = new EndpointStream(plan.streamContext, ({ out, reason, zone }) => {
    if (!out || stream.outstanding) return
    stream.abandon(zoneRetiredError(stream.servername, zone, RETIRED_WHY[reason]))
  })
  return stream
}
