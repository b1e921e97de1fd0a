// The error class, option checks and URL redaction are @privatelink/base's, re-exported as they
// are: `PrivateLinkError` from dns, core or base is one class.
export type { CheckOptionsSettings, ErrorDetails, PrivateLinkErrorOptions } from '@privatelink/base'
export {
  checkOptions,
  integerOption,
  invalidOption,
  PrivateLinkError,
  redactUrlCredentials,
} from '@privatelink/base'
export type { AddressGuard, AddressGuardOptions } from './address-guard.js'
export { assertAddressGuard, createAddressGuard, guardedLookup } from './address-guard.js'
export type { AddressMatcher } from './address-ranges.js'
export { createAddressMatcher, DEFAULT_ALLOWED_RANGES } from './address-ranges.js'
export type { Cidr, IpAddress } from './cidr.js'
export { cidrContains, formatCidr, formatIpAddress, parseCidr, parseIpAddress } from './cidr.js'
export { blockedChannel, refreshChannel, resolveChannel, staleChannel } from './diagnostics.js'
export { dnsErrorHints } from './dns-errors.js'
export type {
  ConnectCallback,
  ConnectRequest,
  GuardedConnectOptions,
  GuardedConnector,
} from './guarded-connect.js'
export { guardedConnect } from './guarded-connect.js'
export type { LookupFunction } from './lookup.js'
export type { AddressFamily, ResolverOptions } from './options.js'
export type {
  Resolution,
  ResolutionSource,
  ResolvedAddress,
  Resolver,
  ResolverStats,
} from './resolver.js'
export { createResolver } from './resolver.js'
export { sharedSecureContext } from './secure-context.js'
