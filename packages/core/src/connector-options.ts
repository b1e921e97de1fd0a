import { connect as netConnect } from 'node:net'
import { createAddressMatcher, invalidOption, type Resolver } from '@privatelink/dns'
import type {
  ConnectorOptions,
  ConnectorTarget,
  HealthCheckOptions,
  ResolvedTarget,
} from './connector-types.js'
import { assertEndpoint } from './endpoint-shape.js'
import { HealthRegistry, processHealthRegistry } from './health-registry.js'
import type { Locality } from './model.js'
import { functionOption, integerOption, localityOption } from './options.js'
import {
  crossesPathIdle,
  DEFAULT_PATH_IDLE_TIMEOUT_MS,
  defaultKeepAliveDelayMs,
  keepAliveDial,
  pathIdleLimitMs,
} from './path-idle.js'
import type { Dial } from './tcp-connect.js'
import { type ConnectorTlsOptions, validateTls } from './tls-upgrade.js'
import type { ZoneHealthOptions } from './zone-health.js'

/** createConnector's options with every default filled in, checked once. */
export interface ConnectorConfig {
  readonly targets: readonly ResolvedTarget[]
  readonly port: number
  /** Undefined: adaptive per zone. */
  readonly attemptDelayMs: number | undefined
  readonly connectTimeoutMs: number
  readonly tlsTimeoutMs: number
  readonly clock: () => number
  readonly dial: Dial
  readonly allowedRanges: readonly string[] | undefined
  readonly zoneHealth: ZoneHealthOptions
  readonly healthCheck: {
    /** 0: off (always with `profile: 'lambda'`). */
    readonly intervalMs: number
    /** Undefined: adaptive per zone. */
    readonly timeoutMs: number | undefined
    readonly handshake: HealthCheckOptions['handshake']
  }
  readonly tls: ConnectorTlsOptions | undefined
  /** 0: off (always with `profile: 'lambda'`). */
  readonly probeIntervalMs: number
  readonly resolver: Resolver | undefined
  /** Undefined: detect; null: unknown (zones ranked by measured connect time). */
  readonly locality: Locality | null | undefined
  /** Where the endpoint's shared zone health lives; false: this connector's own. */
  readonly healthRegistry: HealthRegistry | false
  /** How long the path keeps an idle flow. */
  readonly pathIdleTimeoutMs: number
  /** TCP keep-alive delay of every dialled socket; false: off. */
  readonly keepAliveDelayMs: number | false
}

/** One function, so connectors left on the default dial share health (the key holds its identity). */
const defaultDial: Dial = (target) => netConnect({ ...target, noDelay: true })

/** Every default and every check of createConnector's options: a bad one throws ERR_INVALID_OPTION. */
export function resolveConnectorOptions(options: ConnectorOptions): ConnectorConfig {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object', options)
  const targets = resolveTargets(options.endpoint)
  const port = integerOption('port', options.port, Number.NaN, 1)
  if (Number.isNaN(port) || port > 65_535)
    throw invalidOption('port', 'an integer from 1 to 65535', options.port)
  if (
    options.profile !== undefined &&
    options.profile !== 'default' &&
    options.profile !== 'lambda'
  )
    throw invalidOption('profile', "'default' or 'lambda'", options.profile)
  const lambda = options.profile === 'lambda'
  const attemptDelayMs =
    options.attemptDelayMs === undefined
      ? undefined
      : integerOption('attemptDelayMs', options.attemptDelayMs, 0, 0)
  const connectTimeoutMs = integerOption('connectTimeoutMs', options.connectTimeoutMs, 10_000, 1)
  const tlsTimeoutMs = integerOption('tlsTimeoutMs', options.tlsTimeoutMs, 10_000, 1)
  const clock = functionOption('clock', options.clock, Date.now)
  const idle = pathIdleOptions(options)
  const given = functionOption<Dial>('dial', options.dial, defaultDial)
  const dial = idle.keepAliveDelayMs === false ? given : keepAliveDial(given, idle.keepAliveDelayMs)
  const allowedRanges = rangesOption(options.allowedRanges)
  const ejection = options.ejection ?? {}
  const check = options.healthCheck ?? {}
  if (typeof ejection !== 'object' || ejection === null)
    throw invalidOption('ejection', 'an object', ejection)
  if (typeof check !== 'object' || check === null)
    throw invalidOption('healthCheck', 'an object', check)
  const healthCheck = healthCheckOption(check, lambda)
  const zoneHealth = zoneHealthOption(ejection, check)
  validateTls(options.tls, 'tls')
  for (const target of targets) validateTls(target.tls, `endpoint[${target.index}].tls`)
  return Object.freeze({
    targets: Object.freeze(targets),
    port,
    attemptDelayMs,
    connectTimeoutMs,
    tlsTimeoutMs,
    clock,
    dial,
    allowedRanges,
    zoneHealth,
    healthCheck,
    tls: options.tls,
    probeIntervalMs: lambda
      ? 0
      : integerOption('probeIntervalMs', options.probeIntervalMs, 600_000, 0),
    resolver: resolverOption(options.resolver),
    locality:
      options.locality === undefined || options.locality === null
        ? options.locality
        : localityOption('locality', options.locality),
    healthRegistry: registryOption(options.healthRegistry),
    ...idle,
  })
}

/**
 * `pathIdleTimeoutMs`, `keepAlive` and `keepAliveInitialDelayMs`: a keep-alive delay at or above
 * the path's timeout would let the path forget an idle connection before the first probe.
 */
