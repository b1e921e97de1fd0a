import {
  type Connector,
  type ConnectorTarget,
  type Endpoint,
  integerOption,
  invalidOption,
} from '@privatelink/core'
import { type HttpConnectorSettings, resolveWithConnector } from './connector-source.js'
import { keepAliveTimeouts, pathIdleOf } from './keep-alive-timeouts.js'
import { type TargetConfig, targetOptions } from './target-options.js'

/** Options of {@link createEndpointAgent} and {@link createEndpointHttpAgent}; each is validated at construction. */
export interface EndpointAgentOptions {
  /** What to reach: the endpoint (discoverEndpoint / endpointFromConfig) or targets in priority order. Not with `connector`. */
  endpoint?: Endpoint | readonly ConnectorTarget[]
  /**
   * A Connector from `createConnector` (@privatelink/core) to share with other clients of the
   * endpoint (an endpoint dispatcher, a pg pool): one zone health. Never closed by the agent.
   * @default one made from `endpoint` and `connectorOptions`, closed by `destroy()`
   */
  connector?: Connector
  /** Settings for the connector made from `endpoint` (locality, ejection, healthCheck, ...; see @privatelink/core). @default {} */
  connectorOptions?: HttpConnectorSettings
  /** Hostnames pinned to the endpoint; a request for another fails with ERR_ORIGIN_NOT_PINNED. @default the endpoint's private DNS name and its vpce names */
  origins?: string[]
  /** Name the certificate must carry and SNI sends. @default each request's hostname (its Host header) */
  servername?: string
  /** Extra CA certificates (PEM); Node's roots (Amazon Trust Services included) are kept. */
  ca?: string | string[]
  /**
   * Idle keep-alive sockets close after this long (Node's agent `timeout`). Must stay below four
   * fifths of the path's idle timeout (the connector's `pathIdleTimeoutMs`, 350 s): refused with a
   * hint otherwise. @default 4000
   */
  keepAliveTimeoutMs?: number
  /** Sockets per origin, all zones together (Node's agent `maxSockets`). @default unlimited */
  maxSockets?: number
  /** Sending a request again on another zone when its socket is lost before any response byte. */
  retry?: {
    /** Times one request is sent again. @default 2 */
    maxRetries?: number
    /** Methods sent again once written (before any byte, every method is). @default GET HEAD OPTIONS PUT DELETE TRACE */
    methods?: string[]
    /** A request (headers and body) larger than this is not kept for a replay. @default 1048576 */
    maxBufferedBytes?: number
  }
  /**
   * A request that has received no byte for this long asks the connector for a health check of
   * every zone now (at most once a second), so a zone that dies under keep-alive traffic is
   * ejected, and its requests moved, within one check timeout. 0 turns it off. @default 500
   */
  stallCheckMs?: number
}

/** The options, checked and with their defaults. */
export interface AgentConfig extends TargetConfig {
  connector: Connector
  ownsConnector: boolean
  keepAliveTimeoutMs: number
  maxSockets: number | undefined
  methods: ReadonlySet<string>
  maxRetries: number
  maxBufferedBytes: number
  stallMs: number
}

function checkRest(
  options: EndpointAgentOptions,
  connector: Connector,
): Omit<AgentConfig, 'connector' | 'ownsConnector'> {
  const retry = options.retry ?? {}
  if (typeof retry !== 'object' || retry === null) throw invalidOption('retry', 'an object', retry)
  const methods = retry.methods ?? ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']
  if (!Array.isArray(methods) || methods.some((m) => typeof m !== 'string'))
    throw invalidOption('retry.methods', 'an array of HTTP methods', methods)
  const maxSockets = options.maxSockets
  if (maxSockets !== undefined) integerOption('maxSockets', maxSockets, 1, 1)
  const lambda = options.connectorOptions?.profile === 'lambda'
  return {
    ...targetOptions(options, connector),
    // Under the path's idle timeout, as the dispatcher's (a longer value is refused with a hint).
    keepAliveTimeoutMs: keepAliveTimeouts(options.keepAliveTimeoutMs, pathIdleOf(connector))
      .keepAliveTimeout,
    maxSockets,
    methods: new Set(methods.map((m) => m.toUpperCase())),
    maxRetries: integerOption('retry.maxRetries', retry.maxRetries, 2, 0),
    maxBufferedBytes: integerOption('retry.maxBufferedBytes', retry.maxBufferedBytes, 1 << 20, 0),
    stallMs: integerOption('stallCheckMs', options.stallCheckMs, lambda ? 0 : 500, 0),
  }
}

/** Every option checked, every default applied. */
export function resolveAgentOptions(options: EndpointAgentOptions, port: number): AgentConfig {
  return resolveWithConnector(options, port, checkRest)
}
