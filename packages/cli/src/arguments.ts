import { isIP } from 'node:net'
import { InvalidArgumentError } from 'commander'

// Parsers for command-line values. They run before any library sees a value, so a bad flag is
// reported by its flag name (commander prefixes "option '--port <number>' argument ... is
// invalid."), never by a library's option name.

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

const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*$/i

/** `host:port` or `[v6]:port`; `defaultPort` when the port is left out. */
export function splitHostPort(value: string, defaultPort?: number): HostPort {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value)
  const [host, portText] = bracketed
    ? [bracketed[1]!, bracketed[2]]
    : value.includes(':') && value.indexOf(':') === value.lastIndexOf(':')
      ? (value.split(':') as [string, string])
      : [value, undefined]
  if (host === '' || (isIP(host) === 0 && !HOSTNAME.test(host)))
    throw new InvalidArgumentError(`Expected host:port, got "${value}".`)
  if (portText === undefined) {
    if (defaultPort === undefined)
      throw new InvalidArgumentError(`Expected host:port with a port, got "${value}".`)
    return { host, port: defaultPort }
  }
  return { host, port: parsePort(portText) }
}

/** A DNS server for --dns: `host` or `host:port` (53 by default). */
export function parseDnsServer(value: string): string {
  const { host, port } = splitHostPort(value, 53)
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}

export function parseHostPort(value: string): HostPort {
  return splitHostPort(value)
}

export function parseCidr(value: string, previous: string[] = []): string[] {
  const match = /^([0-9a-f.:]+)\/(\d{1,3})$/i.exec(value)
  const family = match ? isIP(match[1]!) : 0
  if (!match || family === 0 || Number(match[2]) > (family === 4 ? 32 : 128))
    throw new InvalidArgumentError(`Expected a CIDR such as 10.0.0.0/16, got "${value}".`)
  return [...previous, value]
}

export function parseHostname(value: string): string {
  const name = value.toLowerCase().replace(/\.$/, '')
  if (!HOSTNAME.test(name)) throw new InvalidArgumentError(`Expected a DNS name, got "${value}".`)
  return name
}

export function parseUrl(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InvalidArgumentError(
      `Expected a URL such as https://ec2.us-west-2.amazonaws.com, got "${value}".`,
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError(`Expected an http:// or https:// URL, got "${value}".`)
  return value
}

export function parseRegion(value: string): string {
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(value))
    throw new InvalidArgumentError(`Expected a region such as us-west-2, got "${value}".`)
  return value
}

/** Collects a repeatable option. */
export function collect<T>(parse: (value: string) => T) {
  return (value: string, previous: T[] = []): T[] => [...previous, parse(value)]
}
