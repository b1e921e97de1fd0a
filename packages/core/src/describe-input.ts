import { describeValue, redactUrlCredentials } from '@privatelink/base'

/**
 * A short, printable description of any input for error messages and details (base's
 * describeValue, cut at 200 characters): never throws, and a connection URL given where a name
 * belongs does not show its password.
 */
export function describeInput(input: unknown): string {
  return describeValue(input, 200)
}

/** The input itself when it is a string (for details), else its description. */
export function inputText(input: unknown): string {
  return typeof input === 'string'
    ? redactUrlCredentials(input).slice(0, 200)
    : describeInput(input)
}
