import { PrivateLinkError } from '@privatelink/core'

export interface AuthFailureContext {
  user: string
  kind: 'iam' | 'password'
  servername: string
  cacheName?: string
  /** The first word of the server's reply (WRONGPASS, ERR...): never the rest of the exchange. */
  serverMessage: string
  /** What the token itself says (read from a presigned-URL password); the token never leaves here. */
  token?: { user?: string; expiresAt?: number }
  now: number
}

/** What an ElastiCache-style token says about itself; undefined when the password is not one. */
export function inspectToken(password: string): { user?: string; expiresAt?: number } | undefined {
  const start = password.indexOf('?')
  if (start < 0 || !password.includes('X-Amz-Signature=')) return undefined
  const query = new URLSearchParams(password.slice(start + 1))
  const date = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(query.get('X-Amz-Date') ?? '')
  const expires = Number(query.get('X-Amz-Expires'))
  const user = query.get('User') ?? undefined
  if (date === null || !Number.isFinite(expires)) return user === undefined ? {} : { user }
  const [, y, mo, d, h, mi, s] = date.map(Number) as number[]
  const expiresAt = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) + Math.min(expires, 900) * 1000
  return user === undefined ? { expiresAt } : { user, expiresAt }
}

/** A refused AUTH, typed by what we can tell from our side (ElastiCache only ever says WRONGPASS). */
export function authFailedError(context: AuthFailureContext): PrivateLinkError {
  const { user, token, now } = context
  const details = {
    user,
    servername: context.servername,
    ...(context.cacheName === undefined ? {} : { cacheName: context.cacheName }),
    serverMessage: context.serverMessage,
  }
  if (token?.user !== undefined && token.user !== user) {
    return new PrivateLinkError(
      'ERR_REDIS_TOKEN_USER_MISMATCH',
      `${context.servername} refused AUTH for '${user}': the IAM token is for User '${token.user}'`,
      {
        hint: "ElastiCache checks the token's User against the AUTH user name, and an IAM-enabled user's name must equal its user ID: sign the token for the same userId you log in with (createRedis does when auth is { iam }).",
        details: { ...details, tokenUser: token.user },
      },
    )
  }
  if (token?.expiresAt !== undefined && token.expiresAt <= now) {
    return new PrivateLinkError(
      'ERR_REDIS_TOKEN_EXPIRED',
      `${context.servername} refused an expired IAM token for '${user}' (expired ${Math.round((now - token.expiresAt) / 1000)} s ago)`,
      {
        hint: 'ElastiCache and MemoryDB tokens live 15 minutes from X-Amz-Date: pass auth: { iam: {...} } so every connection gets a fresh one, rather than a token as a password. Check the clock (NTP) too.',
        details: { ...details, expiredMs: now - token.expiresAt },
      },
    )
  }
  if (context.kind === 'iam') {
    return new PrivateLinkError(
      'ERR_REDIS_IAM_AUTH_FAILED',
      `${context.servername} refused IAM authentication for '${user}'${context.cacheName ? ` on ${context.cacheName}` : ''} (${context.serverMessage}), also with a freshly signed token`,
      {
        hint: "ElastiCache answers WRONGPASS for every IAM failure. Check: the role allows elasticache:Connect (memorydb:Connect) on both the cache and the user ARNs; the user exists, is in the cache's user group and has authentication mode IAM; userId equals the user name; cacheName is the replication group ID or serverless cache name (not a DNS name), serverless matches the cache, region is the cache's; this machine's clock is right.",
        details,
      },
    )
  }
  return new PrivateLinkError(
    'ERR_REDIS_AUTH_FAILED',
    `${context.servername} refused AUTH for '${user}' (${context.serverMessage})`,
    {
      hint: 'Check the user name and password (the AUTH token of a password-protected cache). For IAM authentication pass auth: { iam: { userId, cacheName, region } } instead of a password.',
      details,
    },
  )
}

/** Core's TLS errors keep their code; the hint names what servername means for a cache. */
export function redisTlsError(error: PrivateLinkError, servername: string): PrivateLinkError {
  const hint =
    error.code === 'ERR_TLS_NAME_MISMATCH'
      ? `The certificate is checked against servername ('${servername}'), not the vpce name you dial. Use the cache's own endpoint name: the primary endpoint (master.<name>.<id>.<region>.cache.amazonaws.com), the configuration endpoint (clustercfg....) or the serverless endpoint; ElastiCache's certificates are wildcards over the cache's domain.`
      : 'ElastiCache and MemoryDB certificates chain to Amazon roots that Node trusts already: leave tls.ca unset unless a proxy in between presents its own certificate. Check the clock for CERT_NOT_YET_VALID / CERT_HAS_EXPIRED.'
  return new PrivateLinkError(error.code, error.message, {
    hint,
    details: error.details,
    cause: error,
  })
}

export function unmappedNodeError(address: string, known: string[]): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_REDIS_UNMAPPED_NODE',
    `The cluster named node ${address}, which maps to no listener of the endpoint`,
    {
      hint: "Behind an NLB every node needs its own listener port: list every listener in 'nodes' (discovery asks each one which node it leads to), or pass natMap { 'announced-host:port': { port: listenerPort } }. The announced address is never dialled: it is not reachable from the consumer VPC.",
      details: { address, known },
    },
  )
}

