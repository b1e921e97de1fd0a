import { invalidOption } from '@privatelink/dns'
import type { ConnectOptions, ResolvedTarget } from './connector-types.js'
import { integerOption, signalOption, stringOption } from './options.js'
import { type ConnectorTlsOptions, validateTls } from './tls-upgrade.js'
import type { ZoneEntry, ZoneTable } from './zone-table.js'

/** One connect()'s options, read once and checked: a bad one rejects the connect at once. */
export function readConnectOptions(given: unknown): ConnectOptions {
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw invalidOption('connect(options)', 'an object', given)
  const options = { ...(given as ConnectOptions) }
  if (options.port !== undefined) {
    const port = integerOption('port', options.port, 0, 1)
    if (port > 65_535) throw invalidOption('port', 'an integer from 1 to 65535', options.port)
  }
  signalOption('signal', options.signal)
  stringOption('preferZone', options.preferZone, 'a zone key, AZ name or AZ ID')
  stringOption('onlyZone', options.onlyZone, 'a zone key, AZ name or AZ ID')
  if (
    options.target !== undefined &&
    typeof options.target !== 'string' &&
    !Number.isInteger(options.target)
  )
    throw invalidOption('target', "a target's name or index", options.target)
  if (options.tls !== undefined && options.tls !== false)
    validateTls(options.tls, 'connect({ tls })')
  if (options.upgrade !== undefined) {
    if (typeof options.upgrade !== 'function')
      throw invalidOption(
        'connect({ upgrade })',
        'a function (socket, { zone, target, signal }) => Promise<Socket>',
        options.upgrade,
      )
    if (options.tls !== undefined && options.tls !== false)
      throw invalidOption(
        'connect({ tls })',
        'nothing or false with upgrade (the upgrade does the TLS)',
        options.tls,
      )
  }
  return options
}

/** The TLS a connect uses in a zone: its own, else the zone's target's, else the connector's. */
export function tlsChoice(
  options: ConnectOptions,
  connectorTls: ConnectorTlsOptions | undefined,
): {
  /** Per zone; undefined: plain TCP, or the upgrade does the TLS. */
  inZone: (entry: ZoneEntry) => ConnectorTlsOptions | undefined
  /** What the port's health checks do: TLS, or (undefined) plain / the check's own handshake. */
  forChecks: ConnectorTlsOptions | undefined
} {
  const plain = options.tls === false || options.upgrade !== undefined
  return {
    inZone: (entry) =>
      plain || options.tls === false
        ? undefined
        : (options.tls ?? entry.target.tls ?? connectorTls),
    forChecks:
      options.upgrade !== undefined
        ? undefined
        : options.tls === undefined
          ? connectorTls
          : options.tls || undefined,
  }
}

/**
 * The zones one connect may dial, in order: the route's race, narrowed to a target, to one
 * zone (`onlyZone`, ejected or not) or with one zone moved first (`preferZone`, if in the race).
 */
export function zonesFor(
  options: ConnectOptions,
  race: readonly ZoneEntry[],
  table: ZoneTable,
  targets: readonly ResolvedTarget[],
): readonly ZoneEntry[] {
  let zones = race
  if (options.target !== undefined) {
    const name = options.target
    const target = typeof name === 'number' ? targets[name] : targets.find((t) => t.name === name)
    if (target === undefined)
      throw invalidOption('target', `one of ${targets.map((t) => t.name).join(', ')}`, name)
    zones = zones.filter((entry) => entry.target === target)
  }
  if (options.onlyZone !== undefined) {
    const only = table.find(options.onlyZone)
    if (only === undefined)
      throw invalidOption('onlyZone', `a zone of ${table.primary.endpoint.id}`, options.onlyZone)
    return [only]
  }
  const name = options.preferZone
  if (name === undefined) return zones
  const preferred = zones.find(
    (entry) => entry.key === name || entry.zone.azName === name || entry.zone.azId === name,
  )
  return preferred === undefined
    ? zones
    : [preferred, ...zones.filter((entry) => entry !== preferred)]
}
