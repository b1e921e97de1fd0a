export type { CreateRedisOptions } from './create-redis.js'
export { createRedis } from './create-redis.js'
export type { RedisClusterOptions } from './create-redis-cluster.js'
export { createRedisCluster } from './create-redis-cluster.js'
export { authChannel, tokenRefreshedChannel, tokenRefreshFailedChannel } from './diagnostics.js'
export type { RedisFailoverTarget } from './failover-targets.js'
export type { NodeNatMap } from './node-map.js'
export type {
  EndpointAuthOptions,
  IamAuthOptions,
  RedisAuth,
  RedisTlsOptions,
} from './options.js'
export type {
  AwsCredentials,
  AwsCredentialsProvider,
  ElastiCacheTokenProvider,
  ElastiCacheTokenProviderOptions,
  ElastiCacheTokenProviderStats,
} from './token-provider.js'
export { createElastiCacheTokenProvider } from './token-provider.js'
