/**
 * A short, printable description of any input for error messages and details. Never throws:
 * JSON.stringify fails on BigInt and cycles, String() on an object whose toString throws.
 */
export function describeInput(input: unknown): string {
  if (typeof input === 'string')
    return JSON.stringify(input.length > 200 ? `${input.slice(0, 197)}...` : input)
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
  return typeof input === 'string' ? input.slice(0, 200) : describeInput(input)
}
