import {
  type Connector,
  type ConnectorOptions,
  createConnector,
  type Endpoint,
  type EndpointZone,
  invalidOption,
  PrivateLinkError,
  parseEndpointDnsName,
} from '@privatelink/core'
import { createResolver } from '@privatelink/dns'

/** `connectorOptions`: settings of the connector made from `endpoint` (not with a shared Connector). */
export type ConnectorSettings = Omit<ConnectorOptions, 'endpoint' | 'port' | 'tls' | 'profile'>

/** The connector behind a pool, and the region its endpoint names. */
export interface EndpointSource {
  /** The connector, built on first use for a regional DNS name (its zones come from DNS). */
  connector(): Connector | Promise<Connector>
  /** The service region the endpoint names (a cross-region endpoint's `serviceRegion`). */
  region: string | undefined
  /** Stops the connector's background work if this source created it. */
  close(): void
}

/** Duck-typed: a Connector from another copy of core is accepted too. */
export const isConnector = (value: unknown): value is Connector =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Connector).connect === 'function' &&
  typeof (value as Connector).watch === 'function'

// AZ letters tried for a regional name: no region has more than six zones.
const AZ_LETTERS = ['a', 'b', 'c', 'd', 'e', 'f']

/** Turns `endpoint` (Endpoint, Connector or vpce DNS name) into a connector for `port`. */
export function endpointSource(
  endpoint: Endpoint | Connector | string,
  port: number,
  profile: 'default' | 'lambda',
  settings: ConnectorSettings,
): EndpointSource {
  if (isConnector(endpoint)) {
    const region = endpoint.targets?.[0]?.region ?? signingRegion(endpoint.endpoint)
    return { connector: () => endpoint, region, close: () => {} }
  }
  const build = (model: Endpoint) =>
    createConnector({ ...settings, endpoint: model, port, profile })
  if (typeof endpoint !== 'string') {
    const connector = build(endpoint)
    return {
      connector: () => connector,
      region: signingRegion(endpoint),
      close: () => connector.close(),
    }
  }
  const parsed = parseEndpointDnsName(endpoint)
  if (parsed.kind === 'execute-api-alias')
    throw invalidOption('endpoint', 'a vpce DNS name (not an execute-api alias)', endpoint)
  const dnsName = endpoint.trim().toLowerCase().replace(/\.$/, '')
  const id = parsed.endpointId
  if (parsed.kind === 'zonal') {
    // One zone; the connector resolves its addresses when it dials.
    const zones = [{ azName: parsed.azName, dnsName, addresses: [] }]
    const connector = build({ id, region: parsed.region, dnsName, zones })
    return { connector: () => connector, region: parsed.region, close: () => connector.close() }
  }
  let pending: Promise<Connector> | undefined
  let built: Connector | undefined
  let closed = false
  return {
    region: parsed.region,
    connector: () => {
      if (built !== undefined) return built
      pending ??= discoverZones(dnsName, parsed.region, settings).then(
        (zones) => {
          built = build({ id, region: parsed.region, dnsName, zones })
          if (closed) built.close()
          return built
        },
        (error: unknown) => {
          pending = undefined
          throw error
        },
      )
      return pending
    },
    close: () => {
      closed = true
      built?.close()
    },
  }
}

/** Tokens are scoped to the service's region: a cross-region endpoint's, else the endpoint's. */
const signingRegion = (endpoint: Endpoint | undefined): string | undefined =>
  endpoint === undefined ? undefined : (endpoint.serviceRegion ?? endpoint.region)

/** A regional name's zones from DNS alone: the zonal names (`<id part>-<az>.<rest>`) that resolve. */
async function discoverZones(
  regionalName: string,
  region: string,
  settings: ConnectorSettings,
): Promise<EndpointZone[]> {
  const resolver = settings.resolver ?? createResolver()
  const [head, ...rest] = regionalName.split('.')
  const found = await Promise.all(
    AZ_LETTERS.map(async (letter): Promise<EndpointZone | undefined> => {
      const azName = `${region}${letter}`
      const dnsName = [`${head}-${azName}`, ...rest].join('.')
      try {
        const resolution = await resolver.resolve(dnsName)
        return { azName, dnsName, addresses: resolution.addresses.map((a) => a.address) }
      } catch (error) {
        // NXDOMAIN: the endpoint has no interface there. A guard refusal must surface.
        if (PrivateLinkError.isInstance(error) && error.code !== 'ERR_DNS_NOT_FOUND') throw error
        return undefined
      }
    }),
  )
  const zones = found.filter((zone): zone is EndpointZone => zone !== undefined)
  if (zones.length > 0) return zones
  throw new PrivateLinkError(
    'ERR_MYSQL_NO_ZONES',
    `No zonal DNS name of ${regionalName} resolves, so its zones are unknown`,
    {
      hint: 'Pass an Endpoint (endpointFromConfig with each zone and its AZ ID, or discoverEndpoint) instead of the DNS name, or check that this code runs in the VPC of the endpoint.',
      details: { dnsName: regionalName },
    },
  )
}
