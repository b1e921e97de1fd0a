import {
  type Connector,
  type ConnectorOptions,
  type ConnectorTarget,
  createConnector,
  type Endpoint,
  invalidOption,
} from '@privatelink/core'
import { checkOptions } from '@privatelink/dns'

/** Settings for a connector the dispatcher or agent makes itself (see @privatelink/core). */
export type HttpConnectorSettings = Omit<ConnectorOptions, 'endpoint' | 'port' | 'tls'>

/** The older top-level spellings of connector settings, still read. */
export const FLAT_CONNECTOR_SETTINGS = [
  'locality',
  'attemptDelayMs',
  'connectTimeoutMs',
  'tlsTimeoutMs',
  'ejection',
  'healthCheck',
  'profile',
  'resolver',
  'clock',
] as const

/** What the http adapters read to find their connector. */
export interface ConnectorSourceOptions {
  endpoint?: Endpoint | readonly ConnectorTarget[] | Connector
  connector?: Connector
  connectorOptions?: HttpConnectorSettings
}

const DEPRECATED_CONNECTOR_AS_ENDPOINT = 'PRIVATELINK_DEP_HTTP_CONNECTOR_AS_ENDPOINT'
let warnedConnectorAsEndpoint = false

export const isConnector = (value: unknown): value is Connector =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Connector).connect === 'function' &&
  'undici' in value

/**
 * The connector to use and whether we made it (and so close it). `connector` is shared as is;
 * else one is made from `endpoint` with `connectorOptions` over the older flattened settings. A
 * Connector passed as `endpoint` (the older spelling) still works, with one warning per process.
 */
export function connectorFrom(
  options: ConnectorSourceOptions,
  port: number,
): { connector: Connector; owns: boolean } {
  const { endpoint, connector: shared, connectorOptions } = options
  if (shared !== undefined) {
    if (!isConnector(shared))
      throw invalidOption(
        'connector',
        'a Connector from createConnector (@privatelink/core)',
        shared,
      )
    if (endpoint !== undefined || connectorOptions !== undefined)
      throw invalidOption(
        endpoint !== undefined ? 'endpoint' : 'connectorOptions',
        'nothing when connector is given: the shared connector already knows its endpoint and settings',
        endpoint !== undefined ? endpoint : connectorOptions,
      )
    return { connector: shared, owns: false }
  }
  if (isConnector(endpoint)) {
    if (!warnedConnectorAsEndpoint) {
      warnedConnectorAsEndpoint = true
      process.emitWarning(
        'privatelink/http: a Connector passed as `endpoint` is deprecated; pass it as `connector` (`endpoint` is what to reach: an Endpoint or targets).',
        { type: 'DeprecationWarning', code: DEPRECATED_CONNECTOR_AS_ENDPOINT },
      )
    }
    if (connectorOptions !== undefined)
      throw invalidOption(
        'connectorOptions',
        'nothing with a shared Connector: it already has its settings',
        connectorOptions,
      )
    return { connector: endpoint, owns: false }
  }
  if (endpoint === undefined)
    throw invalidOption(
      'endpoint',
      'an Endpoint (discoverEndpoint / endpointFromConfig) or targets in priority order, or a Connector passed as connector',
      endpoint,
    )
  if (
    connectorOptions !== undefined &&
    (typeof connectorOptions !== 'object' || connectorOptions === null)
  )
    throw invalidOption('connectorOptions', 'an object of connector settings', connectorOptions)
  const settings: Record<string, unknown> = {}
  const flat = options as Record<string, unknown>
  for (const name of FLAT_CONNECTOR_SETTINGS)
    if (flat[name] !== undefined) settings[name] = flat[name]
  return {
    connector: createConnector({
      ...settings,
      ...connectorOptions,
      endpoint,
      port,
    } as ConnectorOptions),
    owns: true,
  }
}

/**
 * Every option checked, every default applied: `rest` reads what is not the connector. A value
 * that throws when read (a revoked Proxy, a throwing getter) is ERR_INVALID_OPTION naming it, and
 * a connector made here is closed again when a later option is refused.
 */
export function resolveWithConnector<O extends ConnectorSourceOptions, T>(
  options: O,
  port: number,
  rest: (options: O, connector: Connector) => T,
): T & { connector: Connector; ownsConnector: boolean } {
  checkOptions('options', options, () => undefined)
  let made: Connector | undefined
  try {
    if (typeof options !== 'object' || options === null)
      throw invalidOption('options', 'an object', options)
    const { connector, owns } = connectorFrom(options, port)
    if (owns) made = connector
    return { connector, ownsConnector: owns, ...rest(options, connector) }
  } catch (error) {
    made?.close()
    throw asOptionError(options, error)
  }
}

/** A raw error met while reading the options, as ERR_INVALID_OPTION naming what threw. */
function asOptionError(options: unknown, error: unknown): unknown {
  try {
    checkOptions('options', options, () => {
      throw error
    })
  } catch (converted) {
    return converted
  }
  return error
}
