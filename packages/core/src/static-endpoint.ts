import { invalidOption, PrivateLinkError } from '@privatelink/dns'
import { parseEndpointDnsName, zonalDnsName } from './endpoint-dns-name.js'
import { assertEndpointId } from './endpoint-id.js'
import type { Endpoint, EndpointZone } from './model.js'
import { isAzNameOf } from './region.js'

export interface StaticZoneConfig {
  azName: string
  azId?: string
  /** The ENI's private IPs; when absent the connector resolves the zonal DNS name. */
  addresses?: string[]
  dnsName?: string
  subnetId?: string
  networkInterfaceId?: string
  portMap?: Record<string, number>
}

export interface StaticEndpointConfig {
  /** The regional DNS name (`vpce-<id>-<suffix>.<service>.<region>.vpce.amazonaws.com`). */
  dnsName: string
  zones: StaticZoneConfig[]
  /** Taken from `dnsName` when absent. */
  id?: string
  serviceName?: string
  privateDnsName?: string
  vpcId?: string
  state?: string
}

function configError(why: string, input: unknown): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_INVALID_ENDPOINT_CONFIG',
    `Invalid endpoint configuration: ${why}`,
    {
      hint: 'Pass { dnsName, zones: [{ azName, azId?, addresses? }] }, or the JSON that `privatelink describe --json` prints.',
      details: { input: typeof input === 'string' ? input.slice(0, 200) : typeof input },
    },
  )
}

/**
 * An endpoint without calling AWS (Lambda cold starts, locked-down roles): from the regional name
 * and the zones, deriving each zonal name; or from the JSON `privatelink describe --json` prints.
 */
export function endpointFromConfig(config: StaticEndpointConfig | string): Endpoint {
  let value: unknown = config
  if (typeof config === 'string') {
    try {
      value = JSON.parse(config)
    } catch (cause) {
      throw Object.assign(configError('not valid JSON', config), { cause })
    }
  }
  if (typeof value !== 'object' || value === null) throw configError('expected an object', value)
  const input = value as Partial<StaticEndpointConfig> & { region?: string }
  if (typeof input.dnsName !== 'string')
    throw invalidOption('dnsName', 'the regional DNS name of the endpoint', input.dnsName)
  const parsed = parseEndpointDnsName(input.dnsName)
  if (parsed.kind !== 'regional')
    throw invalidOption('dnsName', 'the regional (not zonal) DNS name', input.dnsName)
  const id = assertEndpointId(input.id ?? parsed.endpointId, 'id')
  if (id !== parsed.endpointId)
    throw configError(`id ${id} does not match dnsName ${input.dnsName}`, value)
  if (!Array.isArray(input.zones) || input.zones.length === 0)
    throw invalidOption('zones', 'a non-empty array of { azName, azId?, addresses? }', input.zones)
  const zones = input.zones.map((zone, index): EndpointZone => {
    if (typeof zone?.azName !== 'string' || !isAzNameOf(zone.azName, parsed.region)) {
      throw invalidOption(
        `zones[${index}].azName`,
        `an AZ name in ${parsed.region}, e.g. ${parsed.region}a`,
        zone?.azName,
      )
    }
    if (
      zone.azId !== undefined &&
      !/^[a-z]{3,6}\d{1,2}-(?:[a-z]+\d+-)?az\d{1,2}$/.test(zone.azId)
    ) {
      throw invalidOption(`zones[${index}].azId`, 'an AZ ID such as usw2-az1', zone.azId)
    }
    if (
      zone.addresses !== undefined &&
      (!Array.isArray(zone.addresses) || zone.addresses.some((a) => typeof a !== 'string'))
    ) {
      throw invalidOption(
        `zones[${index}].addresses`,
        'an array of IP address strings',
        zone.addresses,
      )
    }
    const result: EndpointZone = {
      azName: zone.azName,
      dnsName: zone.dnsName ?? zonalDnsName(input.dnsName!, zone.azName),
      addresses: [...(zone.addresses ?? [])],
    }
    if (zone.azId !== undefined) result.azId = zone.azId
    if (zone.subnetId !== undefined) result.subnetId = zone.subnetId
    if (zone.networkInterfaceId !== undefined) result.networkInterfaceId = zone.networkInterfaceId
    if (zone.portMap !== undefined) result.portMap = { ...zone.portMap }
    return result
  })
  const endpoint: Endpoint = {
    id,
    region: parsed.region,
    dnsName: input.dnsName.toLowerCase(),
    zones,
  }
  if (input.serviceName !== undefined) endpoint.serviceName = input.serviceName
  if (input.privateDnsName !== undefined) endpoint.privateDnsName = input.privateDnsName
  if (input.vpcId !== undefined) endpoint.vpcId = input.vpcId
  if (input.state !== undefined) endpoint.state = input.state
  return endpoint
}

/**
 * Endpoints from `PRIVATELINK_ENDPOINTS`: one endpoint object or an array of them (the JSON
 * `privatelink describe --json` prints). With `select`, the one whose id, dnsName,
 * privateDnsName or serviceName matches.
 */
export function endpointsFromEnv(
  env: Record<string, string | undefined> = process.env,
): Endpoint[] {
  const text = env['PRIVATELINK_ENDPOINTS']
  if (text === undefined || text.trim() === '') return []
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw Object.assign(configError('PRIVATELINK_ENDPOINTS is not valid JSON', text), { cause })
  }
  return (Array.isArray(value) ? value : [value]).map((item) =>
    endpointFromConfig(item as StaticEndpointConfig),
  )
}

export function endpointFromEnv(
  select?: string,
  env: Record<string, string | undefined> = process.env,
): Endpoint {
  const endpoints = endpointsFromEnv(env)
  const matches =
    select === undefined
      ? endpoints
      : endpoints.filter((e) => [e.id, e.dnsName, e.privateDnsName, e.serviceName].includes(select))
  if (matches.length === 1) return matches[0]!
  throw new PrivateLinkError(
    matches.length === 0 ? 'ERR_ENDPOINT_NOT_FOUND' : 'ERR_AMBIGUOUS_ENDPOINT',
    matches.length === 0
      ? `No endpoint${select ? ` matching ${select}` : ''} in PRIVATELINK_ENDPOINTS`
      : `${matches.length} endpoints in PRIVATELINK_ENDPOINTS match${select ? ` ${select}` : ''}`,
    {
      hint: 'Set PRIVATELINK_ENDPOINTS to the JSON `privatelink describe --json` prints, and select by endpoint id, DNS name or service name.',
      details: { select: select ?? null, endpoints: endpoints.map((e) => e.id) },
    },
  )
}
