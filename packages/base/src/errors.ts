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
