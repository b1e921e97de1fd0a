import { describeSecret, describeValue } from './describe-value.js'
import { PrivateLinkError } from './errors.js'

/**
 * ERR_INVALID_OPTION with `received` as the caller describes it (`'a getter that throws'`), not
 * as the value reads: the one shape every package's option errors share.
 */
export function invalidOptionDescribed(
  option: string,
  expected: string,
  received: string,
  cause?: unknown,
): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_INVALID_OPTION',
    `Invalid option '${option}': expected ${expected}`,
    {
      hint: `Pass '${option}' as ${expected}.`,
      details: { option, expected, received },
      ...(cause === undefined ? {} : { cause }),
    },
  )
}

/**
 * A bad option, named, with what was expected. Thrown at construction, never later. `cause`: the
 * error reading the value raised, when there was one.
 */
export function invalidOption(
  option: string,
  expected: string,
  value: unknown,
  cause?: unknown,
): PrivateLinkError {
  return invalidOptionDescribed(option, expected, describeValue(value), cause)
}

/**
 * ERR_INVALID_OPTION for an option where a secret may land by mistake (`auth: 'password'`, a
 * connection URL as `options`, a key PEM as `tls`, credentials): the value is described by its
 * type and a string's length, never shown.
 */
export function invalidSecretOption(
  option: string,
  expected: string,
  value: unknown,
): PrivateLinkError {
  return invalidOptionDescribed(option, expected, describeSecret(value))
}
