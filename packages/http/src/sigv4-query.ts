/** A query as `@smithy/signature-v4` takes it: decoded keys and values, repeated keys as arrays. */
export type SigningQuery = Record<string, string | string[]>

/**
 * Splits a request target at its FIRST '?': per RFC 3986 everything after it is the query, a
 * later '?' included (it is data, and AWS signs it as `%3F`).
 */
export function splitTarget(target: string): { path: string; search: string } {
  const index = target.indexOf('?')
  return index === -1
    ? { path: target === '' ? '/' : target, search: '' }
    : { path: index === 0 ? '/' : target.slice(0, index), search: target.slice(index + 1) }
}

/** A query component the signer cannot sign correctly; `reason` says why. */
export class UnsignableQueryError extends Error {
  readonly component: string
  readonly reason: 'not-utf8' | 'reserved-key'
  constructor(component: string, reason: 'not-utf8' | 'reserved-key') {
    super(`query component cannot be signed (${reason})`)
    this.component = component
    this.reason = reason
  }
}

// A '%' not followed by two hex digits is a literal percent sign, as WHATWG URLSearchParams reads it.
const strayPercent = /%(?![0-9A-Fa-f]{2})/g

function decodeComponent(component: string): string {
  if (!component.includes('%')) return component
  try {
    return decodeURIComponent(component.replace(strayPercent, '%25'))
  } catch {
    // The signer works on strings, and bytes that are not UTF-8 have no string to sign.
    throw new UnsignableQueryError(component, 'not-utf8')
  }
}

/**
 * Parses the query the way SigV4 canonicalises it, not the way HTML forms do: '+' is a literal
 * plus (URLSearchParams would turn it into a space and the signature would not match what the
 * service computes), a key without '=' has the empty value, repeated keys are all kept, empty
 * segments ('a=1&&b=2') carry nothing. The signer re-encodes keys and values with the RFC 3986
 * unreserved set and sorts by key, then value.
 */
export function parseSigningQuery(search: string): SigningQuery {
  // A null prototype so a key such as '__proto__' or 'constructor' stays an ordinary key.
  const query: SigningQuery = Object.create(null)
  if (search === '') return query
  for (const segment of search.split('&')) {
    if (segment === '') continue
    const equals = segment.indexOf('=')
    const key = decodeComponent(equals === -1 ? segment : segment.slice(0, equals))
    const value = equals === -1 ? '' : decodeComponent(segment.slice(equals + 1))
    // @smithy/signature-v4 builds the canonical query in a plain object, where this key is lost:
    // signing it would yield a signature the service rejects, so refuse it plainly instead.
    if (key === '__proto__') throw new UnsignableQueryError(key, 'reserved-key')
    const existing = query[key]
    if (existing === undefined) query[key] = value
    else if (Array.isArray(existing)) existing.push(value)
    else query[key] = [existing, value]
  }
  return query
}
