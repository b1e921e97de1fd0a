import { redactUrlCredentials } from './redact-url.js'

const marker = Symbol.for('privatelink.error')

/** JSON-safe values only: details end up in logs and diagnostics, so never put a secret here. */
export type ErrorDetails = Record<string, unknown>

/** Options of the `PrivateLinkError` constructor. */
export interface PrivateLinkErrorOptions {
  /** What to check to fix it. */
  hint: string
  /** Structured context (option name, address, zone) for logs and tests. @default `{}` */
  details?: ErrorDetails
  /** The underlying error (a DNS or socket error), kept as the standard `Error.cause`. */
  cause?: unknown
}

/**
 * The one error class of every `@privatelink` package. `code` is stable and documented; `hint`
 * says what to check. Use `PrivateLinkError.isInstance(error)` rather than `instanceof`: it
 * survives two copies of the package (ESM and CJS) in one process.
 */
export class PrivateLinkError extends Error {
  /** Stable machine-readable code such as `ERR_INVALID_OPTION`; match on this, not on the message. */
  readonly code: string
  /** What to check or change to fix it, for a human. */
  readonly hint: string
  /** Structured, secret-free context; `{}` when there is none. */
  readonly details: ErrorDetails

  constructor(code: string, message: string, options: PrivateLinkErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'PrivateLinkError'
    this.code = code
    this.hint = options.hint
    this.details = options.details ?? {}
    Object.defineProperty(this, marker, { value: true, enumerable: false })
  }

  /** Whether `value` is a PrivateLinkError from any copy of the package (ESM or CJS); use instead of `instanceof`. */
  static isInstance(value: unknown): value is PrivateLinkError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[marker] === true
    )
  }

  /** A plain object for `JSON.stringify` and structured logs (an Error's own fields do not serialise). */
  toJSON(): {
    /** Always `'PrivateLinkError'`. */
    name: string
    /** Same as `error.code`. */
    code: string
    /** Same as `error.message`. */
    message: string
    /** Same as `error.hint`. */
    hint: string
    /** Same as `error.details`. */
    details: ErrorDetails
  } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      hint: this.hint,
      details: this.details,
    }
  }
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
  return new PrivateLinkError(
    'ERR_INVALID_OPTION',
    `Invalid option '${option}': expected ${expected}`,
    {
      hint: `Pass '${option}' as ${expected}.`,
      details: { option, expected, received: describeValue(value) },
      ...(cause === undefined ? {} : { cause }),
    },
  )
}

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

// Never throws: a symbol has no String(), a revoked Proxy throws even in Array.isArray. A
// connection URL given in the wrong option carries its password: redacted before truncating, so
// a cut never leaves half a userinfo behind.
function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = redactUrlCredentials(value)
    return JSON.stringify(shown.length > 80 ? `${shown.slice(0, 77)}...` : shown)
  }
  if (
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    value === null ||
    value === undefined
  ) {
    return String(value)
  }
  if (typeof value === 'bigint') return `${value}n`
  try {
    return Array.isArray(value) ? 'an array' : `a ${typeof value}`
  } catch {
    return 'an unreadable object (a revoked Proxy?)'
  }
}
