import { invalidOption } from './invalid-option.js'

/** Node's timers take at most 2^31 - 1 ms; beyond it setTimeout fires after 1 ms instead. */
const MAX_TIMER_MS = 2_147_483_647

/**
 * An integer option, validated at construction: `fallback` when undefined, else an integer of at
 * least `min`. One whose name ends in `Ms` is a duration and must also fit a Node timer (at most
 * 2^31 - 1), since setTimeout turns a larger one into 1 ms.
 */
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

/** A required, non-empty string option (a host name, a user, a region). */
export function requiredStringOption(option: string, value: unknown, expected: string): string {
  if (typeof value !== 'string' || value === '') throw invalidOption(option, expected, value)
  return value
}
