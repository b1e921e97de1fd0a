import { describe, expect, it } from 'vitest'
import { parseIpv4Range, rangeContains, rangesOverlap } from './ipv4-range.js'

describe('IPv4 ranges for rule evaluation', () => {
  const r = (text: string) => parseIpv4Range(text)!
  it('parses CIDRs and addresses, clears host bits, refuses the rest', () => {
    expect(parseIpv4Range('10.0.3.7')).toEqual({ base: 0x0a000307, bits: 32 })
    expect(parseIpv4Range('10.0.3.7/16')).toEqual({ base: 0x0a000000, bits: 16 })
    expect(parseIpv4Range('0.0.0.0/0')).toEqual({ base: 0, bits: 0 })
    for (const bad of ['10.0.0.256', '10.0.0.0/33', '::/0', 'sg-1', ''])
      expect(parseIpv4Range(bad), bad).toBeUndefined()
  })
  it('contains and overlaps', () => {
    expect(rangeContains(r('0.0.0.0/0'), r('10.0.0.0/16'))).toBe(true)
    expect(rangeContains(r('10.0.0.0/16'), r('10.0.2.9'))).toBe(true)
    expect(rangeContains(r('10.0.0.0/24'), r('10.0.0.0/16'))).toBe(false)
    expect(rangesOverlap(r('10.0.0.0/24'), r('10.0.0.0/16'))).toBe(true)
    expect(rangesOverlap(r('10.1.0.0/16'), r('10.0.0.0/16'))).toBe(false)
    expect(rangeContains(r('255.255.255.255/32'), r('255.255.255.255'))).toBe(true)
  })
})
