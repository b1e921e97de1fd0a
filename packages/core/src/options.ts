import { invalidOption } from '@privatelink/dns'

/** Node's timers take at most 2^31 - 1 ms; beyond it setTimeout fires after 1 ms instead. */
const MAX_TIMER_MS = 2_147_483_647

/** An integer option; one named `...Ms` is a duration and must fit a Node timer. */
export function integerOption(option: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  const max = option.endsWith('Ms') ? MAX_TIMER_MS : Number.MAX_SAFE_INTEGER
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(
      option,
      max === MAX_TIMER_MS
        ? `an integer from ${min} to ${max} (milliseconds)`
        : `an integer >= ${min}`,
      value,
    )
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
