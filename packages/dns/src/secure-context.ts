import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls'
import { checkOptions } from './checked-options.js'
import { invalidOption } from './errors.js'

/**
 * TLS options that only shape the secure context. With any other context option set (a client
 * certificate, ciphers...), Node builds the context per connection as usual.
 */
const CONTEXT_KEYS: ReadonlySet<string> = new Set(['ca'])
const ALL_CONTEXT_KEYS = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'ciphers',
  'ecdhCurve',
  'crl',
  'minVersion',
  'maxVersion',
  'secureOptions',
  'secureProtocol',
  'sigalgs',
  'privateKeyEngine',
  'privateKeyIdentifier',
  'honorCipherOrder',
  'dhparam',
  'sessionIdContext',
  'ticketKeys',
  'sessionTimeout',
  'clientCertEngine',
] as const

const byObject = new WeakMap<object, SecureContext>()
const byString = new Map<string, SecureContext>()
const MAX_STRING_KEYS = 16

/**
 * One secure context per CA bundle, shared by every connection that uses it. `tls.connect({ ca })`
 * parses the bundle on every call: with Node's roots plus a private CA (about 150 certificates)
 * that is ~20 ms of CPU per handshake, and a burst of 100 connections spent 2 s in it. Returns
 * undefined when the options carry anything besides `ca` that shapes the context, or already a
 * `secureContext`. The bundle is keyed by identity (an array or Buffer) or by value (a string).
 */
export function sharedSecureContext(
  options: { secureContext?: SecureContext } & SecureContextOptions,
): SecureContext | undefined {
  return checkOptions('tls', options, () => {
    if (typeof options !== 'object' || options === null)
      throw invalidOption('tls', 'tls.connect options', options)
    return sharedContextOf(options)
  })
}

function sharedContextOf(
  options: { secureContext?: SecureContext } & SecureContextOptions,
): SecureContext | undefined {
  if (options.secureContext !== undefined) return undefined
  const ca = options.ca
  if (ca === undefined) return undefined
  for (const key of ALL_CONTEXT_KEYS)
    if (!CONTEXT_KEYS.has(key) && (options as Record<string, unknown>)[key] !== undefined)
      return undefined
  if (typeof ca === 'string') {
    let context = byString.get(ca)
    if (context === undefined) {
      context = createSecureContext({ ca })
      if (byString.size >= MAX_STRING_KEYS) byString.delete(byString.keys().next().value!)
      byString.set(ca, context)
    }
    return context
  }
  let context = byObject.get(ca)
  if (context === undefined) {
    context = createSecureContext({ ca })
    byObject.set(ca, context)
  }
  return context
}
