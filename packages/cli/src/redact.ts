import { redactUrlCredentials } from '@privatelink/dns'
import type { CliIo, OutputStream } from './io.js'

/**
 * A command-line value as an error message may quote it: `"..."` with the userinfo of anything
 * URL-like and every query value replaced by `***` (a pasted DATABASE_URL is the usual mistake),
 * so a usage error never prints a password.
 */
export function shown(value: string): string {
  return `"${redactUrlCredentials(value)}"`
}

/**
 * Whether a value carries what looks like a credential: a `scheme://`, a `user:password@`, or a
 * query parameter (`?password=...`). Flags that would accept such a value (a URL, a user name)
 * refuse it: no AWS endpoint URL or database user needs one, and accepting it would print it.
 */
export function holdsCredential(value: string): boolean {
  return /:\/\/|:[^@]*@|[?&;][^=&;#]*=/.test(value)
}

/** `--flag=value` split at the `=` (a flag's name is letters, digits and dashes), else undefined. */
function flagWithValue(argument: string): [string, string] | undefined {
  const match = /^(--?[\w-]+=)(.*)$/s.exec(argument)
  return match ? [match[1]!, match[2]!] : undefined
}

/** One argument with its credentials redacted; `--flag=value` keeps the flag's name. */
function redactArgument(argument: string): string {
  const split = flagWithValue(argument)
  return split ? `${split[0]}${redactUrlCredentials(split[1])}` : redactUrlCredentials(argument)
}

/**
 * Pairs of (text as the user typed it, text to print instead) for every argument, or the value of
 * a `--flag=value`, that holds a credential; also as they appear inside a JSON string. Longest
 * first, so a whole argument is replaced before a value inside it.
 */
function replacements(argv: readonly string[]): [string, string][] {
  const pairs = new Map<string, string>()
  for (const argument of argv) {
    const split = flagWithValue(argument)
    const values = split ? [argument, split[1]] : [argument]
    for (const value of values) {
      const redacted = value === argument ? redactArgument(value) : redactUrlCredentials(value)
      if (redacted === value) continue
      pairs.set(value, redacted)
      pairs.set(JSON.stringify(value).slice(1, -1), JSON.stringify(redacted).slice(1, -1))
    }
  }
  return [...pairs].sort((a, b) => b[0].length - a[0].length)
}

/**
 * `io` with every argument that holds a credential redacted from what is written: commander
 * quotes a refused value, an unknown option or command as typed ("option '--host <name>' argument
 * 'postgres://app:pw@...' is invalid"), and a command may echo a flag; none of it may print a
 * password, in text or in a --json document.
 */
export function redactingIo(io: CliIo, argv: readonly string[]): CliIo {
  const pairs = replacements(argv)
  if (pairs.length === 0) return io
  const redact = (text: string) =>
    pairs.reduce((result, [secret, shown]) => result.split(secret).join(shown), text)
  const wrap = (stream: OutputStream): OutputStream => ({
    write: (text: string) => stream.write(redact(String(text))),
    ...(stream.isTTY !== undefined ? { isTTY: stream.isTTY } : {}),
  })
  return { ...io, stdout: wrap(io.stdout), stderr: wrap(io.stderr) }
}
