import { invalidSecretOption } from '@privatelink/base'
import type { Connector, Endpoint } from '@privatelink/core'
import { invalidOption } from '@privatelink/core'
import { readable, readField } from './read-options.js'

// One vocabulary across adapters: `endpoint` is what to reach, `connector` a Connector to share,
// `connectorOptions` the settings of the connector the adapter makes itself. pg's older spellings
// (`endpoint: Connector`, `connector: { settings }`) are translated here, once, with a warning.

/** A Connector from createConnector (a settings object has no `connect` function). */
export const isConnector = (value: unknown): value is Connector =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { connect?: unknown }).connect === 'function' &&
  typeof (value as { zoneOf?: unknown }).zoneOf === 'function'

const DEPRECATED = {
  endpoint: {
    code: 'PRIVATELINK_DEP_PG_ENDPOINT_CONNECTOR',
    message:
      'privatelink/pg: a Connector passed as `endpoint` is deprecated: pass it as `connector` (endpoint is an Endpoint or the vpce DNS name).',
  },
  connector: {
    code: 'PRIVATELINK_DEP_PG_CONNECTOR_SETTINGS',
    message:
      'privatelink/pg: connector settings passed as `connector` are deprecated: pass them as `connectorOptions` (connector is a Connector to share).',
  },
} as const

const warned = new Set<keyof typeof DEPRECATED>()

/** Once per process and spelling: the old spelling keeps working, and someone should see it. */
function warnDeprecated(spelling: keyof typeof DEPRECATED): void {
  if (warned.has(spelling)) return
  warned.add(spelling)
  const { message, code } = DEPRECATED[spelling]
  process.emitWarning(message, { type: 'DeprecationWarning', code })
}

/** Whether a value read from the options has a `connect` function (read safely). */
function hasConnect(value: unknown, option: string): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (!readable(value)) throw invalidSecretOption(option, 'an Endpoint or a Connector', value)
  return typeof readField(value, 'connect', `${option}.connect`) === 'function'
}

const isSettingsObject = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The options (a plain copy, already read) in the current vocabulary: a Connector in `connector`
 * only, settings in `connectorOptions` only. Contradictions are ERR_INVALID_OPTION at the call.
 */
export function withCurrentVocabulary(options: Record<string, unknown>): Record<string, unknown> {
  const next = { ...options }
  if (hasConnect(next['endpoint'], 'endpoint')) {
    const settings = next['connector']
    if (
      settings !== undefined &&
      isSettingsObject(settings) &&
      !hasConnect(settings, 'connector')
    ) {
      // The old pair (a Connector as endpoint, settings as connector): the settings were
      // documented as ignored for a Connector, and still are.
      warnDeprecated('connector')
      next['connector'] = undefined
    }
    if (next['connector'] !== undefined)
      throw invalidOption(
        'endpoint',
        'an Endpoint or the vpce DNS name when connector is given',
        '[connector]',
      )
    warnDeprecated('endpoint')
    next['connector'] = next['endpoint']
    next['endpoint'] = undefined
  } else if (next['connector'] !== undefined && !hasConnect(next['connector'], 'connector')) {
    if (!isSettingsObject(next['connector']))
      throw invalidSecretOption('connector', 'a Connector from createConnector', next['connector'])
    if (next['connectorOptions'] !== undefined)
      throw invalidOption(
        'connector',
        'a Connector from createConnector (settings go in connectorOptions, which is given too)',
        '[settings]',
      )
    warnDeprecated('connector')
    next['connectorOptions'] = next['connector']
    next['connector'] = undefined
  }
  const connector = next['connector']
  if (connector === undefined) return next
  if (next['connectorOptions'] !== undefined)
    throw invalidOption(
      'connectorOptions',
      'nothing when connector is given (a shared Connector keeps its own settings)',
      '[settings]',
    )
  if (next['failover'] !== undefined)
    throw invalidOption(
      'connector',
      'nothing when failover is set (the pool makes one connector over every target)',
      '[connector]',
    )
  const endpoint = next['endpoint']
  if (endpoint !== undefined && !sameEndpoint(endpoint, connector as Connector))
    throw invalidOption(
      'endpoint',
      "nothing, or the shared connector's own endpoint (the connector decides where to connect)",
      typeof endpoint === 'string' ? endpoint : '[another endpoint]',
    )
  return next
}

/** `endpoint` names the connector's own endpoint (the object, its ID, or its DNS name). */
function sameEndpoint(endpoint: unknown, connector: Connector): boolean {
  const own = readField(connector, 'endpoint', 'connector.endpoint') as Endpoint | undefined
  if (own === undefined || endpoint === own) return own !== undefined
  if (typeof endpoint === 'string')
    return endpoint.trim().toLowerCase().replace(/\.$/, '') === own.dnsName
  return typeof endpoint === 'object' && endpoint !== null && (endpoint as Endpoint).id === own.id
}
