import { redactUrlCredentials } from './redact-url.js'

/**
 * A short, printable description of any value for error messages and details: a string quoted
 * (cut to `maxLength` characters), a number, boolean, null or bigint as written, anything else by
 * its type. Never throws: a symbol has no String(), a revoked Proxy throws even in Array.isArray,
 * JSON.stringify fails on BigInt and cycles. A connection URL given where a name belongs carries
 * its password: it is redacted before cutting, so a cut never leaves half a userinfo behind.
 */
export function describeValue(value: unknown, maxLength = 80): string {
  if (typeof value === 'string') {
    const shown = redactUrlCredentials(value)
    return JSON.stringify(
      shown.length > maxLength ? `${shown.slice(0, Math.max(0, maxLength - 3))}...` : shown,
    )
  }
  if (
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    value === null ||
    value === undefined
  ) {
    return String(value)
  }
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'symbol') return 'a symbol'
  try {
    if (Array.isArray(value)) return 'an array'
    return typeof value === 'object' ? 'an object' : `a ${typeof value}`
  } catch {
    return 'an unreadable object (a revoked Proxy?)'
  }
}

/**
 * What a value is, never what it says: for an option where a secret may land by mistake (a
 * password in `auth`, a key in `tls`, a connection URL as the options). A string is described by
 * its length only.
 */
export function describeSecret(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} characters`
  if (value === null || value === undefined) return String(value)
  try {
    if (Array.isArray(value)) return 'an array'
  } catch {
    return 'an unreadable value (a revoked Proxy)'
  }
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
