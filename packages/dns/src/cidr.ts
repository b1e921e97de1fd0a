import { isIP } from 'node:net'
import { PrivateLinkError } from './errors.js'
import { redactUrlCredentials } from './redact-url.js'

/** An IP address as bytes: 4 for IPv4, 16 for IPv6. */
export interface IpAddress {
  /** IP version: 4 or 6. */
  family: 4 | 6
  /** Address in network byte order: 4 bytes for IPv4, 16 for IPv6. */
  bytes: Uint8Array
}

/** An address range as parsed by `parseCidr`: the network address (host bits zero) and a prefix length. */
export interface Cidr extends IpAddress {
  /** Exactly the number written after '/', or 32 / 128 for a bare address. */
  prefix: number
}

// Decimal only, no sign, no leading zero, no exponent, no spaces: "/ 8", "/0x8", "/8.0", "/1e1"
// and "/" all fail instead of becoming a prefix Number() would accept (an empty one reads as /0).
const PREFIX = /^(?:0|[1-9]\d{0,2})$/

/**
 * Strict IP literal parsing: node:net's `isIP` (which refuses leading zeros and short forms such
 * as "10.1"), no zone index ("fe80::1%eth0"), no brackets, no surrounding spaces. Returns
 * undefined for anything else.
 */
export function parseIpAddress(input: unknown): IpAddress | undefined {
  if (typeof input !== 'string' || input.includes('%')) return undefined
  const family = isIP(input)
  if (family === 4) return { family, bytes: ipv4Bytes(input) }
  if (family === 6) return { family, bytes: ipv6Bytes(input) }
  return undefined
}

/** The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d) reaches, else the address itself. */
export function unmapIpv4(address: IpAddress): IpAddress {
  if (address.family !== 6) return address
  const b = address.bytes
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return address
  if (b[10] !== 0xff || b[11] !== 0xff) return address
  return { family: 4, bytes: b.slice(12) }
}

/**
 * Parses "10.0.0.0/8", "fc00::/7" or a bare address (a host route). Host bits set below the
 * prefix ("10.0.0.5/8") are refused: such a range is wider than the address suggests, and a typo
 * in the address would otherwise silently widen the guard.
 */
export function parseCidr(input: unknown, option = 'allowedRanges'): Cidr {
  if (typeof input !== 'string') throw cidrError(option, input, 'it is not a string')
  const slash = input.indexOf('/')
  const addressText = slash === -1 ? input : input.slice(0, slash)
  const address = parseIpAddress(addressText)
  if (address === undefined) {
    throw cidrError(option, input, `"${addressText}" is not an IPv4 or IPv6 address`)
  }
  const bits = address.family === 4 ? 32 : 128
  let prefix = bits
  if (slash !== -1) {
    const prefixText = input.slice(slash + 1)
    if (!PREFIX.test(prefixText)) {
      throw cidrError(
        option,
        input,
        prefixText === ''
          ? 'the prefix length after "/" is missing'
          : `"${prefixText}" is not a prefix length (a decimal integer)`,
      )
    }
    prefix = Number(prefixText)
    if (prefix > bits) {
      throw cidrError(option, input, `an IPv${address.family} prefix is at most /${bits}`)
    }
  }
  const network = maskBytes(address.bytes, prefix)
  if (!network.every((byte, index) => byte === address.bytes[index])) {
    const suggestion = `${formatIpAddress({ family: address.family, bytes: network })}/${prefix}`
    throw cidrError(
      option,
      input,
      `host bits are set below /${prefix} (did you mean ${suggestion}?)`,
    )
  }
  return { family: address.family, bytes: address.bytes, prefix }
}

/** Whether `address` lies in `range` (same family only). */
export function cidrContains(range: Cidr, address: IpAddress): boolean {
  if (range.family !== address.family) return false
  const full = range.prefix >> 3
  for (let i = 0; i < full; i++) if (range.bytes[i] !== address.bytes[i]) return false
  const rest = range.prefix & 7
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return (range.bytes[full]! & mask) === (address.bytes[full]! & mask)
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as "::"). */
export function formatIpAddress(address: IpAddress): string {
  const b = address.bytes
  if (address.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`
  const words: number[] = []
  for (let i = 0; i < 16; i += 2) words.push((b[i]! << 8) | b[i + 1]!)
  let bestStart = -1
  let bestLength = 1 // RFC 5952: a single zero word is not shortened
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && words[j] === 0) j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const hex = words.map((w) => w.toString(16))
  if (bestStart === -1) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}

/** Canonical "address/prefix" text for a range, as `formatIpAddress` writes the address. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIpAddress(cidr)}/${cidr.prefix}`
}

function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length)
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8))
    out[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff)
  }
  return out
}

function ipv4Bytes(text: string): Uint8Array {
  return Uint8Array.from(text.split('.'), Number)
}

// Only called on text isIP() accepted, so the grammar is already checked.
function ipv6Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(16)
  let head = text
  let tail = ''
  const gap = text.indexOf('::')
  if (gap !== -1) {
    head = text.slice(0, gap)
    tail = text.slice(gap + 2)
  }
  const words = (part: string): number[] => {
    if (part === '') return []
    return part.split(':').flatMap((piece) => {
      if (piece.includes('.')) {
        const [a, b, c, d] = ipv4Bytes(piece)
        return [(a! << 8) | b!, (c! << 8) | d!]
      }
      return [Number.parseInt(piece, 16)]
    })
  }
  const front = words(head)
  const back = words(tail)
  const all = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back]
  all.forEach((word, index) => {
    bytes[index * 2] = word >> 8
    bytes[index * 2 + 1] = word & 0xff
  })
  return bytes
}

function cidrError(option: string, value: unknown, reason: string): PrivateLinkError {
  const text = typeof value === 'string' ? redactUrlCredentials(value) : undefined
  // The reason quotes part of the value: not when that part may be a password.
  const why =
    text !== undefined && text !== value
      ? 'it holds credentials (user:password@ or ?key=value), not an address'
      : reason
  const shown = text === undefined ? `a ${typeOf(value)}` : JSON.stringify(text.slice(0, 80))
  const expected = 'CIDR strings such as "10.0.0.0/8" or "fc00::/7"'
  return new PrivateLinkError(
    'ERR_INVALID_OPTION',
    `Invalid option '${option}': ${shown} is not a CIDR: ${why}`,
    {
      hint: `Pass '${option}' as ${expected}: a network address, "/" and a decimal prefix length.`,
      details: {
        option,
        expected,
        received: text === undefined ? typeOf(value) : text.slice(0, 80),
        reason: why,
      },
    },
  )
}

// Never throws: a revoked Proxy throws even in Array.isArray.
function typeOf(value: unknown): string {
  try {
    return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
  } catch {
    return 'unreadable object'
  }
}
