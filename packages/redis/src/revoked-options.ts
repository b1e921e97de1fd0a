import { types } from 'node:util'
import { invalidOption } from '@privatelink/core'

const MAX_DEPTH = 4

const childPath = (parent: string, key: string, array: boolean) =>
  array ? `${parent}[${key}]` : parent === 'options' ? key : `${parent}.${key}`

const isPlain = (value: object) => {
  if (Array.isArray(value)) return true
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/**
 * Refuses an options object holding a revoked Proxy (`Proxy.revocable`), at the call and naming
 * the option: any later read of one throws a bare TypeError, from wherever it happens to be read
 * (a reconnect, a TLS handshake). Walks plain objects and arrays a few levels down; a live Proxy
 * is probed once and not walked (its traps are its owner's), class instances and buffers are not
 * walked. An error a getter or trap throws passes through as it is.
 */
export function refuseRevokedProxies(options: unknown, root = 'options'): void {
  walk(options, root, 0, new Set())
}

function walk(value: unknown, path: string, depth: number, seen: Set<object>): void {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return
  if (types.isProxy(value)) {
    try {
      Reflect.getPrototypeOf(value)
    } catch (error) {
      if (error instanceof TypeError)
        throw invalidOption(path, 'a usable value (this one is a revoked Proxy)', 'a revoked Proxy')
      throw error
    }
    return
  }
  if (typeof value === 'function' || depth >= MAX_DEPTH || seen.has(value)) return
  if (ArrayBuffer.isView(value) || !isPlain(value)) return
  seen.add(value)
  const array = Array.isArray(value)
  for (const key of Object.keys(value))
    walk((value as Record<string, unknown>)[key], childPath(path, key, array), depth + 1, seen)
}
