export type { IssuedCertificate, TestCa } from './ca.js'
export { createTestCa } from './ca.js'
export type { CredentialsStore, LabCredentials, StoredKey } from './credentials-store.js'
export type {
  DnsBehaviour,
  DnsQueryLog,
  DnsRecords,
  DnsServerOptions,
  LabDnsServer,
} from './dns-server.js'
export { startDnsServer } from './dns-server.js'
export type {
  DynamoDbFront,
  DynamoDbFrontOptions,
  DynamoDbRequest,
  LabTableKeys,
} from './dynamodb-front.js'
export { dynamoDbCertificateNames, dynamoDbFront } from './dynamodb-front.js'
export type {
  Ec2Inventory,
  LabDhcpOptions,
  LabHostedZone,
  LabInstance,
  LabNetworkAcl,
  LabNetworkAclEntry,
  LabNetworkInterface,
  LabNetworkState,
  LabPrefixList,
  LabRoute,
  LabRouteTable,
  LabSecurityGroup,
  LabSecurityGroupRule,
  LabSubnet,
  LabVpc,
  LabVpcEndpoint,
  LabZoneInfo,
} from './ec2-inventory.js'
export type {
  AclDenyOptions,
  HostedZoneOptions,
  LabDnsFaults,
  LabNetwork,
  PrivateDnsFaultOptions,
} from './ec2-network.js'
export { FULL_ACCESS_POLICY, labNetwork } from './ec2-network.js'
export type {
  ElastiCacheEvent,
  ElastiCacheFront,
  ElastiCacheFrontOptions,
  ElastiCacheStats,
} from './elasticache-front.js'
export { elastiCacheFront, elastiCacheRegionCode } from './elasticache-front.js'
export type { ElastiCacheRefusal } from './elasticache-front-token.js'
export type { IdleSettings, IdleTimeoutMode } from './idle-flows.js'
export type {
  Lab,
  LabAws,
  LabFront,
  LabFrontContext,
  LabMetadata,
  LabOptions,
  LabServiceOptions,
  LabZone,
  LabZoneOptions,
  RuntimeKind,
} from './lab.js'
export { startLab } from './lab.js'
export { PORT_MAP_TAG } from './port-map-tag.js'
export type { LabGateway, LabGatewayOptions } from './prefix-list-gateway.js'
export type {
  LatencyStatistics,
  RdsProxyEvent,
  RdsProxyFront,
  RdsProxyFrontOptions,
  RdsProxyMetrics,
  RdsProxyStats,
} from './rds-proxy.js'
export { rdsProxyFront } from './rds-proxy.js'
export type {
  RdsProxyMysqlEvent,
  RdsProxyMysqlFront,
  RdsProxyMysqlFrontOptions,
  RdsProxyMysqlStats,
} from './rds-proxy-mysql.js'
export { rdsProxyMysqlFront } from './rds-proxy-mysql.js'
export type { MysqlUpstream } from './rds-proxy-mysql-upstream.js'
export type { PinCause } from './rds-proxy-pinning.js'
export type { RdsProxyRefusal } from './rds-proxy-token.js'
export type { RdsProxyUpstream } from './rds-proxy-upstream.js'
export type { S3Addressing, S3Front, S3FrontOptions, S3Request } from './s3-front.js'
export { s3CertificateNames, s3Front } from './s3-front.js'
export type {
  SecretsManagerFront,
  SecretsManagerFrontOptions,
  SecretsManagerRequest,
} from './secrets-manager.js'
export { secretsManagerFront } from './secrets-manager.js'
export type { PresignedUrlOptions } from './sigv4-presigned.js'
export { verifyPresignedUrl } from './sigv4-presigned.js'
export type {
  KeyLookup,
  SignedRequest,
  VerifyExpectations,
  VerifyFailureDetail,
  VerifyFailureReason,
  VerifyResult,
} from './sigv4-verifier.js'
export { verifySigV4 } from './sigv4-verifier.js'
export type { LabRole } from './sts-api.js'
export type { LabTopology, TopologyOptions, TopologyTraffic, ZoneTraffic } from './topology.js'
export { DEFAULT_INTER_AZ_RTT_MS, DEFAULT_INTRA_AZ_RTT_MS } from './topology.js'
export type { DelayLateness } from './topology-delay-line.js'
export type { FaultMode, FaultOptions, ListenerStats, Target } from './zonal-listener.js'
