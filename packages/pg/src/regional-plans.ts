import { invalidSecretOption } from '@privatelink/base'
import {
  type Connector,
  type ConnectorTarget,
  createConnector,
  type Endpoint,
  invalidOption,
} from '@privatelink/core'
import { type ConnectionPlan, connectionPlan } from './connection-plan.js'
import {
  type PgFailoverTarget,
  type PrivateLinkPgOptions,
  readEndpoint,
  type ValidatedOptions,
} from './options.js'
import { streamTlsOf } from './plan-stream-context.js'
import { checkHandshake } from './probe-handshake.js'
import { readable, readField, readOptions } from './read-options.js'

const isEndpoint = (value: unknown): value is Endpoint =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as Endpoint).zones) &&
  typeof (value as Endpoint).region === 'string' &&
  typeof (value as { connect?: unknown }).connect !== 'function'

export interface RegionalPlans {
  /** One per target, in priority order. */
  plans: ConnectionPlan[]
  /** The connector over every target. */
  connector: Connector
  /** The plan of the target new connections go to now. */
  active(): ConnectionPlan
  close(): void
}

/**
 * One connector over every target (priority groups, core's connector) and one connection plan
 * per target: its own proxyHost, region and token provider.
 */
export function regionalPlans(
  options: PrivateLinkPgOptions,
  pgDefaults: Record<string, unknown>,
): RegionalPlans {
  const given: unknown = options.failover
  if (!readable(given) || !Array.isArray(given) || given.length === 0)
    throw invalidSecretOption(
      'failover',
      'a non-empty array of { endpoint, proxyHost, region? }',
      given,
    )
  readEndpoint(options.endpoint, 'endpoint')
  // Each target read once into a plain object (a bad getter is ERR_INVALID_OPTION naming it).
  const failover = Array.from({ length: given.length }, (_, index) => {
    const name = `failover[${index}]`
    const target = readField(given, String(index), name)
    const copy = readOptions(target, name, '{ endpoint, proxyHost, region?, credentials? }')
    readEndpoint(copy['endpoint'], `${name}.endpoint`)
    return copy as unknown as PgFailoverTarget
  })
  if (!isEndpoint(options.endpoint))
    throw invalidOption(
      'endpoint',
      'an Endpoint (discoverEndpoint / endpointFromConfig) when failover is set',
      typeof options.endpoint === 'string' ? options.endpoint : '[object]',
    )
  failover.forEach((target: PgFailoverTarget, index) => {
    if (!isEndpoint(target.endpoint))
      throw invalidSecretOption(`failover[${index}].endpoint`, 'an Endpoint', target.endpoint)
    if (typeof target.proxyHost !== 'string' || !/^[a-z0-9.-]+$/i.test(target.proxyHost))
      throw invalidOption(
        `failover[${index}].proxyHost`,
        'the RDS Proxy endpoint name',
        target.proxyHost,
      )
  })
  if (options.tokenProvider !== undefined)
    throw invalidOption(
      'tokenProvider',
      'nothing when failover is set (each target signs for its own proxy)',
      '[provider]',
    )
  const targets: PgFailoverTarget[] = [
    {
      endpoint: options.endpoint,
      proxyHost: options.proxyHost,
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    },
    ...failover,
  ].map((target) => ({
    ...target,
    region: target.region ?? target.endpoint.serviceRegion ?? target.endpoint.region,
  }))
  // Checked again, with the rest, by each target's plan; read here for the checks' identity.
  const sslGiven = readOptions(options.ssl ?? {}, 'ssl', '{ ca?, insecure? }')
  const ssl = {
    insecure: (sslGiven['insecure'] ?? false) as ValidatedOptions['insecure'],
    ca: sslGiven['ca'] as ValidatedOptions['ca'],
  }
  const connectorTargets: ConnectorTarget[] = targets.map((target) => ({
    endpoint: target.endpoint,
    region: target.region,
  }))
  let plans: ConnectionPlan[] = []
  const shared = createConnector({
    ...(options.connectorOptions ?? {}),
    // SSLRequest and TLS with the proxy name of the target the check reached.
    healthCheck: {
      ...options.connectorOptions?.healthCheck,
      handshake: checkHandshake(
        targets.map((target) => streamTlsOf({ ...ssl, proxyHost: target.proxyHost.toLowerCase() })),
        (index) => plans[index]!.streamContext.tls,
      ),
    },
    endpoint: connectorTargets,
    port: options.port ?? 5432,
    profile: options.profile ?? 'default',
  })
  // Every plan dials through the shared connector, whose race crosses targets; the stream then
  // verifies, and the password signs for, the proxy of the target the socket reached.
  plans = targets.map((target) =>
    connectionPlan(
      {
        ...options,
        failover: undefined,
        endpoint: undefined,
        connector: shared,
        connectorOptions: undefined,
        proxyHost: target.proxyHost,
        region: target.region,
        ...(target.credentials === undefined ? {} : { credentials: target.credentials }),
      },
      pgDefaults,
    ),
  )
  return {
    plans,
    connector: shared,
    active: () => plans[shared.activeTarget().index]!,
    close: () => shared.close(),
  }
}
