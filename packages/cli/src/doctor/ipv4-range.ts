/** An IPv4 range as numbers: enough for security-group and ACL rules, which doctor only reads. */
export interface Ipv4Range {
  /** The first address, as an unsigned 32-bit number. */
  base: number
  /** Prefix length, 0..32. */
  bits: number
}

/** `10.0.0.0/16` or `10.0.3.7` (a /32) -> a range; undefined for anything else (IPv6 included). */
export function parseIpv4Range(text: string): Ipv4Range | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text)
  if (match === null) return undefined
  const octets = match.slice(1, 5).map(Number)
  const bits = match[5] === undefined ? 32 : Number(match[5])
  if (octets.some((o) => o > 255) || bits > 32) return undefined
  const address = octets.reduce((sum, octet) => sum * 256 + octet, 0)
  return { base: address - (address % 2 ** (32 - bits)), bits }
}

/** Whether every address of `inner` is in `outer`. */
export function rangeContains(outer: Ipv4Range, inner: Ipv4Range): boolean {
  return (
    inner.bits >= outer.bits && inner.base - (inner.base % 2 ** (32 - outer.bits)) === outer.base
  )
}

/** Whether the two ranges share an address (one holds the other: CIDRs nest or are disjoint). */
export function rangesOverlap(a: Ipv4Range, b: Ipv4Range): boolean {
  return rangeContains(a, b) || rangeContains(b, a)
}
