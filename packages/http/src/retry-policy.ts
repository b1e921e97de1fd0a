import { invalidOption } from '@privatelink/core'

export interface RetryOptions {
  /** Retries per request, each on another zone when one is left. @default 2 */
  maxRetries?: number
  /** Methods retried after bytes were written. Before any byte, every method is. @default GET HEAD OPTIONS PUT DELETE TRACE */
  methods?: string[]
  /** Responses retried on another zone, for `methods` only. @default [502, 503, 504] */
  statusCodes?: number[]
}

export interface RetryPolicy {
  maxRetries: number
  methods: Set<string>
  statusCodes: Set<number>
}

export function retryPolicy(options: RetryOptions | undefined): RetryPolicy {
  if (options !== undefined && (typeof options !== 'object' || options === null))
    throw invalidOption('retry', 'an object', options)
  const maxRetries = options?.maxRetries ?? 2
  if (!Number.isInteger(maxRetries) || maxRetries < 0)
    throw invalidOption('retry.maxRetries', 'an integer >= 0', maxRetries)
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
  return {
    maxRetries,
    methods: new Set(methods.map((m) => m.toUpperCase())),
    statusCodes: new Set(statusCodes),
  }
}
