import { isIP } from 'node:net'
import { PrivateLinkError, parseCidr as parseRange } from '@privatelink/dns'
import { InvalidArgumentError } from 'commander'
import { holdsCredential, shown } from './redact.js'

// Parsers for command-line values. They run before any library sees a value, so a bad flag is
// reported by its flag name (commander prefixes "option '--port <number>' argument ... is
// invalid."), never by a library's option name. A value is quoted through shown(): a pasted
// connection URL's password is never printed.

export function parsePort(value: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value) || port < 1 || port > 65_535)
    throw new InvalidArgumentError('Expected a port number from 1 to 65535.')
  return port
}

export function parsePositiveInteger(max: number) {
  return (value: string): number => {
    const number = Number(value)
    if (!/^\d+$/.test(value) || number < 1 || number > max)
      throw new InvalidArgumentError(`Expected an integer from 1 to ${max}.`)
    return number
  }
}

export interface HostPort {
  host: string
  port: number
}

const LABELS =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*$/i

/**
 * A DNS name. An all-numeric last label is refused (no top-level domain is numeric, RFC 3696):
 * "300.1.1.1" is a mistyped address, not a name to look up.
 */
function isHostname(value: string): boolean {
  return LABELS.test(value) && !/(?:^|\.)\d+$/.test(value)
}

/** `host:port` or `[v6]:port`; `defaultPort` when the port is left out. */
export function splitHostPort(value: string, defaultPort?: number): HostPort {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value)
  const [host, portText] = bracketed
    ? [bracketed[1]!, bracketed[2]]
    : value.includes(':') && value.indexOf(':') === value.lastIndexOf(':')
      ? (value.split(':') as [string, string])
      : [value, undefined]
  if (host === '' || (isIP(host) === 0 && !isHostname(host)))
    throw new InvalidArgumentError(`Expected host:port, got ${shown(value)}.`)
  if (portText === undefined) {
    if (defaultPort === undefined)
      throw new InvalidArgumentError(`Expected host:port with a port, got ${shown(value)}.`)
    return { host, port: defaultPort }
  }
  return { host, port: parsePort(portText) }
}

/**
 * A DNS server for --dns: `ip` or `ip:port` (53 by default), `[v6]:port`. An IP address only: the
 * resolver (c-ares) cannot look up the name of the server it is to ask.
 */
export function parseDnsServer(value: string): string {
  const invalid = () =>
    new InvalidArgumentError(
      `Expected a DNS server's IP address, optionally with a port (10.0.0.2, 127.0.0.1:5353, [fd00::2]:53), got ${shown(value)}.`,
    )
  let server: HostPort
  try {
    server = splitHostPort(value, 53)
  } catch {
    throw invalid()
  }
  const family = isIP(server.host)
  if (family === 0) throw invalid()
  return family === 6 ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`
}

export function parseHostPort(value: string): HostPort {
  return splitHostPort(value)
}

/**
 * A range for --allow, checked by the same parser the guard uses (host bits set below the prefix,
 * "10.0.0.5/8", are refused there), so a range the flag accepts is one the library accepts.
 */
export function parseCidr(value: string, previous: string[] = []): string[] {
  if (!value.includes('/'))
    throw new InvalidArgumentError(`Expected a CIDR such as 10.0.0.0/16, got ${shown(value)}.`)
  try {
    parseRange(value, '--allow')
  } catch (error) {
    if (!PrivateLinkError.isInstance(error)) throw error
    const reason = error.details['reason']
    throw new InvalidArgumentError(
      `Expected a CIDR such as 10.0.0.0/16, got ${shown(value)}${typeof reason === 'string' ? `: ${reason}` : ''}.`,
    )
  }
  return [...previous, value]
}

export function parseHostname(value: string): string {
  const name = value.toLowerCase().replace(/\.$/, '')
  if (!isHostname(name)) throw new InvalidArgumentError(`Expected a DNS name, got ${shown(value)}.`)
  return name
}

/**
 * The database user a token is signed for (DBUser): PostgreSQL keeps 63 bytes of a name, and a
 * token for an empty or longer name logs nobody in. "--user --json" is a forgotten value, not a
 * user named "--json".
 */
export function parseDatabaseUser(value: string): string {
  if (
    value === '' ||
    value.startsWith('-') ||
    holdsCredential(value) ||
    Buffer.byteLength(value) > 63 ||
    [...value].some((character) => character.charCodeAt(0) < 0x20 || character === '\u007f')
  )
    throw new InvalidArgumentError(
      'Expected a database user name of 1 to 63 bytes (not starting with "-": a flag is not a user; not a connection URL or user:password@).',
    )
  return value
}

/** `vpc-` and 8 or 17 hex digits, as EC2 names VPCs. */
export function parseVpcId(value: string): string {
  if (!/^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(value))
    throw new InvalidArgumentError(
      `Expected a VPC ID such as vpc-0123456789abcdef0, got ${shown(value)}.`,
    )
  return value
}

/** An IAM role ARN, for --role-arn. */
export function parseRoleArn(value: string): string {
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(value))
    throw new InvalidArgumentError(
      `Expected a role ARN such as arn:aws:iam::123456789012:role/name, got ${shown(value)}.`,
    )
  return value
}

/** STS's ExternalId: 2 to 1224 characters of [\w+=,.@:/-]. */
export function parseExternalId(value: string): string {
  if (!/^[\w+=,.@:/-]{2,1224}$/.test(value))
    throw new InvalidArgumentError(
      'Expected an external ID of 2 to 1224 letters, digits or +=,.@:/- characters.',
    )
  return value
}

export function parseUrl(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InvalidArgumentError(
      `Expected a URL such as https://ec2.us-west-2.amazonaws.com, got ${shown(value)}.`,
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError(`Expected an http:// or https:// URL, got ${shown(value)}.`)
  // An AWS endpoint has neither: user:password@ or ?x=y is a credential pasted in the wrong place.
  if (url.username !== '' || url.password !== '' || url.search !== '')
    throw new InvalidArgumentError(
      `Expected an endpoint URL without user:password@ or a query, got ${shown(value)}.`,
    )
  return value
}

export function parseRegion(value: string): string {
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(value))
    throw new InvalidArgumentError(`Expected a region such as us-west-2, got ${shown(value)}.`)
  return value
}

/** Collects a repeatable option. */
export function collect<T>(parse: (value: string) => T) {
  return (value: string, previous: T[] = []): T[] => [...previous, parse(value)]
}

/** A client for doctor's security-group and ACL checks: an IPv4 address, a CIDR or an sg- ID. */
export function parseSource(value: string): string {
  if (
    !/^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(value) &&
    (!isIP(value.split('/')[0]!) ||
      isIP(value.split('/')[0]!) !== 4 ||
      !/^[\d.]+(?:\/(?:[0-9]|[12]\d|3[0-2]))?$/.test(value))
  )
    throw new InvalidArgumentError(
      `Expected an IPv4 address, a CIDR such as 10.0.0.0/16, or a security group ID (sg-...), got ${shown(value)}.`,
    )
  return value
}
