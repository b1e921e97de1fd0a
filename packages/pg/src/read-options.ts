import { invalidOptionDescribed, invalidSecretOption } from '@privatelink/base'

// Options are read once, here, so that a throwing getter or a revoked Proxy anywhere we look
// becomes ERR_INVALID_OPTION naming the option at the call, never a raw TypeError later.

/** False for a revoked Proxy (any operation on it throws), true for anything else. */
export function readable(value: unknown): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return true
  try {
    Reflect.getPrototypeOf(value)
    return true
  } catch {
    return false
  }
}

const UNREADABLE = 'a readable value (this one is a revoked Proxy or has a throwing getter)'

/** `holder[key]`, or ERR_INVALID_OPTION naming `option` when reading it throws. */
export function readField(holder: object, key: string, option: string): unknown {
  let value: unknown
  try {
    value = (holder as Record<string, unknown>)[key]
  } catch {
    throw invalidOptionDescribed(option, UNREADABLE, 'a getter that throws')
  }
  if (!readable(value)) throw invalidOptionDescribed(option, UNREADABLE, 'a revoked Proxy')
  return value
}

/**
 * A plain copy of an options object (own enumerable properties, each read once), every value
 * readable. `name` prefixes the options named in errors (`ssl` -> `ssl.ca`); '' for the top.
 * Anything but an object is ERR_INVALID_OPTION naming `name` (described, never echoed).
 */
export function readOptions(
  value: unknown,
  name: string,
  expected: string,
): Record<string, unknown> {
  const option = name === '' ? 'options' : name
  if (typeof value !== 'object' || value === null || !readable(value) || Array.isArray(value))
    throw invalidSecretOption(option, expected, value)
  let keys: string[]
  try {
    keys = Object.keys(value)
  } catch {
    throw invalidOptionDescribed(option, UNREADABLE, 'an object whose keys cannot be read')
  }
  const copy: Record<string, unknown> = {}
  for (const key of keys) copy[key] = readField(value, key, name === '' ? key : `${name}.${key}`)
  return copy
}
