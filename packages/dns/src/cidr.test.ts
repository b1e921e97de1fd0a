import { isIP } from 'node:net'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createAddressMatcher } from './address-ranges.js'
import {
  type Cidr,
  cidrContains,
  formatCidr,
  formatIpAddress,
  parseCidr,
  parseIpAddress,
} from './cidr.js'
import { PrivateLinkError } from './errors.js'

const refusal = (input: unknown) => {
  try {
    parseCidr(input)
  } catch (error) {
    return PrivateLinkError.isInstance(error) ? error : undefined
  }
  return undefined
}

describe('parseCidr: a typo never widens the guard (issue 18, item 1)', () => {
  it.each([
    '10.0.0.0/',
    'fc00::/',
    '10.0.0.0/ 8',
    '10.0.0.0/0x8',
    '10.0.0.0/8.0',
    '10.0.0.0/1e1',
    '10.0.0.0/+8',
    '10.0.0.0/08',
    ' 10.0.0.0/8',
    '10.0.0.0/8 ',
    '010.0.0.0/8',
    '10.0.0/8',
    'fe80::%eth0/64',
    '[fc00::]/7',
    '10.0.0.5/8',
    'fc00::1/7',
    '10.0.0.0/33',
    'fc00::/129',
    '',
    '/8',
  ])('refuses %j with ERR_INVALID_OPTION naming the value', (input) => {
    const error = refusal(input)
    expect(error?.code).toBe('ERR_INVALID_OPTION')
    expect(error?.message).toContain(JSON.stringify(input))
    expect(error?.details).toMatchObject({ option: 'allowedRanges', received: input })
  })

  it('the guard built from a typo does not exist, so it cannot allow a public address', () => {
    for (const typo of [['10.0.0.0/'], ['fc00::/']]) {
      expect(() => createAddressMatcher(typo)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
      )
    }
    // What a correct range allows stays as written.
    const matcher = createAddressMatcher(['10.0.0.0/8', 'fc00::/7'])
    expect(matcher('52.1.2.3', 4)).toBe(false)
    expect(matcher('2600::1', 6)).toBe(false)
  })

  it('suggests the network address when host bits are set', () => {
    expect(refusal('10.1.2.3/16')?.message).toMatch(/did you mean 10\.1\.0\.0\/16/)
  })

  it('names non-strings without throwing a TypeError', () => {
    const circular: Record<string, unknown> = {}
    circular['self'] = circular
    for (const value of [10n, circular, null, undefined, 8, ['10.0.0.0/8']]) {
      expect(refusal(value)?.code).toBe('ERR_INVALID_OPTION')
    }
  })

  it('reads IPv4-mapped IPv6 addresses as the IPv4 address they reach', () => {
    const matcher = createAddressMatcher(['10.0.0.0/8'])
    expect(matcher('::ffff:10.1.2.3', 6)).toBe(true)
    expect(matcher('::ffff:52.1.2.3', 6)).toBe(false)
    expect(matcher('::ffff:a01:203', 6)).toBe(true)
  })
})

const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 })
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 })
const cidr: fc.Arbitrary<Cidr> = fc
  .oneof(
    fc.record({
      family: fc.constant(4 as const),
      bytes: ipv4,
      prefix: fc.integer({ min: 0, max: 32 }),
    }),
    fc.record({
      family: fc.constant(6 as const),
      bytes: ipv6,
      prefix: fc.integer({ min: 0, max: 128 }),
    }),
  )
  .map((value) => {
    // Clear host bits so the value is a valid network.
    const bytes = Uint8Array.from(value.bytes, (byte, index) => {
      const keep = Math.max(0, Math.min(8, value.prefix - index * 8))
      return byte & ((0xff << (8 - keep)) & 0xff)
    })
    return { ...value, bytes }
  })

describe('parseCidr properties', () => {
  it('round-trips: parse(format(c)) == c, and the text agrees with node:net', () => {
    fc.assert(
      fc.property(cidr, (value) => {
        const text = formatCidr(value)
        expect(isIP(text.split('/')[0]!)).toBe(value.family)
        const parsed = parseCidr(text)
        expect(parsed.family).toBe(value.family)
        expect(parsed.prefix).toBe(value.prefix)
        expect([...parsed.bytes]).toEqual([...value.bytes])
      }),
      { numRuns: 2000 },
    )
  })

  it('never wider than written: a mutated CIDR either fails or means exactly its own digits', () => {
    const mutated = fc
      .tuple(
        cidr,
        fc.nat(),
        fc.constantFrom('delete', 'insert', 'replace'),
        fc.constantFrom(...'0123456789abcdef:./ x+-%eE[]'),
      )
      .map(([value, at, kind, char]) => {
        const text = formatCidr(value)
        const index = at % (text.length + 1)
        if (kind === 'delete') return text.slice(0, index) + text.slice(index + 1)
        if (kind === 'insert') return text.slice(0, index) + char + text.slice(index)
        return text.slice(0, index) + char + text.slice(index + 1)
      })
    fc.assert(
      fc.property(mutated, (text) => {
        let parsed: Cidr
        try {
          parsed = parseCidr(text)
        } catch (error) {
          expect(PrivateLinkError.isInstance(error)).toBe(true)
          return
        }
        const [addressText, prefixText] = text.split('/')
        const written =
          prefixText === undefined ? (parsed.family === 4 ? 32 : 128) : Number(prefixText)
        // The prefix is the literal decimal digits written, never a coerced or defaulted one.
        expect(prefixText === undefined || /^\d+$/.test(prefixText)).toBe(true)
        expect(parsed.prefix).toBe(written)
        expect(isIP(addressText!)).toBe(parsed.family)
        // And the range holds only addresses sharing the written network's first bits.
        const network = parseIpAddress(addressText!)!
        expect(formatIpAddress(parsed)).toBe(formatIpAddress(network))
      }),
      { numRuns: 5000 },
    )
  })

  it('membership agrees with a bit-by-bit reference', () => {
    fc.assert(
      fc.property(cidr, fc.uint8Array({ minLength: 16, maxLength: 16 }), (range, raw) => {
        const bytes = raw.slice(0, range.family === 4 ? 4 : 16)
        let expected = true
        for (let bit = 0; bit < range.prefix; bit++) {
          const mask = 0x80 >> (bit & 7)
          if ((bytes[bit >> 3]! & mask) !== (range.bytes[bit >> 3]! & mask)) expected = false
        }
        expect(cidrContains(range, { family: range.family, bytes })).toBe(expected)
        const matcher = createAddressMatcher([formatCidr(range)])
        expect(matcher(formatIpAddress({ family: range.family, bytes }), range.family)).toBe(
          expected,
        )
      }),
      { numRuns: 2000 },
    )
  })
})
