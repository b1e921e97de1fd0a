import { describe, expect, it } from 'vitest'
import { checkOptions } from './checked-options.js'
import { PrivateLinkError } from './errors.js'

const revoked = () => {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}

/** The path checkOptions names for `value`, or 'accepted'. */
function refused(value: unknown, settings?: Parameters<typeof checkOptions>[3]): unknown {
  try {
    checkOptions('options', value, () => undefined, settings)
    return 'accepted'
  } catch (error) {
    expect(PrivateLinkError.isInstance(error)).toBe(true)
    expect((error as PrivateLinkError).code).toBe('ERR_INVALID_OPTION')
    return (error as PrivateLinkError).details['option']
  }
}

describe('checkOptions: the up-front walk', () => {
  it('finds a revoked Proxy inside a live Proxy and inside a class instance', () => {
    class Settings {
      ca = revoked()
    }
    expect(refused({ tls: new Proxy({ ca: revoked() }, {}) })).toBe('options.tls.ca')
    expect(refused({ tls: new Settings() })).toBe('options.tls.ca')
  })

  it('names paths from the options own keys with relativePaths, the options themselves as option', () => {
    expect(refused({ tls: { ca: [revoked()] } }, { relativePaths: true })).toBe('tls.ca[0]')
    expect(refused(revoked(), { relativePaths: true })).toBe('options')
  })

  it('looks depth levels down: failover[0].endpoint.zones[0] with depth 5, not with the default 4', () => {
    const options = { failover: [{ endpoint: { zones: [revoked()] } }] }
    expect(refused(options)).toBe('accepted')
    expect(refused(options, { depth: 5, relativePaths: true })).toBe(
      'failover[0].endpoint.zones[0]',
    )
  })

  it('a throwing getter is named when build trips over it', () => {
    const options = {
      get servers(): string[] {
        throw new TypeError('no')
      },
    }
    const error = (() => {
      try {
        return checkOptions('options', options, () => options.servers, { relativePaths: true })
      } catch (caught) {
        return caught
      }
    })()
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', details: { option: 'servers' } })
  })

  it('stays cheap on a large graph an option holds: the walk stops after a budget of objects', () => {
    let looked = 0
    const counted = () =>
      new Proxy(
        {},
        {
          ownKeys: (target) => {
            looked++
            return Reflect.ownKeys(target)
          },
        },
      )
    const wide = { items: Array.from({ length: 100_000 }, counted) }
    expect(refused(wide, { depth: 8 })).toBe('accepted')
    expect(looked).toBeGreaterThan(0)
    expect(looked).toBeLessThanOrEqual(5_000)
  })
})
