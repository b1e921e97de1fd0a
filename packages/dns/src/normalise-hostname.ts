import { isIP } from 'node:net'
import { invalidHostname } from './dns-errors.js'
import { redactUrlCredentials } from './redact-url.js'

// Letters, digits, '-' and '_' (service labels), 1-63 per label, 253 in all. Anything else (a
// backslash, a space, an empty label) would be read by c-ares as another name, or refused late.
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/

/** The name to query: lower case, no trailing dot, brackets off an IPv6 literal; a bad name throws ERR_DNS_INVALID_NAME. */
export function normaliseHostname(name: unknown): string {
  if (typeof name !== 'string') throw invalidHostname(name, 'it is not a string')
  const lower = name.toLowerCase()
  const bracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower
  if (isIP(bracketed) !== 0) {
    if (bracketed.includes('%')) throw invalidHostname(name, 'zone indexes are not supported')
    return bracketed
  }
  const trimmed = lower.endsWith('.') ? lower.slice(0, -1) : lower
  if (trimmed === '') throw invalidHostname(name, 'it is empty')
  if (trimmed.length > 253) throw invalidHostname(name, 'it is longer than 253 characters')
  const bad = trimmed.split('.').find((label) => !LABEL.test(label))
  if (bad !== undefined) {
    throw invalidHostname(
      name,
      bad === ''
        ? 'it has an empty label'
        : // A label of a URL's userinfo would show part of its password.
          redactUrlCredentials(trimmed) !== trimmed
          ? 'it holds credentials (user:password@ or ?key=value), not only a host name'
          : `the label ${JSON.stringify(bad.slice(0, 70))} is not letters, digits, '-' and '_' (1-63)`,
    )
  }
  return trimmed
}