export function authTimeoutError(servername: string, timeoutMs: number): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_REDIS_AUTH_TIMEOUT',
    `${servername} did not answer AUTH within ${timeoutMs} ms`,
    {
      hint: 'The connection opened but the cache did not answer: check that the endpoint port leads to a Redis / Valkey listener and that TLS is on when the cache requires it.',
      details: { servername, timeoutMs },
    },
  )
}

/** createRedisCluster refuses failover targets: an open Cluster cannot move to another cluster. */
export function clusterFailoverError(): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_INVALID_OPTION',
    "Invalid option 'failover': createRedisCluster does not take failover targets",
    {
      hint: "A Cluster holds one cluster's slot map, its nodes' announced addresses and one listener port per node; another region is another cluster (a Global Datastore secondary: other nodes, other listeners, read-only until promoted) that ioredis cannot swap in under an open Cluster, and MOVED replies would name nodes of both. Create one createRedisCluster per region and switch between them in the application (e.g. on privatelink:connector:region-failover), or use createRedis with failover for a cluster-mode-disabled cache.",
      details: { option: 'failover', expected: 'nothing (cluster mode)', received: 'an array' },
    },
  )
}

/** An ioredis whose Cluster has no subscriber this package can route through the endpoint. */
export function unsupportedClusterError(sharded = false): PrivateLinkError {
  return sharded
    ? new PrivateLinkError(
        'ERR_REDIS_UNSUPPORTED_IOREDIS',
        "This ioredis' Cluster keeps its sharded subscriber connections where @privatelink/redis cannot find them to re-authenticate",
        {
          hint: 'ElastiCache drops an IAM-authenticated connection 12 hours after its last AUTH, so @privatelink/redis re-authenticates every connection and refuses shardedSubscribers on an ioredis where it cannot. Use ioredis 5.4 to 6.x (the versions in its peer dependency range), or leave shardedSubscribers off.',
          details: { ioredis: 'Cluster without a readable sharded subscriber group' },
        },
      )
    : new PrivateLinkError(
        'ERR_REDIS_UNSUPPORTED_IOREDIS',
        "This ioredis' Cluster has no pub/sub subscriber that @privatelink/redis can route through the endpoint",
        {
          hint: "ioredis' own cluster subscriber connects to the address each node announces, without the endpoint, TLS or AUTH; @privatelink/redis replaces it and refuses an ioredis where it cannot. Use ioredis 5.4 to 6.x (the versions in its peer dependency range).",
          details: { ioredis: 'Cluster without a replaceable subscriber' },
        },
      )
}

/** Cluster#duplicate with other startup nodes: they would not be the endpoint's listeners. */
export function clusterDuplicateError(): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_INVALID_OPTION',
    "Invalid option 'startupNodes' of duplicate(): a createRedisCluster client's nodes are its listeners",
    {
      hint: 'Call duplicate() without startup nodes (the copy uses the same endpoint and listeners), or call createRedisCluster with other nodes.',
      details: {
        option: 'startupNodes',
        expected: 'none (the same listeners)',
        received: 'an array',
      },
    },
  )
}

/**
 * `shardedSubscribers` with IAM auth on RESP2 (ioredis 5, or ioredis 6 with `protocol: 2`): a
 * connection in subscriber mode takes no AUTH there, so a sharded subscriber could never be
 * re-authenticated and ElastiCache would drop it at 12 hours.
 */
export function shardedPubSubResp2Error(protocol: unknown): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_REDIS_SHARDED_PUBSUB_RESP2',
    'shardedSubscribers with IAM auth needs RESP3 (ioredis 6, protocol 3): on RESP2 a sharded subscriber cannot be re-authenticated',
    {
      hint: 'On RESP2 a connection in subscriber mode accepts only (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING and QUIT (ioredis refuses AUTH on it, and so does Redis), so ElastiCache would drop every sharded subscriber 12 hours after its AUTH. Use ioredis 6 with its default protocol 3, or leave shardedSubscribers off.',
      details: {
        option: 'shardedSubscribers',
        protocol: protocol === undefined ? 'RESP2 (no protocol option: ioredis 5)' : protocol,
      },
    },
  )
}

/** SSUBSCRIBE on a Cluster without `shardedSubscribers`: ioredis cannot deliver it. */
export function shardedPubSubOffError(): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_REDIS_SHARDED_PUBSUB_OFF',
    'SSUBSCRIBE needs createRedisCluster({ shardedSubscribers: true })',
    {
      hint: "Without shardedSubscribers ioredis sends SSUBSCRIBE on its one cluster-wide subscriber connection, to a node that rarely owns the channel's slot (MOVED until 'Too many Cluster redirections'), and never emits its smessage events. Pass shardedSubscribers: true: one subscriber per shard, each through the endpoint with TLS and AUTH.",
      details: { command: 'ssubscribe', option: 'shardedSubscribers' },
    },
  )
}
