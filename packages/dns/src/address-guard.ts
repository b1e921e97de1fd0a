import type { LookupAddress } from 'node:dns'
import { isIP } from 'node:net'
import { createAddressMatcher, DEFAULT_ALLOWED_RANGES } from './address-ranges.js'
import { checkOptions } from './checked-options.js'
import { blockedChannel } from './diagnostics.js'
import { notPrivateError } from './dns-errors.js'
import { invalidOption, type PrivateLinkError } from './errors.js'
import type { LookupFunction } from './lookup.js'

/** Options of `createAddressGuard`. */
export interface AddressGuardOptions {
  /** CIDRs an address to dial may fall in. @default RFC 1918, 100.64.0.0/10, fc00::/7 */
  allowedRanges?: readonly string[]
}

/** Decides whether an address may be dialled, whatever its origin: a DNS answer, a literal or static config. */
export interface AddressGuard {
  /** The CIDRs in force (the defaults or the ones passed), frozen; shown in refusals and reports. */
  readonly allowedRanges: readonly string[]
  /** Whether `address` (an IP literal) is inside the ranges; false for anything that is not a literal. */
  allows(address: string): boolean
  /** The refusal for `address` (ERR_DNS_NOT_PRIVATE), or undefined when it is allowed. */
  refusal(address: string, hostname?: string): PrivateLinkError | undefined
}

/**
 * Builds the guard that keeps connections inside private address space, so a poisoned or public
 * DNS answer cannot send traffic (and IAM tokens) out of the VPC. Every CIDR is validated now.
 */
export function createAddressGuard(options: AddressGuardOptions = {}): AddressGuard {
  const given = checkOptions('options', options, () => {
    if (typeof options !== 'object' || options === null)
      throw invalidOption('options', 'an object', options)
    const ranges = options.allowedRanges
    if (ranges !== undefined && !Array.isArray(ranges))
      throw invalidOption('allowedRanges', 'an array of CIDR strings', ranges)
    return ranges === undefined ? undefined : [...ranges]
  })
  const allowedRanges = Object.freeze(given ?? [...DEFAULT_ALLOWED_RANGES])
  const custom = given !== undefined
  const matches = createAddressMatcher(allowedRanges)
  const allows = (address: string) => {
    const family = isIP(address)
    return family !== 0 && !address.includes('%') && matches(address, family as 4 | 6)
  }
  return {
    allowedRanges,
    allows,
    refusal(address, hostname = address) {
      if (allows(address)) return undefined
      if (blockedChannel.hasSubscribers) blockedChannel.publish({ hostname, address })
      return notPrivateError(hostname, address, allowedRanges, custom)
    },
  }
}

/** Throws ERR_INVALID_OPTION unless `value` is an AddressGuard (createAddressGuard's shape). */
export function assertAddressGuard(value: unknown, option: string): asserts value is AddressGuard {
  checkOptions(option, value, () => {
    const guard = value as Partial<AddressGuard> | null
    if (
      typeof guard !== 'object' ||
      guard === null ||
      !Array.isArray(guard.allowedRanges) ||
      !guard.allowedRanges.every((range) => typeof range === 'string') ||
      typeof guard.allows !== 'function' ||
      typeof guard.refusal !== 'function'
    )
      throw invalidOption(
        option,
        'an AddressGuard (createAddressGuard or createEndpointGuard): { allowedRanges, allows, refusal }',
        value,
      )
  })
}

/**
 * Wraps any `dns.lookup`-style function so that every address it answers is checked: for a
 * lookup that is not this package's resolver (the system's, cacheable-lookup, a test double).
 * One refused address refuses the whole answer, as the resolver does.
 */
export function guardedLookup(lookup: LookupFunction, guard: AddressGuard): LookupFunction {
  checkOptions('lookup', lookup, () => {
    if (typeof lookup !== 'function') throw invalidOption('lookup', 'a dns.lookup function', lookup)
  })
  assertAddressGuard(guard, 'guard')
  return function guarded(hostname: string, optionsOrCallback: unknown, maybeCallback?: unknown) {
    const callback = (
      typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback
    ) as (...args: unknown[]) => void
    const options: { all?: boolean; family?: number } =
      typeof optionsOrCallback === 'number'
        ? { family: optionsOrCallback }
        : typeof optionsOrCallback === 'object' && optionsOrCallback !== null
          ? (optionsOrCallback as { all?: boolean })
          : {}
    lookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error)
      for (const entry of addresses) {
        const refused = guard.refusal(entry.address, hostname)
        if (refused !== undefined) return callback(refused)
      }
      if (options.all === true) return callback(null, addresses)
      const first = addresses[0]
      if (first === undefined)
        return callback(Object.assign(new Error('no addresses'), { code: 'ENOTFOUND' }))
      callback(null, first.address, first.family)
    })
  } as LookupFunction
}
