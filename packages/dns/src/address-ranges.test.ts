import { describe, expect, it } from 'vitest'
import { createAddressMatcher, DEFAULT_ALLOWED_RANGES } from './address-ranges.js'
import { PrivateLinkError } from './errors.js'

describe('createAddressMatcher', () => {
  const isPrivate = createAddressMatcher(DEFAULT_ALLOWED_RANGES)

  it.each([
    ['10.0.0.1', 4, true],
    ['10.255.255.255', 4, true],
    ['172.16.0.1', 4, true],
    ['172.31.255.254', 4, true],
    ['172.32.0.1', 4, false],
    ['192.168.1.1', 4, true],
    ['100.64.0.1', 4, true],
    ['100.128.0.1', 4, false],
    ['127.0.0.1', 4, false],
    ['52.94.1.1', 4, false],
    ['fd00::1', 6, true],
    ['2600:1f18::1', 6, false],
    ['::1', 6, false],
  ] as const)('%s -> %s', (address, family, expected) => {
    expect(isPrivate(address, family)).toBe(expected)
  })

  it('takes /0 and host routes', () => {
    expect(createAddressMatcher(['0.0.0.0/0'])('8.8.8.8', 4)).toBe(true)
    expect(createAddressMatcher(['127.0.1.1/32'])('127.0.1.1', 4)).toBe(true)
    expect(createAddressMatcher(['127.0.1.1'])('127.0.1.2', 4)).toBe(false)
  })

  it.each(['10.0.0.0/33', 'nonsense', '10.0.0/8', 'fc00::/129', '10.0.0.0/8/1'])(
    'rejects %s',
    (range) => {
      try {
        createAddressMatcher([range])
        expect.unreachable()
      } catch (error) {
        expect(PrivateLinkError.isInstance(error) && error.code).toBe('ERR_INVALID_OPTION')
      }
    },
  )
})
