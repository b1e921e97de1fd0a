import { invalidOption } from '@privatelink/dns'

export { integerOption } from '@privatelink/dns'

export function functionOption<T extends (...args: never[]) => unknown>(
  option: string,
  value: unknown,
  fallback: T,
): T {
  if (value === undefined) return fallback
  if (typeof value !== 'function') throw invalidOption(option, 'a function', value)
  return value as T
}
