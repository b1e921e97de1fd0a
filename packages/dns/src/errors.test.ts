import * as base from '@privatelink/base'
import { describe, expect, it } from 'vitest'
import * as dns from './index.js'
import { resolveOptions } from './options.js'

// The error class and option checks live in @privatelink/base; dns re-exports them unchanged, so
// `import { PrivateLinkError } from '@privatelink/dns'` and `instanceof` keep working.
describe("dns's errors are base's", () => {
  it('re-exports one class and the same helpers', () => {
    expect(dns.PrivateLinkError).toBe(base.PrivateLinkError)
    expect(dns.invalidOption).toBe(base.invalidOption)
    expect(dns.integerOption).toBe(base.integerOption)
    expect(dns.checkOptions).toBe(base.checkOptions)
    expect(dns.redactUrlCredentials).toBe(base.redactUrlCredentials)
  })

  it("a dns option error is an instance of base's class", () => {
    let caught: unknown
    try {
      resolveOptions({ timeoutMs: -1 })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(base.PrivateLinkError)
    expect(caught).toMatchObject({ code: 'ERR_INVALID_OPTION', details: { option: 'timeoutMs' } })
  })
})
