import { checkOptions } from './checked-options.js'
import { type Cidr, cidrContains, parseCidr, parseIpAddress, unmapIpv4 } from './cidr.js'
import { invalidOption } from './errors.js'

/** RFC 1918, RFC 6598 shared address space and IPv6 unique local addresses. */
export const DEFAULT_ALLOWED_RANGES: readonly string[] = Object.freeze([
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  'fc00::/7',
])

/** Whether an IP literal of the given family lies in one of the compiled ranges. */
export type AddressMatcher = (address: string, family: 4 | 6) => boolean

interface Ipv4Range {
  base: number
  mask: number
}

/**
 * Compiles CIDRs into one check. Every range is parsed strictly (`parseCidr`): a typo throws
 * ERR_INVALID_OPTION naming the value instead of widening the guard. IPv4 is a mask test on
 * integers (~0.25 µs, against ~2 µs for BlockList); IPv6 compares bytes, and an IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) is checked as the IPv4 address it reaches.
 */
export function createAddressMatcher(
  ranges: readonly string[],
  option = 'allowedRanges',
): AddressMatcher {
  const list = checkOptions(option, ranges, () => {
    if (!Array.isArray(ranges)) throw invalidOption(option, 'an array of CIDR strings', ranges)
    return [...ranges]
  })
  const ipv4: Ipv4Range[] = []
  const ipv6: Cidr[] = []
  for (const range of list) {
    const cidr = parseCidr(range, option)
    if (cidr.family === 4) {
      const mask = cidr.prefix === 0 ? 0 : (~0 << (32 - cidr.prefix)) >>> 0
      ipv4.push({ base: (bytesToInt(cidr.bytes) & mask) >>> 0, mask })
    } else {
      ipv6.push(cidr)
    }
  }
  const matchIpv4 = (value: number) => {
    for (const range of ipv4) if ((value & range.mask) >>> 0 === range.base) return true
    return false
  }
  return (address, family) => {
    if (family === 4) return matchIpv4(ipv4ToInt(address))
    const parsed = parseIpAddress(address)
    if (parsed === undefined) return false
    const target = unmapIpv4(parsed)
    if (target.family === 4) return matchIpv4(bytesToInt(target.bytes))
    for (const range of ipv6) if (cidrContains(range, target)) return true
    return false
  }
}

function bytesToInt(bytes: Uint8Array): number {
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0
}

// Callers pass addresses c-ares returned or isIP() accepted: dotted quads only.
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
