import { invalidOption } from '@privatelink/base'
import type { Locality } from './model.js'

export { checkOptions, integerOption } from '@privatelink/base'

export function functionOption<T extends (...args: never[]) => unknown>(
  option: string,
  value: unknown,
  fallback: T,
): T {
  if (value === undefined) return fallback
  if (typeof value !== 'function') throw invalidOption(option, 'a function', value)
  return value as T
}

/** An AbortSignal, or undefined: anything else would throw later, in a listener or a timer. */
export function signalOption(option: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined
  const signal = value as Partial<AbortSignal> | null
  if (
    typeof signal !== 'object' ||
    signal === null ||
    typeof signal.aborted !== 'boolean' ||
    typeof signal.addEventListener !== 'function' ||
    typeof signal.removeEventListener !== 'function'
  )
    throw invalidOption(option, 'an AbortSignal (AbortController().signal)', value)
  return value as AbortSignal
}

/** A string option, or undefined. */
export function stringOption(option: string, value: unknown, expected: string): string | undefined {
  if (value !== undefined && typeof value !== 'string') throw invalidOption(option, expected, value)
  return value
}

/** A Locality given by the caller: an object whose azId, azName and region are strings if set. */
export function localityOption(option: string, value: unknown): Locality {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidOption(option, 'a Locality { azId?, azName?, region?, source }, or null', value)
  const locality = value as Partial<Locality>
  stringOption(`${option}.azId`, locality.azId, 'an AZ ID such as usw2-az1')
  stringOption(`${option}.azName`, locality.azName, 'an AZ name such as us-west-2a')
  stringOption(`${option}.region`, locality.region, 'a region name')
  return value as Locality
}

/**
 * An environment: an object of strings (process.env's shape). The variables in `read` must be
 * strings when set: they are read later, where a number or an object would throw.
 */
export function envOption(
  option: string,
  value: unknown,
  read: readonly string[] = [],
): Record<string, string | undefined> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidOption(option, 'an object of environment variables (process.env)', value)
  const env = value as Record<string, unknown>
  for (const name of read)
    if (env[name] !== undefined && typeof env[name] !== 'string')
      throw invalidOption(`${option}.${name}`, 'a string', env[name])
  return value as Record<string, string | undefined>
}
