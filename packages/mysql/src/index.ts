export type { PrivateLinkConnectionOptions } from './create-connection.js'
export { createConnection, createPromiseConnection } from './create-connection.js'
export type { PrivateLinkPoolOptions } from './create-pool.js'
export { createPool, createPromisePool } from './create-pool.js'
export {
  authRetryChannel,
  tokenRefreshedChannel,
  tokenRefreshFailedChannel,
  zoneRetiredChannel,
} from './diagnostics.js'
export type { ConnectorSettings } from './endpoint-source.js'
export type { CaSource } from './errors.js'
export type { Greeting } from './greeting.js'
export { parseGreeting } from './greeting.js'
export type {
  PasswordAuth,
  PrivateLinkMysqlAuth,
  PrivateLinkMysqlOptions,
  PrivateLinkMysqlSslOptions,
} from './options.js'
export type { SecretAuth, SecretsManagerClientLike } from './secret-password.js'
export type {
  AwsCredentials,
  AwsCredentialsProvider,
  IamTokenProvider,
  IamTokenProviderOptions,
  IamTokenProviderStats,
} from './token-provider.js'
export { createIamTokenProvider } from './token-provider.js'
