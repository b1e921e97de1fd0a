import { integerOption, invalidOption } from '@privatelink/core'
import { RetryBudget } from './retry-budget.js'

/** The timer functions backoff waits use (inject fakes in tests). */
export interface RetryTimers {
  /** Calls `callback` after `ms`; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown
  /** Cancels a wait `setTimeout` started. */
  clearTimeout(handle: unknown): void
}

/** The retry budget: a token bucket per dispatcher; a success refunds part of a retry's cost. */
export interface RetryBudgetOptions {
  /** Tokens in the bucket, shared by every request of one dispatcher. @default 500 */
  capacity?: number
  /** Tokens a retry takes. @default 5 */
  retryCost?: number
  /** Tokens a retry after a timeout takes (timeouts are the costliest failures to repeat). @default 10 */
  timeoutCost?: number
}

/** When the dispatcher retries a request on another zone, and how long it waits first. */
export interface RetryOptions {
  /** Retries per request, each on another zone when one is left. @default 2 */
  maxRetries?: number
  /** Methods retried after bytes were written. Before any byte, every method is. @default GET HEAD OPTIONS PUT DELETE TRACE */
  methods?: string[]
  /** Responses retried (body drained, connection kept), for `methods` only. @default [502, 503, 504] */
  statusCodes?: number[]
  /** First backoff step; retry n waits a random time up to minDelayMs * 2^(n-1). @default 100 */
  minDelayMs?: number
  /** Longest backoff; also the longest Retry-After honoured (a longer one is handed to you). @default 2000 */
  maxDelayMs?: number
  /** A token bucket that stops retries from multiplying load during an outage (smithy's standard retry quota). */
  budget?: RetryBudgetOptions
  /** Jitter source, [0, 1). @default Math.random */
  random?: () => number
  /** @default globalThis setTimeout / clearTimeout */
  timers?: RetryTimers
}

export interface RetryPolicy {
  maxRetries: number
  methods: Set<string>
  statusCodes: Set<number>
  minDelayMs: number
  maxDelayMs: number
  budget: RetryBudget
  retryCost: number
  timeoutCost: number
  random: () => number
  timers: RetryTimers
}

// null reads as unset here, as it always has.
const integer = (name: string, value: unknown, fallback: number, min: number): number =>
  integerOption(name, value ?? undefined, fallback, min)

const defaultTimers: RetryTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

export function retryPolicy(options: RetryOptions | undefined): RetryPolicy {
  if (options !== undefined && (typeof options !== 'object' || options === null))
    throw invalidOption('retry', 'an object', options)
  const maxRetries = integer('retry.maxRetries', options?.maxRetries, 2, 0)
  const methods = options?.methods ?? ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']
  if (!Array.isArray(methods) || methods.some((m) => typeof m !== 'string'))
    throw invalidOption('retry.methods', 'an array of HTTP methods', methods)
  const statusCodes = options?.statusCodes ?? [502, 503, 504]
  if (
    !Array.isArray(statusCodes) ||
    statusCodes.some((c) => !Number.isInteger(c) || c < 100 || c > 599)
  ) {
    throw invalidOption('retry.statusCodes', 'an array of HTTP status codes', statusCodes)
  }
  const minDelayMs = integer('retry.minDelayMs', options?.minDelayMs, 100, 0)
  const maxDelayMs = integer('retry.maxDelayMs', options?.maxDelayMs, 2_000, minDelayMs)
  const budget = options?.budget
  if (budget !== undefined && (typeof budget !== 'object' || budget === null))
    throw invalidOption('retry.budget', 'an object', budget)
  const capacity = integer('retry.budget.capacity', budget?.capacity, 500, 0)
  const retryCost = integer('retry.budget.retryCost', budget?.retryCost, 5, 0)
  const timeoutCost = integer('retry.budget.timeoutCost', budget?.timeoutCost, 10, 0)
  const random = options?.random ?? Math.random
  if (typeof random !== 'function') throw invalidOption('retry.random', 'a function', random)
  const timers = options?.timers ?? defaultTimers
  if (
    typeof timers !== 'object' ||
    timers === null ||
    typeof timers.setTimeout !== 'function' ||
    typeof timers.clearTimeout !== 'function'
  ) {
    throw invalidOption('retry.timers', '{ setTimeout, clearTimeout }', timers)
  }
  return {
    maxRetries,
    methods: new Set(methods.map((m) => m.toUpperCase())),
    statusCodes: new Set(statusCodes),
    minDelayMs,
    maxDelayMs,
    budget: new RetryBudget(capacity),
    retryCost,
    timeoutCost,
    random,
    timers,
  }
}
