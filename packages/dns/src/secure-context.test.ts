import { rootCertificates } from 'node:tls'
import { describe, expect, it } from 'vitest'
import { sharedSecureContext } from './secure-context.js'

describe('sharedSecureContext', () => {
  const bundle = [...rootCertificates]

  it('parses a CA bundle once: the same array gives the same context', () => {
    const first = sharedSecureContext({ ca: bundle })
    expect(first).toBeDefined()
    expect(sharedSecureContext({ ca: bundle })).toBe(first)
    // A copy is another bundle as far as identity goes: a new context, not a wrong one.
    expect(sharedSecureContext({ ca: [...bundle] })).not.toBe(first)
  })

  it('keys a string bundle by its value', () => {
    const pem = rootCertificates[0]!
    expect(sharedSecureContext({ ca: `${pem}` })).toBe(sharedSecureContext({ ca: pem.slice() }))
  })

  it('leaves the context to Node when other options shape it, or none is needed', () => {
    expect(sharedSecureContext({})).toBeUndefined()
    expect(sharedSecureContext({ ca: bundle, cert: 'x' })).toBeUndefined()
    expect(sharedSecureContext({ ca: bundle, minVersion: 'TLSv1.3' })).toBeUndefined()
    const given = sharedSecureContext({ ca: bundle })!
    expect(sharedSecureContext({ ca: bundle, secureContext: given })).toBeUndefined()
  })

  it('ignores options that are not part of the context (servername, checkServerIdentity)', () => {
    const options = { ca: bundle, servername: 'a.example', rejectUnauthorized: true }
    expect(sharedSecureContext(options)).toBe(sharedSecureContext({ ca: bundle }))
  })
})
