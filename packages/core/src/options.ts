import { invalidOption } from '@privatelink/dns'

export function integerOption(option: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalidOption(option, `an integer >= ${min}`, value)
  }
  return value
}

export function functionOption<T extends (...args: never[]) => unknown>(
  option: string,
  value: unknown,
  fallback: T,
): T {
  if (value === undefined) return fallback
  if (typeof value !== 'function') throw invalidOption(option, 'a function', value)
  return value as T
}
