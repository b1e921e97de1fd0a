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
import { isConnector } from './vocabulary.js'

/** `connectorOptions`: settings of the connector made from `endpoint` (not with a shared Connector). */
export type ConnectorSettings = Omit<ConnectorOptions, 'endpoint' | 'port' | 'tls' | 'profile'>

export interface EndpointSource {
  /** The connector, built on first use for a regional DNS name (its zones come from DNS). */
  connector(): Connector | Promise<Connector>
  /**
   * The region tokens are signed for, as the endpoint tells it: a cross-region endpoint's
   * service region (the proxy's), else the endpoint's region; undefined when it names none.
   */
  region: string | undefined
  /** Stops the connector's background work if this source created it. */
  close(): void
}

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
    // The connector resolved its first target's signing region (serviceRegion ?? region).
    const region = endpoint.targets?.[0]?.region ?? signingRegion(endpoint.endpoint)
    return { connector: () => endpoint, region, close: () => {} }
  }
  const build = (model: Endpoint) =>
    createConnector({ ...settings, endpoint: model, port, profile })
  if (typeof endpoint === 'string') {
    const parsed = parseEndpointDnsName(endpoint)
    if (parsed.kind === 'execute-api-alias')
      throw invalidOption('endpoint', 'a vpce DNS name (not an execute-api alias)', endpoint)
    const dnsName = endpoint.trim().toLowerCase().replace(/\.$/, '')
    if (parsed.kind === 'zonal') {
      // One zone, its addresses resolved by the connector when it dials.
      const connector = build({
        id: parsed.endpointId,
        region: parsed.region,
        dnsName,
        zones: [{ azName: parsed.azName, dnsName, addresses: [] }],
      })
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
            built = build({ id: parsed.endpointId, region: parsed.region, dnsName, zones })
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
  if (typeof endpoint !== 'object' || endpoint === null || !Array.isArray(endpoint.zones)) {
    throw invalidOption(
      'endpoint',
      'an Endpoint (discoverEndpoint / endpointFromConfig), a Connector, or the vpce DNS name',
      endpoint,
    )
  }
  const connector = build(endpoint)
  return {
    connector: () => connector,
    region: signingRegion(endpoint),
    close: () => connector.close(),
  }
}

/** A cross-region endpoint's service is in `serviceRegion`: tokens are scoped to it, not the ENIs' region. */
const signingRegion = (endpoint: Endpoint): string => endpoint.serviceRegion ?? endpoint.region

/**
 * The zones of a regional endpoint name, from DNS alone: each zone has a zonal name
 * (`<regional id part>-<az name>.<rest>`), so the names that resolve are the zones.
 */
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
        // NXDOMAIN is the expected answer for zones the endpoint is not in; other errors too
        // mean "not usable". A guard refusal (public answer) must surface, though.
        if (PrivateLinkError.isInstance(error) && error.code !== 'ERR_DNS_NOT_FOUND') throw error
        return undefined
      }
    }),
  )
  const zones = found.filter((zone): zone is EndpointZone => zone !== undefined)
  if (zones.length === 0) {
    throw new PrivateLinkError(
      'ERR_PG_NO_ZONES',
      `No zonal DNS name of ${regionalName} resolves, so its zones are unknown`,
      {
        hint: 'Pass an Endpoint (endpointFromConfig with each zone and its AZ ID, or discoverEndpoint) instead of the DNS name, or check that this code runs in the VPC of the endpoint.',
        details: { dnsName: regionalName },
      },
    )
  }
  return zones
}
