// Errors, option checks, credential types and AWS-error sanitising are @privatelink/base's,
// re-exported as they are (one PrivateLinkError class whichever package it is imported from).
export type {
  AwsCredentials,
  AwsCredentialsProvider,
  AwsErrorFacts,
  ErrorDetails,
  PrivateLinkErrorOptions,
} from '@privatelink/base'
export {
  awsErrorFacts,
  checkOptions,
  integerOption,
  invalidOption,
  PrivateLinkError,
  redact,
  sanitizedCause,
} from '@privatelink/base'
export { sharedSecureContext } from '@privatelink/dns'
export type {
  ConnectOptions,
  Connector,
  ConnectorOptions,
  ConnectorTarget,
  ConnectorTlsOptions,
  Dial,
  HealthCheckOptions,
  HealthSignal,
  ResolvedTarget,
  TargetChangeEvent,
  UndiciConnect,
  UpgradeContext,
  ZoneChangeEvent,
  ZoneStatus,
} from './connector.js'
export { createConnector, zoneKey } from './connector.js'
export type { AttemptReport } from './connector-errors.js'
export { localityFromEnv } from './default-locality.js'
export {
  connectChannel,
  ejectChannel,
  failoverChannel,
  readmitChannel,
  regionFailoverChannel,
  regionReturnChannel,
} from './diagnostics.js'
export type {
  DiscoverEndpointOptions,
  Ec2ClientLike,
  EndpointDiscovery,
  EndpointDiscoveryOptions,
} from './discovery.js'
export { createEndpointDiscovery, discoverEndpoint } from './discovery.js'
export type { EndpointDnsName } from './endpoint-dns-name.js'
export { formatEndpointDnsName, parseEndpointDnsName, zonalDnsName } from './endpoint-dns-name.js'
export type { EndpointGuardOptions } from './endpoint-guard.js'
export { createEndpointGuard, endpointAllowedRanges } from './endpoint-guard.js'
export { isEndpointId } from './endpoint-id.js'
export type {
  ConnectMessage,
  EjectMessage,
  FailoverMessage,
  ReadmitMessage,
  TargetMoveMessage,
  ZoneMessage,
} from './events.js'
export { HealthRegistry } from './health-registry.js'
export type { DetectedLocality, DetectLocalityOptions, LocalityFailure } from './locality.js'
export { detectLocality } from './locality.js'
export type { Endpoint, EndpointZone, Locality } from './model.js'
export {
  crossesPathIdle,
  DEFAULT_PATH_IDLE_TIMEOUT_MS,
  defaultKeepAliveDelayMs,
  pathIdleChannel,
  pathIdleLimitMs,
} from './path-idle.js'
export type { ServiceName } from './service-name.js'
export { formatServiceName, parseServiceName } from './service-name.js'
export type {
  RetireEvent,
  Retirement,
  RetireReason,
  SocketWatch,
  WatchOptions,
} from './socket-lifecycle.js'
export type {
  StaticConfigOptions,
  StaticEndpointConfig,
  StaticZoneConfig,
} from './static-endpoint.js'
export {
  endpointFromConfig,
  endpointFromEnv,
  endpointsFromEnv,
  STATIC_ALLOWED_RANGES,
} from './static-endpoint.js'
export type {
  SignedToken,
  TokenCache,
  TokenCacheDiagnostics,
  TokenCacheOptions,
  TokenCacheStats,
  TokenCredentials,
  TokenCredentialsProvider,
  TokenLife,
} from './token-cache.js'
export { createTokenCache } from './token-cache.js'
export type { TokenProviderOptions, TokenSigningOptions } from './token-cache-provider.js'
export { createTokenProvider } from './token-cache-provider.js'
export type { EjectionOptions, ZoneHealthSnapshot } from './zone-health.js'
export type { ZoneKey } from './zone-key.js'
export { findOwnZone, orderZones } from './zone-order.js'
