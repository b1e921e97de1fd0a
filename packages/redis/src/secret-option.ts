import { invalidOption, type PrivateLinkError } from '@privatelink/core'

/** What a value is, never what it says: a password given in the wrong option stays out of errors. */
export function describeType(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} characters`
  if (value === null || value === undefined) return String(value)
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object'
  return `a ${typeof value}`
}

/**
 * ERR_INVALID_OPTION for an option where a secret may land by mistake (`auth: 'password'`, a
 * connection URL as `options`, a key PEM as `tls`): core's error, with the value described by its
 * type and length, never its content.
 */
export function invalidSecretOption(
  option: string,
  expected: string,
  value: unknown,
): PrivateLinkError {
  const error = invalidOption(option, expected, undefined)
  error.details['received'] = describeType(value)
  return error
}
