import { PrivateLinkError } from '@privatelink/core'
import type { CommanderError } from 'commander'

/**
 * Whether the user asked for JSON: `--json` anywhere before a `--` (after it, `--json` is an
 * argument). Decided before parsing, because a usage error stops the parse before commander has
 * read the flag.
 */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  const flags = end === -1 ? argv : argv.slice(0, end)
  // doctor's --format json is --json: its errors are JSON documents too.
  return (
    flags.includes('--json') ||
    flags.includes('--format=json') ||
    flags.some((flag, index) => flag === '--format' && flags[index + 1] === 'json')
  )
}

// The flag or argument commander's message is about: "option '--port <number>' argument ...",
// "required option '--user <name>' ...", "unknown option '--prot'", "... for argument 'endpoint'",
// "missing required argument 'endpoint'". Checked against every usage error by the CLI's tests.
const FLAG = /\b(?:option|unknown option) '(-[-\w]+)/
const ARGUMENT = /\bargument '([\w-]+)'/

/** The flag (`--port`) or argument (`<endpoint>`) a commander error names, if any. */
export function optionOf(message: string): string | undefined {
  const flag = FLAG.exec(message)
  if (flag) return flag[1]
  const argument = ARGUMENT.exec(message)
  return argument ? `<${argument[1]}>` : undefined
}

/**
 * A commander parse error (bad flag value, unknown flag or command, missing option) as the same
 * ERR_USAGE a check after parsing throws, so `--json` prints it like every other error.
 */
export function commanderUsageError(error: CommanderError, command: string): PrivateLinkError {
  const message = error.message.replace(/^error: /, '').replace(/\n/g, ' ')
  const option = optionOf(message)
  return new PrivateLinkError('ERR_USAGE', message, {
    hint: `Run ${command} --help for usage.`,
    details: option !== undefined ? { option } : {},
  })
}
