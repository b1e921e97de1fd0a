import { InvalidArgumentError } from 'commander'
import { type HostPort, splitHostPort } from '../arguments.js'
import { shown } from '../redact.js'

export interface ServiceSpec {
  name: string
  port: number
  target: HostPort
}

/** `--service db:5432=127.0.0.1:5432`: a service the lab's zones listen for, relayed to a target. */
export function parseService(value: string, previous: ServiceSpec[] = []): ServiceSpec[] {
  const match = /^([a-z0-9][a-z0-9-]{0,30}):(\d{1,5})=(.+)$/.exec(value)
  if (!match)
    throw new InvalidArgumentError(
      `Expected name:port=host:port (e.g. db:5432=127.0.0.1:5432), got ${shown(value)}.`,
    )
  const port = Number(match[2])
  if (port < 1 || port > 65_535)
    throw new InvalidArgumentError(`Expected a port from 1 to 65535 in ${shown(value)}.`)
  const spec = { name: match[1]!, port, target: splitHostPort(match[3]!) }
  if (previous.some((s) => s.name === spec.name || s.port === spec.port))
    throw new InvalidArgumentError(`Two services named ${spec.name} or on port ${spec.port}.`)
  return [...previous, spec]
}

export interface UpstreamSpec extends HostPort {
  user: string
}

/** `--rds-proxy [user@]host:port`: the PostgreSQL the lab's RDS Proxy logs in to. */
export function parseUpstream(value: string): UpstreamSpec {
  const at = value.lastIndexOf('@')
  const user = at >= 0 ? value.slice(0, at) : 'postgres'
  if (user === '' || /[\s:]/.test(user))
    throw new InvalidArgumentError(`Expected [user@]host:port, got ${shown(value)}.`)
  return { user, ...splitHostPort(value.slice(at + 1), 5432) }
}

/**
 * `--rds-proxy-mysql user@host:port`: the MySQL or MariaDB the lab's RDS Proxy for MySQL logs in
 * to. The user is required (MySQL has no one default login); the port defaults to 3306.
 */
export function parseMysqlUpstream(value: string): UpstreamSpec {
  const at = value.lastIndexOf('@')
  const user = value.slice(0, Math.max(at, 0))
  if (at < 0 || user === '' || /[\s:]/.test(user))
    throw new InvalidArgumentError(
      `Expected user@host:port (e.g. root@127.0.0.1:3306), got ${shown(value)}.`,
    )
  return { user, ...splitHostPort(value.slice(at + 1), 3306) }
}

/** Zone names and IDs like AWS's: us-west-2a / usw2-az1. */
export function labZones(region: string, count: number): { name: string; id: string }[] {
  const short = region.replace(/^(\w\w)-(\w)\w*-(\d+)$/, '$1$2$3')
  return Array.from({ length: count }, (_, index) => ({
    name: `${region}${String.fromCharCode(97 + index)}`,
    id: `${short}-az${index + 1}`,
  }))
}

/** Single-quoted for a POSIX shell. */
export const shellQuote = (value: string): string =>
  /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`

export interface CacheSpec extends HostPort {
  /** The replication group ID the lab's ElastiCache answers for (tokens are signed for it). */
  cacheName: string
}

/**
 * `--elasticache [name@]host:port`: the plain redis-server the lab's ElastiCache IAM front
 * relays to, and the cache's name (as `elastiCacheFront` takes it: a letter, then up to 39 of
 * a-z 0-9 -; default lab-cache).
 */
export function parseElastiCache(value: string): CacheSpec {
  const at = value.lastIndexOf('@')
  const cacheName = at >= 0 ? value.slice(0, at) : 'lab-cache'
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(cacheName))
    throw new InvalidArgumentError(
      `Expected [name@]host:port with a cache name of a letter then up to 39 of a-z 0-9 - (e.g. lab-cache@127.0.0.1:6379), got ${shown(value)}.`,
    )
  return { cacheName, ...splitHostPort(value.slice(at + 1), 6379) }
}
