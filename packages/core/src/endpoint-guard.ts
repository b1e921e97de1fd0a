import {
  type AddressGuard,
  createAddressGuard,
  DEFAULT_ALLOWED_RANGES,
  invalidOption,
  parseIpAddress,
} from '@privatelink/dns'
import { assertEndpoint } from './endpoint-shape.js'
import type { Endpoint } from './model.js'
import { checkOptions } from './options.js'

/** Options of endpointAllowedRanges and createEndpointGuard. */
export interface EndpointGuardOptions {
  /**
   * The endpoint subnets' CIDRs, IPv4 and IPv6 (DescribeSubnets: CidrBlock and
   * Ipv6CidrBlockAssociationSet), when the ENI addresses alone are too narrow (e.g. resolving
   * zonal names of a static config without addresses). @default none
   */
  subnetCidrs?: string[]
}

/**
 * The ranges an endpoint's traffic may go to: exactly its ENI addresses (host routes) plus its
 * subnets' CIDRs (a zone's `cidrs`, when discovery or config supplies them, and `subnetCidrs`).
 * A dual-stack endpoint's IPv6 addresses are global unicast from the VPC's /56, outside fc00::/7:
 * this is how they pass with no setting. With nothing known, the private defaults.
 */
export function endpointAllowedRanges(
  endpoint: Endpoint,
  options: EndpointGuardOptions = {},
): string[] {
  return checkOptions('endpoint', endpoint, () =>
    checkOptions('options', options, () => allowedRangesOf(endpoint, options)),
  )
}

function allowedRangesOf(endpoint: Endpoint, options: EndpointGuardOptions): string[] {
  assertEndpoint(endpoint, 'endpoint')
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object { subnetCidrs? }', options)
  const { subnetCidrs } = options
  if (
    subnetCidrs !== undefined &&
    (!Array.isArray(subnetCidrs) || subnetCidrs.some((cidr) => typeof cidr !== 'string'))
  )
    throw invalidOption('subnetCidrs', 'an array of CIDR strings', subnetCidrs)
  const ranges = new Set<string>()
  for (const zone of endpoint.zones) {
    for (const address of zone.addresses) {
      const parsed = parseIpAddress(address)
      if (parsed !== undefined) ranges.add(`${address}/${parsed.family === 4 ? 32 : 128}`)
    }
    for (const cidr of zone.cidrs ?? []) ranges.add(cidr)
  }
  for (const cidr of subnetCidrs ?? []) ranges.add(cidr)
  return ranges.size > 0 ? [...ranges] : [...DEFAULT_ALLOWED_RANGES]
}

/** A guard that lets through exactly this endpoint's addresses and subnets (see endpointAllowedRanges). */
export function createEndpointGuard(
  endpoint: Endpoint,
  options: EndpointGuardOptions = {},
): AddressGuard {
  return createAddressGuard({ allowedRanges: endpointAllowedRanges(endpoint, options) })
}
