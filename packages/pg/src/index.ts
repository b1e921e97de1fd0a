export type { PrivateLinkClientOptions } from './create-client.js'
export { createClient } from './create-client.js'
export type {
  PrivateLinkPool,
  PrivateLinkPoolOptions,
  PrivateLinkPoolStats,
} from './create-pool.js'
export { createPool } from './create-pool.js'
export {
  authRetryChannel,
  pinningChannel,
  tokenRefreshedChannel,
  tokenRefreshFailedChannel,
  zoneRetiredChannel,
} from './diagnostics.js'
export type { ConnectorSettings } from './endpoint-source.js'
export type { CaSource } from './errors.js'
export type {
  PgFailoverTarget,
  PrivateLinkAuth,
  PrivateLinkPgOptions,
  PrivateLinkSslOptions,
} from './options.js'
export type {
  PgConnectionConfig,
  PrivateLinkPgModule,
  PrivateLinkPgModuleOptions,
} from './pg-module.js'
export { createPgModule } from './pg-module.js'
export type { PinCause } from './pin-causes.js'
export type { PinningMode } from './pinning.js'
export type {
  SecretAuth,
  SecretsManagerClientConfigLike,
  SecretsManagerClientLike,
} from './secret-password.js'
export type { SslRequestTlsOptions, SslRequestTlsTarget } from './ssl-request-tls.js'
export { sslRequestTls } from './ssl-request-tls.js'
export type {
  AwsCredentials,
  AwsCredentialsProvider,
  IamTokenProvider,
  IamTokenProviderOptions,
  IamTokenProviderStats,
} from './token-provider.js'
export { createIamTokenProvider } from './token-provider.js'
