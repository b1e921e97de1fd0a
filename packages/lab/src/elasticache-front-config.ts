import { invalidOption } from '@privatelink/core'
import type { ElastiCacheFrontOptions } from './elasticache-front.js'

/** The ElastiCache front's options, checked, defaulted and copied, so later edits by the caller do not reach it. */
export interface ElastiCacheFrontConfig {
  /** The front's name. */
  readonly name: string
  /** The cache name tokens are signed for. */
  readonly cacheName: string
  /** Tokens carry `ResourceType=ServerlessCache`. */
  readonly serverless: boolean
  /** The signing name. */
  readonly service: 'elasticache' | 'memorydb'
  /** The name is the configuration endpoint (`clustercfg.`). */
  readonly clusterMode: boolean
  /** Connections not re-authenticated for this long (lab clock) are dropped. */
  readonly maxSessionMs: number
  /** The real redis-server behind the front. */
  readonly upstream: Readonly<ElastiCacheFrontOptions['upstream']>
  /** User IDs allowed to connect; undefined for any. */
  readonly users: readonly string[] | undefined
}

const TWELVE_HOURS_MS = 12 * 3_600_000
const cacheNamePattern = /^[a-z][a-z0-9-]{0,39}$/

/** Checks `options` (ERR_INVALID_OPTION naming the option) and freezes them with their defaults. */
export function elastiCacheFrontConfig(options: ElastiCacheFrontOptions): ElastiCacheFrontConfig {
  validate(options)
  return Object.freeze({
    name: options.name ?? 'elasticache',
    cacheName: options.cacheName ?? 'lab-cache',
    serverless: options.serverless ?? false,
    service: options.service ?? 'elasticache',
    clusterMode: options.clusterMode ?? false,
    maxSessionMs: options.maxSessionMs ?? TWELVE_HOURS_MS,
    upstream: { ...options.upstream },
    users: options.users === undefined ? undefined : [...options.users],
  })
}

function validate(options: ElastiCacheFrontOptions): void {
  if (options === null || typeof options !== 'object')
    throw invalidOption('options', 'an object with upstream', options)
  const { name, cacheName, serverless, service, clusterMode, users, upstream, maxSessionMs } =
    options
  if (name !== undefined && (typeof name !== 'string' || name === ''))
    throw invalidOption('name', 'a non-empty string', name)
  if (
    cacheName !== undefined &&
    (typeof cacheName !== 'string' || !cacheNamePattern.test(cacheName))
  )
    throw invalidOption(
      'cacheName',
      'a lower-case cache name (letter first, up to 40 of a-z 0-9 -)',
      cacheName,
    )
  if (serverless !== undefined && typeof serverless !== 'boolean')
    throw invalidOption('serverless', 'a boolean', serverless)
  if (clusterMode !== undefined && typeof clusterMode !== 'boolean')
    throw invalidOption('clusterMode', 'a boolean', clusterMode)
  if (service !== undefined && service !== 'elasticache' && service !== 'memorydb')
    throw invalidOption('service', "'elasticache' or 'memorydb'", service)
  if (users !== undefined && (!Array.isArray(users) || users.some((u) => typeof u !== 'string')))
    throw invalidOption('users', 'an array of user IDs', users)
  if (upstream === null || typeof upstream !== 'object')
    throw invalidOption('upstream', '{ host, port }', upstream)
  if (typeof upstream.host !== 'string' || upstream.host === '')
    throw invalidOption('upstream.host', 'an address', upstream.host)
  if (!Number.isInteger(upstream.port) || upstream.port < 1 || upstream.port > 65_535)
    throw invalidOption('upstream.port', 'an integer 1-65535', upstream.port)
  if (maxSessionMs !== undefined && (!Number.isInteger(maxSessionMs) || maxSessionMs < 1))
    throw invalidOption('maxSessionMs', 'a positive integer', maxSessionMs)
}
