import { randomBytes } from 'node:crypto'
import { invalidOption } from '@privatelink/core'
import type { RdsProxyFrontOptions } from './rds-proxy.js'
import type { RdsProxyUpstream } from './rds-proxy-upstream.js'

/** The RDS Proxy front's options, checked, defaulted and copied, so later edits by the caller do not reach it. */
export interface RdsProxyConfig {
  /** The front's name. */
  readonly name: string
  /** The port tokens must name. */
  readonly port: number
  /** Refuse a StartupMessage not preceded by SSLRequest. */
  readonly requireTls: boolean
  /** The target group's MaxConnectionsPercent. */
  readonly maxConnectionsPercent: number
  /** Pin on every Parse message. */
  readonly pinUnnamedStatements: boolean
  /** The real PostgreSQL behind the proxy. */
  readonly upstream: Readonly<RdsProxyUpstream>
  /** Users allowed to log in with IAM; undefined for any. */
  readonly users: readonly string[] | undefined
  /** The proxy endpoint name, when given; else chosen at start. */
  readonly proxyHost: string | undefined
}

const hostnamePattern = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/

/** Checks `options` (ERR_INVALID_OPTION naming the option) and freezes them with their defaults. */
export function rdsProxyConfig(options: RdsProxyFrontOptions): RdsProxyConfig {
  validate(options)
  return Object.freeze({
    name: options.name ?? 'rds-proxy',
    port: options.port ?? 5432,
    requireTls: options.requireTls ?? true,
    maxConnectionsPercent: options.maxConnectionsPercent ?? 100,
    pinUnnamedStatements: options.pinUnnamedStatements ?? false,
    upstream: { ...options.upstream },
    users: options.users === undefined ? undefined : [...options.users],
    proxyHost: options.proxyHost,
  })
}

/** A proxy ID as RDS writes it in endpoint names: 12 random lower-case letters and digits. */
export function newProxyId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  let id = ''
  for (const byte of randomBytes(12)) id += alphabet[byte % alphabet.length]
  return id
}

function validate(options: RdsProxyFrontOptions): void {
  if (options === null || typeof options !== 'object')
    throw invalidOption('options', 'an object with upstream', options)
  const {
    name,
    proxyHost,
    port,
    upstream,
    users,
    requireTls,
    maxConnectionsPercent,
    pinUnnamedStatements,
  } = options
  if (name !== undefined && (typeof name !== 'string' || name === ''))
    throw invalidOption('name', 'a non-empty string', name)
  if (
    proxyHost !== undefined &&
    (typeof proxyHost !== 'string' || !hostnamePattern.test(proxyHost))
  )
    throw invalidOption('proxyHost', 'a lower-case DNS name', proxyHost)
  const isPort = (value: unknown) =>
    typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535
  if (port !== undefined && !isPort(port)) throw invalidOption('port', 'an integer 1-65535', port)
  if (upstream === null || typeof upstream !== 'object')
    throw invalidOption('upstream', '{ host, port, user, password?, database? }', upstream)
  if (typeof upstream.host !== 'string' || upstream.host === '')
    throw invalidOption('upstream.host', 'a host name or address', upstream.host)
  if (!isPort(upstream.port))
    throw invalidOption('upstream.port', 'an integer 1-65535', upstream.port)
  if (typeof upstream.user !== 'string' || upstream.user === '')
    throw invalidOption('upstream.user', 'a database user name', upstream.user)
  if (upstream.password !== undefined && typeof upstream.password !== 'string')
    throw invalidOption('upstream.password', 'a string', typeof upstream.password)
  if (
    upstream.database !== undefined &&
    (typeof upstream.database !== 'string' || upstream.database === '')
  )
    throw invalidOption('upstream.database', 'a database name', upstream.database)
  if (users !== undefined && (!Array.isArray(users) || users.some((u) => typeof u !== 'string')))
    throw invalidOption('users', 'an array of database user names', users)
  if (requireTls !== undefined && typeof requireTls !== 'boolean')
    throw invalidOption('requireTls', 'a boolean', requireTls)
  if (
    maxConnectionsPercent !== undefined &&
    (!Number.isInteger(maxConnectionsPercent) ||
      maxConnectionsPercent < 1 ||
      maxConnectionsPercent > 100)
  )
    throw invalidOption('maxConnectionsPercent', 'an integer 1-100', maxConnectionsPercent)
  if (pinUnnamedStatements !== undefined && typeof pinUnnamedStatements !== 'boolean')
    throw invalidOption('pinUnnamedStatements', 'a boolean', pinUnnamedStatements)
}