function pathIdleOptions(
  options: ConnectorOptions,
): Pick<ConnectorConfig, 'pathIdleTimeoutMs' | 'keepAliveDelayMs'> {
  const pathIdleTimeoutMs = integerOption(
    'pathIdleTimeoutMs',
    options.pathIdleTimeoutMs,
    DEFAULT_PATH_IDLE_TIMEOUT_MS,
    // Above the shortest keep-alive delay the kernel takes (1 s).
    2_000,
  )
  if (options.keepAlive !== undefined && typeof options.keepAlive !== 'boolean')
    throw invalidOption('keepAlive', 'true or false', options.keepAlive)
  const delay = integerOption(
    'keepAliveInitialDelayMs',
    options.keepAliveInitialDelayMs,
    defaultKeepAliveDelayMs(pathIdleTimeoutMs),
    1_000,
  )
  if (delay >= pathIdleLimitMs(pathIdleTimeoutMs))
    throw crossesPathIdle(
      'keepAliveInitialDelayMs',
      delay,
      pathIdleTimeoutMs,
      `Leave 'keepAliveInitialDelayMs' out (default ${defaultKeepAliveDelayMs(pathIdleTimeoutMs)} ms) or pass a value well below the path's timeout.`,
    )
  return { pathIdleTimeoutMs, keepAliveDelayMs: options.keepAlive === false ? false : delay }
}

function healthCheckOption(
  check: HealthCheckOptions,
  lambda: boolean,
): ConnectorConfig['healthCheck'] {
  const intervalMs = lambda
    ? 0
    : integerOption('healthCheck.intervalMs', check.intervalMs, 2_000, 0)
  const timeoutMs =
    check.timeoutMs === undefined
      ? undefined
      : integerOption('healthCheck.timeoutMs', check.timeoutMs, 1_000, 1)
  const handshake =
    check.handshake === undefined
      ? undefined
      : functionOption<NonNullable<HealthCheckOptions['handshake']>>(
          'healthCheck.handshake',
          check.handshake,
          async () => {},
        )
  return Object.freeze({ intervalMs, timeoutMs, handshake })
}

function zoneHealthOption(
  ejection: NonNullable<ConnectorOptions['ejection']>,
  check: HealthCheckOptions,
): ZoneHealthOptions {
  return Object.freeze({
    baseMs: integerOption('ejection.baseMs', ejection.baseMs, 1_000, 1),
    maxMs: integerOption('ejection.maxMs', ejection.maxMs, 60_000, 1),
    consecutiveFailures: integerOption(
      'ejection.consecutiveFailures',
      ejection.consecutiveFailures,
      3,
      1,
    ),
    maxEjectedPercent: maxEjectedPercentOption(ejection.maxEjectedPercent),
    decayMs: integerOption('ejection.decayMs', ejection.decayMs, 30_000, 1),
    unhealthyThreshold: integerOption(
      'healthCheck.unhealthyThreshold',
      check.unhealthyThreshold,
      2,
      1,
    ),
  })
}

function maxEjectedPercentOption(value: unknown): number {
  const percent = integerOption('ejection.maxEjectedPercent', value, 50, 0)
  if (percent > 100)
    throw invalidOption('ejection.maxEjectedPercent', 'an integer from 0 to 100', percent)
  return percent
}

function registryOption(value: unknown): HealthRegistry | false {
  if (value === undefined) return processHealthRegistry
  if (value === false || value instanceof HealthRegistry) return value
  throw invalidOption(
    'healthRegistry',
    'a HealthRegistry (new HealthRegistry()), or false for health of its own',
    value,
  )
}

/** A Resolver (createResolver's), or undefined for the connector's own. */
function resolverOption(value: unknown): Resolver | undefined {
  if (value === undefined) return undefined
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Partial<Resolver>).resolve !== 'function'
  )
    throw invalidOption('resolver', 'a Resolver (createResolver from @privatelink/dns)', value)
  return value as Resolver
}

/** `allowedRanges`, checked now: a typo throws here, naming the value, instead of widening the guard. */
function rangesOption(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) throw invalidOption('allowedRanges', 'an array of CIDR strings', value)
  const ranges = [...value] as string[]
  createAddressMatcher(ranges, 'allowedRanges')
  return ranges
}

function resolveTargets(value: unknown): ResolvedTarget[] {
  const expected =
    'an Endpoint with at least one zone (discoverEndpoint or endpointFromConfig), or a non-empty array of { endpoint }'
  const shape = { nonEmpty: true, dialable: true }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    assertEndpoint(value, 'endpoint', shape)
    return [resolveTarget({ endpoint: value }, 0)]
  }
  if (!Array.isArray(value) || value.length === 0) throw invalidOption('endpoint', expected, value)
  const targets = value.map((target: unknown, index) => {
    if (typeof target !== 'object' || target === null)
      throw invalidOption(`endpoint[${index}].endpoint`, expected, target)
    assertEndpoint((target as ConnectorTarget).endpoint, `endpoint[${index}].endpoint`, shape)
    return resolveTarget(target as ConnectorTarget, index)
  })
  const names = new Set<string>()
  for (const target of targets) {
    if (names.has(target.name)) target.name = `${target.name}#${target.index}`
    names.add(target.name)
  }
  return targets
}

function resolveTarget(target: ConnectorTarget, index: number): ResolvedTarget {
  if (target.region !== undefined && typeof target.region !== 'string')
    throw invalidOption(`endpoint[${index}].region`, 'a region name', target.region)
  const region = target.region ?? target.endpoint.serviceRegion ?? target.endpoint.region
  if (target.name !== undefined && (typeof target.name !== 'string' || target.name === ''))
    throw invalidOption(`endpoint[${index}].name`, 'a non-empty string', target.name)
  return {
    index,
    name: target.name ?? region,
    endpoint: target.endpoint,
    region,
    ...(target.tls !== undefined ? { tls: target.tls } : {}),
  }
}
