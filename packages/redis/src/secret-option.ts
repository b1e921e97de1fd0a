import { PrivateLinkError } from '@privatelink/core'

/** What a value is, never what it says: a password given in the wrong option stays out of errors. */
export function describeType(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} characters`
  if (value === null || value === undefined) return String(value)
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object'
  return `a ${typeof value}`
}

/**
 * ERR_INVALID_OPTION for an option where a secret may land by mistake (`auth: 'password'`, a
 * connection URL as `options`, a key PEM as `tls`): the details describe the value's type and
 * length, never its content.
 */
export function invalidSecretOption(
  option: string,
  expected: string,
  value: unknown,
): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_INVALID_OPTION',
    `Invalid option '${option}': expected ${expected}`,
    {
      hint: `Pass '${option}' as ${expected}.`,
      details: { option, expected, received: describeType(value) },
    },
  )
}
