import { PrivateLinkError } from './errors.js'
import { invalidOption } from './invalid-option.js'

const UNREADABLE =
  'a value that can be read (this one throws when read: a revoked Proxy, or a getter that throws)'

/** How deep the up-front walk looks: options.endpoint.zones[0].addresses is four levels down. */
const DEPTH = 4

/**
 * At most this many objects are looked into: a walk that reaches a large object graph (a client
 * or a socket an option holds) stays cheap; what it did not reach is still caught when read.
 */
const MAX_OBJECTS = 5_000

/** Settings of checkOptions beyond the defaults every package uses. */
export interface CheckOptionsSettings {
  /**
   * How many levels under the options the up-front walk looks, into plain objects, arrays, class
   * instances and live Proxies alike (buffers and functions are not walked into).
   * @default 4
   */
  depth?: number
  /**
   * Name paths from the options' own keys (`failover[0].endpoint`, as the option names in the
   * package's documentation) instead of from `option` (`options.failover[0].endpoint`); the
   * options argument itself is still `option`.
   * @default false
   */
  relativePaths?: boolean
}

/** Where a walk found a value that throws when read, and that value (when it could be had). */
interface Unreadable {
  path: string
  value: unknown
}

/** One walk's state: what was seen, how many objects are left to look into, how paths read. */
interface Walk {
  getters: boolean
  seen: Set<object>
  budget: number
  /** The path of the options argument's own keys: '' when paths are relative. */
  root: string
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
  depth: number,
  walk: Walk,
): Unreadable | undefined {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined
  if (walk.seen.has(value) || walk.budget <= 0) return undefined
  walk.seen.add(value)
  walk.budget--
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
    const at = array
      ? `${path}[${key}]`
      : path === walk.root && walk.root === ''
        ? key
        : `${path}.${key}`
    let child: unknown
    try {
      const descriptor = Reflect.getOwnPropertyDescriptor(value, key)
      if (descriptor === undefined || descriptor.enumerable !== true) continue
      if ('value' in descriptor) child = descriptor.value
      else if (walk.getters) child = Reflect.get(value, key)
      else continue
    } catch {
      return { path: at, value: undefined }
    }
    const found = findUnreadable(child, at, depth - 1, walk)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * Runs a factory's option checks so that no input, however hostile, escapes as a raw TypeError:
 * a value that throws when read (a revoked Proxy, a throwing getter) is ERR_INVALID_OPTION naming
 * its path before anything runs, and any other non-PrivateLinkError thrown while `build` reads
 * the options becomes ERR_INVALID_OPTION too (the original kept as `cause`). `option` names the
 * options argument (`'options'`, `'connect(options)'`). The walk looks into live Proxies and
 * class instances too (a revoked Proxy inside either is found), `settings.depth` levels down.
 */
export function checkOptions<T>(
  option: string,
  value: unknown,
  build: () => T,
  settings: CheckOptionsSettings = {},
): T {
  const depth = settings.depth ?? DEPTH
  const walk = (getters: boolean): Unreadable | undefined => {
    const root = settings.relativePaths === true ? '' : option
    const found = findUnreadable(value, root, depth, {
      getters,
      seen: new Set(),
      budget: MAX_OBJECTS,
      root,
    })
    return found === undefined || found.path !== '' ? found : { ...found, path: option }
  }
  const unreadable = walk(false)
  if (unreadable !== undefined) throw invalidOption(unreadable.path, UNREADABLE, unreadable.value)
  try {
    return build()
  } catch (error) {
    if (PrivateLinkError.isInstance(error)) throw error
    const found = walk(true)
    throw found === undefined
      ? invalidOption(option, 'the documented option types', value, error)
      : invalidOption(found.path, UNREADABLE, found.value, error)
  }
}
