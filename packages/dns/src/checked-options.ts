import { invalidOption, PrivateLinkError } from './errors.js'

const UNREADABLE =
  'a value that can be read (this one throws when read: a revoked Proxy, or a getter that throws)'

/** How deep the up-front walk looks: options.endpoint.zones[0].addresses is four levels down. */
const DEPTH = 4

/** Where a walk found a value that throws when read, and that value (when it could be had). */
interface Unreadable {
  path: string
  value: unknown
}

/**
 * The first value under `value` that throws when looked at (a revoked Proxy throws on every
 * operation, even Array.isArray), or undefined. Getters are invoked only when `getters` is set
 * (the error path): the up-front walk has no side effects. Buffers and functions are not walked
 * into.
 */
function findUnreadable(
  value: unknown,
  path: string,
  getters = false,
  depth = DEPTH,
  seen: Set<object> = new Set(),
): Unreadable | undefined {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined
  if (seen.has(value)) return undefined
  seen.add(value)
  let keys: (string | symbol)[]
  try {
    Reflect.getPrototypeOf(value)
    if (typeof value === 'function' || ArrayBuffer.isView(value) || depth === 0) return undefined
    keys = Reflect.ownKeys(value)
  } catch {
    return { path, value }
  }
  const array = Array.isArray(value)
  for (const key of keys) {
    if (typeof key === 'symbol' || (array && key === 'length')) continue
    const at = array ? `${path}[${key}]` : `${path}.${key}`
    let child: unknown
    try {
      const descriptor = Reflect.getOwnPropertyDescriptor(value, key)
      if (descriptor === undefined || descriptor.enumerable !== true) continue
      if ('value' in descriptor) child = descriptor.value
      else if (getters) child = Reflect.get(value, key)
      else continue
    } catch {
      return { path: at, value: undefined }
    }
    const found = findUnreadable(child, at, getters, depth - 1, seen)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * Runs a factory's option checks so that no input, however hostile, escapes as a raw TypeError:
 * a value that throws when read (a revoked Proxy, a throwing getter) is ERR_INVALID_OPTION naming
 * its path before anything runs, and any other non-PrivateLinkError thrown while `build` reads
 * the options becomes ERR_INVALID_OPTION too (the original kept as `cause`). `option` names the
 * options argument (`'options'`, `'connect(options)'`).
 */
export function checkOptions<T>(option: string, value: unknown, build: () => T): T {
  const unreadable = findUnreadable(value, option)
  if (unreadable !== undefined) throw invalidOption(unreadable.path, UNREADABLE, unreadable.value)
  try {
    return build()
  } catch (error) {
    if (PrivateLinkError.isInstance(error)) throw error
    const found = findUnreadable(value, option, true)
    throw found === undefined
      ? invalidOption(option, 'the documented option types', value, error)
      : invalidOption(found.path, UNREADABLE, found.value, error)
  }
}
