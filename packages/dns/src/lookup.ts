import type { LookupAddress, LookupOptions } from 'node:dns'
import { checkOptions } from './checked-options.js'
import { invalidOption } from './errors.js'
import type { AddressFamily } from './options.js'
import type { Resolution } from './resolver.js'

type LookupOneCallback = (
  error: NodeJS.ErrnoException | null,
  address: string,
  family: number,
) => void
type LookupAllCallback = (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void

/** The `dns.lookup` callback signature, as net, tls, undici and ioredis call it. */
export interface LookupFunction {
  (hostname: string, callback: LookupOneCallback): void
  (hostname: string, family: number, callback: LookupOneCallback): void
  (hostname: string, options: LookupOptions & { all: true }, callback: LookupAllCallback): void
  (hostname: string, options: LookupOptions, callback: LookupOneCallback | LookupAllCallback): void
}

type Resolve = (hostname: string, options: { family?: AddressFamily }) => Promise<Resolution>

// dns.lookup's families: 0, 4, 6, 'IPv4', 'IPv6' (or none); anything else it throws for, at the call.
function familyOf(value: unknown): AddressFamily | undefined {
  if (value === undefined) return undefined
  if (value === 4 || value === 'IPv4') return 4
  if (value === 6 || value === 'IPv6') return 6
  if (value === 0) return 0
  throw invalidOption('family', "0, 4, 6, 'IPv4' or 'IPv6' (as dns.lookup)", value)
}

const ORDERS: ReadonlySet<unknown> = new Set(['verbatim', 'ipv4first', 'ipv6first'])

/** The lookup's options, checked as dns.lookup checks them: a bad one throws at the call. */
function lookupOptions(optionsOrCallback: unknown): LookupOptions {
  if (typeof optionsOrCallback === 'function' || optionsOrCallback === undefined) return {}
  if (typeof optionsOrCallback === 'number') return { family: familyOf(optionsOrCallback) ?? 0 }
  if (typeof optionsOrCallback !== 'object' || optionsOrCallback === null)
    throw invalidOption('options', 'an object, a family number or the callback', optionsOrCallback)
  return checkOptions('options', optionsOrCallback, () => {
    const options = optionsOrCallback as LookupOptions
    const { all, order, verbatim } = options
    if (all !== undefined && typeof all !== 'boolean') throw invalidOption('all', 'a boolean', all)
    if (verbatim !== undefined && typeof verbatim !== 'boolean')
      throw invalidOption('verbatim', 'a boolean', verbatim)
    if (order !== undefined && !ORDERS.has(order))
      throw invalidOption('order', "'verbatim', 'ipv4first' or 'ipv6first'", order)
    const family = familyOf(options.family)
    return {
      ...(all !== undefined ? { all } : {}),
      ...(order !== undefined ? { order } : {}),
      ...(verbatim !== undefined ? { verbatim } : {}),
      ...(family !== undefined ? { family } : {}),
    }
  })
}

export function createLookup(resolve: Resolve): LookupFunction {
  return function lookup(
    hostname: string,
    optionsOrCallback: unknown,
    maybeCallback?: unknown,
  ): void {
    const callback = (
      typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback
    ) as (...args: unknown[]) => void
    // A revoked Proxy is typeof 'function' too: checked here, not when the answer arrives.
    checkOptions('callback', callback, () => {
      if (typeof callback !== 'function')
        throw invalidOption('callback', 'a function (error, address, family)', callback)
    })
    const options = lookupOptions(optionsOrCallback)
    const family = options.family as AddressFamily | undefined
    const order = options.order ?? (options.verbatim === false ? 'ipv4first' : 'verbatim')
    resolve(hostname, family === undefined ? {} : { family }).then(
      (resolution) => {
        let addresses = resolution.addresses.map(({ address, family }) => ({ address, family }))
        if (order === 'ipv4first') addresses = addresses.sort((a, b) => a.family - b.family)
        else if (order === 'ipv6first') addresses = addresses.sort((a, b) => b.family - a.family)
        if (options.all === true) callback(null, addresses)
        else callback(null, addresses[0]!.address, addresses[0]!.family)
      },
      (error: unknown) => callback(error),
    )
  } as LookupFunction
}
