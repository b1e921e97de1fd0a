import { invalidOption } from '@privatelink/core'
import { type Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis'
import { authenticate, exchange } from './authenticate.js'
import { withCheckedOptions } from './checked-options.js'
import { EndpointCluster } from './endpoint-cluster.js'
import { endpointConnectorClass } from './endpoint-connector.js'
import { clusterFailoverError, shardedPubSubResp2Error } from './errors.js'
import { announcedAddresses, NodeMap, type NodeNatMap, validateNatMap } from './node-map.js'
import {
  connectorFor,
  type EndpointAuthOptions,
  OWN_OPTIONS,
  resolveAuthOptions,
} from './options.js'
import { keepAuthenticated } from './reauth.js'
import { invalidSecretOption } from './secret-option.js'

/**
 * Options of createRedisCluster: the endpoint, TLS and auth options (no `port`: see `nodes`), the
 * listener per node, plus ioredis' `ClusterOptions` except `natMap` and `dnsLookup`, which this
 * package owns. Checked at construction: a bad value throws `ERR_INVALID_OPTION` naming the option.
 */
export interface RedisClusterOptions
  extends EndpointAuthOptions,
    Omit<ClusterOptions, 'natMap' | 'dnsLookup' | 'redisOptions'> {
  /** The endpoint's listener ports, one per node (an NLB listener and target group per node). */
  nodes: {
    /** The listener port leading to this node: an integer from 1 to 65535. */
    port: number
  }[]
  /**
   * Announced node address (`host:port`, as CLUSTER SLOTS and MOVED name it) -> listener port.
   * @default discovered: each listener is asked which node it leads to (CLUSTER NODES, `myself`)
   */
  natMap?: NodeNatMap
  /** Options for every node connection (not host, port, tls or credentials: ours replace them). */
  redisOptions?: Omit<RedisOptions, 'host' | 'port' | 'tls' | 'Connector' | 'username' | 'password'>
  /**
   * Not in cluster mode: refused with ERR_INVALID_OPTION (an open Cluster cannot move to another
   * region's cluster; see the README's regions section).
   */
  failover?: never
}

/**
 * An ioredis `Cluster` behind an NLB with one listener per node: node connections come through
 * the endpoint's connector (zone health, failover, TLS against `servername`, a current token on
 * every connect), announced addresses are mapped to listener ports, and never dialled.
 */
export function createRedisCluster(options: RedisClusterOptions): Cluster {
  return withCheckedOptions(options, () => buildRedisCluster(options))
}

function buildRedisCluster(options: RedisClusterOptions): Cluster {
  // A connection URL given as options (or nodes) may carry a password: never echoed.
  if (typeof options !== 'object' || options === null)
    throw invalidSecretOption('options', 'an object with endpoint, nodes and servername', options)
  const { nodes } = options
  if (!Array.isArray(nodes) || nodes.length === 0)
    throw invalidSecretOption('nodes', 'the listener ports, one per node: [{ port }]', nodes)
  const ports = nodes.map((node, index) => {
    const port = node?.port
    if (!Number.isInteger(port) || port < 1 || port > 65_535)
      throw invalidOption(`nodes[${index}].port`, 'an integer from 1 to 65535', port)
    return port
  })
  if (options.failover !== undefined) throw clusterFailoverError()
  const natMap = validateNatMap(options.natMap)
  const resolved = resolveAuthOptions(options)
  const { connector, owned } = connectorFor(options, ports[0]!)
  const { servername, tls, authenticator, clock } = resolved
  const targets = [{ servername, tls, authenticator }]

  const discover = async (): Promise<Map<string, number>> => {
    const found = new Map<string, number>()
    await Promise.all(
      ports.map(async (port) => {
        const socket = await connector.connect({ port, tls })
        try {
          const timeout = options.redisOptions?.connectTimeout ?? 10_000
          if (authenticator !== undefined)
            await authenticate(socket, authenticator, { servername, timeoutMs: timeout, clock })
          const reply = await exchange(socket, ['CLUSTER', 'NODES'], timeout, servername)
          for (const address of announcedAddresses(reply)) found.set(address, port)
        } finally {
          socket.destroy()
        }
      }),
    )
    return found
  }
  const nodeMap = new NodeMap({ natMap, ports, servername, discover })
  let everReady = false
  const Connector = endpointConnectorClass({
    connector,
    targets,
    connectTls: tls,
    clock,
    // Node connections drain when core retires their zone (see the README).
    ownerOf: (socket) => cluster.nodes('all').find((node) => node.stream === socket),
    portFor: (host, port) => nodeMap.portFor(host, port),
    authRefusalIsFatal: () => !everReady,
  })
  // Sharded subscribers are re-authenticated on their subscribed connection, which only RESP3
  // allows (ioredis 6's default; ioredis 5 has RESP2 only): refused here rather than dropped at 12 h.
  if (options.shardedSubscribers === true && authenticator?.kind === 'iam') {
    const protocol = subscriberProtocol(options.redisOptions)
    if (protocol !== 3) throw shardedPubSubResp2Error(protocol)
  }
  const clusterOptions: Record<string, unknown> = { ...options }
  for (const key of [...OWN_OPTIONS, 'nodes', 'natMap', 'redisOptions']) delete clusterOptions[key]
  const reauthenticate = (redis: Redis) => {
    if (authenticator?.kind !== 'iam') return
    keepAuthenticated(redis, {
      user: authenticator.user,
      providerFor: () => authenticator.provider,
      clock,
      afterMs: resolved.reauthAfterMs,
      checkIntervalMs: resolved.reauthCheckIntervalMs,
      connector,
    })
  }
  const cluster: Cluster = new EndpointCluster(
    ports.map((port) => ({ host: servername, port })),
    {
      // Over TLS through a proxy a slot refresh takes a handshake; ioredis' 1 s is often too short.
      slotsRefreshTimeout: 5_000,
      ...(clusterOptions as ClusterOptions),
      // Startup nodes are names only the connector understands: never resolve them here.
      dnsLookup: (address, callback) => callback(null, address),
      redisOptions: { ...options.redisOptions, Connector },
    },
    {
      knows: (host, port) => nodeMap.knows(host, port),
      resolve: (host, port) => nodeMap.portFor(host, port),
      // The pub/sub connection authenticates and re-authenticates like a node connection.
      onSubscriber: reauthenticate,
      duplicate: (override) =>
        createRedisCluster({
          ...options,
          ...(override as Partial<RedisClusterOptions>),
          redisOptions: { ...options.redisOptions, ...override.redisOptions },
        }),
    },
  )
  cluster.once('ready', () => {
    everReady = true
  })
  cluster.on('+node', reauthenticate)
  cluster.once('end', () => {
    if (owned) connector.close()
  })
  return cluster
}

/** The protocol a node (so a sharded subscriber) connection speaks: undefined on ioredis 5. */
function subscriberProtocol(redisOptions: unknown): unknown {
  const own = (redisOptions as { protocol?: unknown } | undefined)?.protocol
  if (own !== undefined) return own
  // ioredis' defaults (6: protocol 3); not in its types.
  return (Redis as unknown as { defaultOptions?: { protocol?: unknown } }).defaultOptions?.protocol
}
