export type { AddressGuard, AddressGuardOptions } from './address-guard.js'
export { assertAddressGuard, createAddressGuard, guardedLookup } from './address-guard.js'
export type { AddressMatcher } from './address-ranges.js'
export { createAddressMatcher, DEFAULT_ALLOWED_RANGES } from './address-ranges.js'
export type { CheckOptionsSettings } from './checked-options.js'
export { checkOptions } from './checked-options.js'
export type { Cidr, IpAddress } from './cidr.js'
export { cidrContains, formatCidr, formatIpAddress, parseCidr, parseIpAddress } from './cidr.js'
export { blockedChannel, refreshChannel, resolveChannel, staleChannel } from './diagnostics.js'
export { dnsErrorHints } from './dns-errors.js'
export type { ErrorDetails, PrivateLinkErrorOptions } from './errors.js'
export { integerOption, invalidOption, PrivateLinkError } from './errors.js'
export type {
  ConnectCallback,
  ConnectRequest,
  GuardedConnectOptions,
  GuardedConnector,
} from './guarded-connect.js'
export { guardedConnect } from './guarded-connect.js'
export type { LookupFunction } from './lookup.js'
export type { AddressFamily, ResolverOptions } from './options.js'
export { redactUrlCredentials } from './redact-url.js'
export type {
  Resolution,
  ResolutionSource,
  ResolvedAddress,
  Resolver,
  ResolverStats,
} from './resolver.js'
export { createResolver } from './resolver.js'
export { sharedSecureContext } from './secure-context.js'
