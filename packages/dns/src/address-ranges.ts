import { BlockList, isIP } from 'node:net'
import { invalidOption } from './errors.js'

/** RFC 1918, RFC 6598 shared address space and IPv6 unique local addresses. */
export const DEFAULT_ALLOWED_RANGES: readonly string[] = Object.freeze([
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  'fc00::/7',
])

export type AddressMatcher = (address: string, family: 4 | 6) => boolean

interface Ipv4Range {
  base: number
  mask: number
}

/**
 * Compiles CIDRs into one check. IPv4 is a mask test on integers (~0.25 µs, against ~2 µs for
 * BlockList); IPv6 is rare here and goes through BlockList.
 */
export function createAddressMatcher(
  ranges: readonly string[],
  option = 'allowedRanges',
): AddressMatcher {
  const ipv4: Ipv4Range[] = []
  const ipv6 = new BlockList()
  let hasIpv6 = false
  for (const range of ranges) {
    const [address, prefixText, extra] = typeof range === 'string' ? range.split('/') : []
    const family = address === undefined ? 0 : isIP(address)
    const prefix = Number(prefixText ?? (family === 6 ? 128 : 32))
    const maxPrefix = family === 6 ? 128 : 32
    if (
      family === 0 ||
      extra !== undefined ||
      !Number.isInteger(prefix) ||
      prefix < 0 ||
      prefix > maxPrefix
    ) {
      throw invalidOption(
        option,
        'an array of CIDR strings such as "10.0.0.0/8" or "fc00::/7"',
        range,
      )
    }
    if (family === 4) {
      const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0
      ipv4.push({ base: (ipv4ToInt(address!) & mask) >>> 0, mask })
    } else {
      ipv6.addSubnet(address!, prefix, 'ipv6')
      hasIpv6 = true
    }
  }
  return (address, family) => {
    if (family === 4) {
      const value = ipv4ToInt(address)
      for (const range of ipv4) if ((value & range.mask) >>> 0 === range.base) return true
      return false
    }
    return hasIpv6 && ipv6.check(address, 'ipv6')
  }
}

function ipv4ToInt(address: string): number {
  let value = 0
  let part = 0
  for (let index = 0; index < address.length; index++) {
    const code = address.charCodeAt(index)
    if (code === 46) {
      value = value * 256 + part
      part = 0
    } else {
      part = part * 10 + (code - 48)
    }
  }
  return (value * 256 + part) >>> 0
}
