import { describe, expect, it } from 'vitest'
import { describeSecret, describeValue } from './describe-value.js'
import { invalidOption, invalidSecretOption } from './invalid-option.js'

const revoked = () => {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}

describe('describeValue', () => {
  it('never throws, whatever it is given', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic['self'] = cyclic
    expect(describeValue(10n)).toBe('10n')
    expect(describeValue(Symbol('s'))).toBe('a symbol')
    expect(describeValue(revoked())).toBe('an unreadable object (a revoked Proxy?)')
    expect(describeValue(cyclic)).toBe('an object')
    expect(describeValue([1])).toBe('an array')
    expect(describeValue(null)).toBe('null')
  })

  it('redacts a URL password before cutting to maxLength, so a cut never shows half of it', () => {
    const password = 'p4ssw0rd-that-is-long-enough-to-straddle-the-cut'
    const url = `postgres://app:${password}@db.example.com:5432/orders`
    for (const max of [10, 20, 40, 80, 200]) {
      const shown = describeValue(url, max)
      expect(shown).not.toContain('p4ssw0rd')
      expect(shown.length).toBeLessThanOrEqual(max + 2)
    }
    expect(describeValue(url, 200)).toBe('"postgres://***@db.example.com:5432/orders"')
  })
})

describe('describeSecret and invalidSecretOption', () => {
  it('say what a value is, never what it says', () => {
    expect(describeSecret('hunter2')).toBe('a string of 7 characters')
    expect(describeSecret(revoked())).toBe('an unreadable value (a revoked Proxy)')
    expect(describeSecret({ password: 'x' })).toBe('an object')
    expect(describeSecret(() => 'x')).toBe('a function')
    const error = invalidSecretOption('auth', 'an object { username, password }', 'hunter2')
    expect(error.details).toEqual({
      option: 'auth',
      expected: 'an object { username, password }',
      received: 'a string of 7 characters',
    })
    expect(JSON.stringify(error)).not.toContain('hunter2')
  })

  it('have the shape of every other option error', () => {
    const plain = invalidOption('port', 'an integer', 'x')
    const secret = invalidSecretOption('port', 'an integer', 'x')
    expect([secret.code, secret.message, secret.hint]).toEqual([
      plain.code,
      plain.message,
      plain.hint,
    ])
  })
})
