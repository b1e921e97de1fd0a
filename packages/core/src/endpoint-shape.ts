import { invalidOption, parseCidr } from '@privatelink/dns'
import type { Endpoint, EndpointZone } from './model.js'

const ENDPOINT = 'an Endpoint (discoverEndpoint or endpointFromConfig)'
const ZONE = 'a zone { azName, azId?, dnsName?, addresses: string[], cidrs?, portMap? }'

const optionalString = (value: unknown) => value === undefined || typeof value === 'string'

/**
 * Checks an Endpoint given by the caller (discovery, static config, or built by hand) as deep as
 * the connector and the guards read it, so that junk is ERR_INVALID_OPTION naming the field
 * (`endpoint.zones[1].addresses`) instead of a TypeError later. `dialable`: every zone must have
 * addresses or a zonal DNS name (the connector dials one or the other); `nonEmpty`: at least one
 * zone.
 */
export function assertEndpoint(
  value: unknown,
  option: string,
  { nonEmpty = false, dialable = false }: { nonEmpty?: boolean; dialable?: boolean } = {},
): asserts value is Endpoint {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidOption(option, ENDPOINT, value)
  const endpoint = value as Partial<Endpoint>
  if (!optionalString(endpoint.region))
    throw invalidOption(`${option}.region`, 'a region name', endpoint.region)
  if (!optionalString(endpoint.serviceRegion))
    throw invalidOption(`${option}.serviceRegion`, 'a region name', endpoint.serviceRegion)
  if (!optionalString(endpoint.dnsName))
    throw invalidOption(`${option}.dnsName`, "the endpoint's regional DNS name", endpoint.dnsName)
  const zones = endpoint.zones
  if (!Array.isArray(zones) || (nonEmpty && zones.length === 0))
    throw invalidOption(
      `${option}.zones`,
      `${nonEmpty ? 'a non-empty' : 'an'} array of zones`,
      zones,
    )
  if (typeof endpoint.id !== 'string')
    throw invalidOption(`${option}.id`, 'a vpce- ID', endpoint.id)
  for (const [index, zone] of zones.entries())
    assertZone(zone, `${option}.zones[${index}]`, dialable)
}

function assertZone(value: unknown, at: string, dialable: boolean): asserts value is EndpointZone {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidOption(at, ZONE, value)
  const zone = value as Partial<EndpointZone>
  if (typeof zone.azName !== 'string' || zone.azName === '')
    throw invalidOption(`${at}.azName`, 'an AZ name such as us-west-2a', zone.azName)
  if (!optionalString(zone.azId))
    throw invalidOption(`${at}.azId`, 'an AZ ID such as usw2-az1', zone.azId)
  if (!optionalString(zone.dnsName))
    throw invalidOption(`${at}.dnsName`, "the zone's DNS name", zone.dnsName)
  const { addresses, cidrs, portMap } = zone
  if (!Array.isArray(addresses) || addresses.some((address) => typeof address !== 'string'))
    throw invalidOption(`${at}.addresses`, 'an array of IP address strings', addresses)
  if (cidrs !== undefined) {
    if (!Array.isArray(cidrs)) throw invalidOption(`${at}.cidrs`, 'an array of CIDR strings', cidrs)
    for (const [index, cidr] of cidrs.entries()) parseCidr(cidr, `${at}.cidrs[${index}]`)
  }
  if (portMap !== undefined) {
    if (typeof portMap !== 'object' || portMap === null || Array.isArray(portMap))
      throw invalidOption(`${at}.portMap`, 'an object { "<listener port>": <port> }', portMap)
    for (const [listener, port] of Object.entries(portMap))
      if (!Number.isInteger(port) || port < 1 || port > 65_535)
        throw invalidOption(`${at}.portMap.${listener}`, 'a port from 1 to 65535', port)
  }
  if (dialable && addresses.length === 0 && (zone.dnsName === undefined || zone.dnsName === ''))
    throw invalidOption(at, `${ZONE} with addresses or a dnsName to dial`, value)
}
