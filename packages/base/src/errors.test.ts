import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { PrivateLinkError } from './errors.js'
import { invalidOption } from './invalid-option.js'

describe('PrivateLinkError', () => {
  it('carries code, hint, details and cause', () => {
    const cause = new Error('inner')
    const error = new PrivateLinkError('ERR_X', 'it broke', {
      hint: 'check y',
      details: { a: 1 },
      cause,
    })
    expect(error).toBeInstanceOf(Error)
    expect(error.code).toBe('ERR_X')
    expect(error.hint).toBe('check y')
    expect(error.details).toEqual({ a: 1 })
    expect(error.cause).toBe(cause)
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'PrivateLinkError',
      code: 'ERR_X',
      message: 'it broke',
      hint: 'check y',
      details: { a: 1 },
    })
    expect(inspect(error)).toContain('check y')
  })

  it('is recognised across copies of the package through a Symbol.for marker', () => {
    const foreign = Object.assign(new Error('other copy'), { code: 'ERR_X' })
    Object.defineProperty(foreign, Symbol.for('privatelink.error'), { value: true })
    expect(PrivateLinkError.isInstance(foreign)).toBe(true)
    expect(PrivateLinkError.isInstance(new Error('plain'))).toBe(false)
    expect(PrivateLinkError.isInstance(null)).toBe(false)
  })

  it('names the option and truncates long values', () => {
    const error = invalidOption('servers', 'an array', 'x'.repeat(200))
    expect(error.code).toBe('ERR_INVALID_OPTION')
    expect(error.message).toContain("'servers'")
    expect(String(error.details['received']).length).toBeLessThan(90)
  })
})
