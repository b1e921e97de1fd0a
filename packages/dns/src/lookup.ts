import type { LookupAddress, LookupOptions } from 'node:dns'
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

function familyOf(value: unknown): AddressFamily | undefined {
  if (value === 4 || value === 'IPv4') return 4
  if (value === 6 || value === 'IPv6') return 6
  if (value === 0) return 0
  return undefined
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
    const options: LookupOptions =
      typeof optionsOrCallback === 'number'
        ? { family: optionsOrCallback }
        : typeof optionsOrCallback === 'object' && optionsOrCallback !== null
          ? (optionsOrCallback as LookupOptions)
          : {}
    const family = familyOf(options.family)
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
