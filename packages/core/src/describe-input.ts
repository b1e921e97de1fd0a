import { redactUrlCredentials } from '@privatelink/dns'

/**
 * A short, printable description of any input for error messages and details. Never throws:
 * JSON.stringify fails on BigInt and cycles, String() on an object whose toString throws.
 */
export function describeInput(input: unknown): string {
  if (typeof input === 'string') {
    // A connection URL given where a name belongs must not show its password.
    const text = redactUrlCredentials(input)
    return JSON.stringify(text.length > 200 ? `${text.slice(0, 197)}...` : text)
  }
  if (typeof input === 'number' || typeof input === 'boolean' || input == null) return String(input)
  if (typeof input === 'bigint') return `${input}n`
  if (typeof input === 'symbol') return 'a symbol'
  // A revoked Proxy throws even in Array.isArray.
  try {
    return Array.isArray(input) ? 'an array' : `a ${typeof input}`
  } catch {
    return 'an unreadable object (a revoked Proxy?)'
  }
}

/** The input itself when it is a string (for details), else its description. */
export function inputText(input: unknown): string {
  return typeof input === 'string'
    ? redactUrlCredentials(input).slice(0, 200)
    : describeInput(input)
}
