import {
  blockedChannel,
  type Cidr,
  cidrContains,
  createAddressMatcher,
  PrivateLinkError,
  parseCidr,
  parseIpAddress,
} from '@privatelink/dns'
import type { EndpointZone } from './model.js'
import { STATIC_ALLOWED_RANGES } from './static-endpoint.js'

/**
 * Decides on the address the connector is about to dial, wherever it came from: a zone's
 * `addresses` (discovery, static config or a hand-built Endpoint) or a zonal name's DNS answer.
 */
export interface DialGuard {
  /** ERR_ADDRESS_NOT_ALLOWED for an address that must not be dialled, else undefined. */
  refusal(address: string, zone: EndpointZone, endpointId: string): PrivateLinkError | undefined
}

// A zone's subnet is never wider than this (IPv4 VPCs are /16 at most; IPv6 subnets /44 at most
// with IPAM): a wider "subnet" in a hand-built zone must not open the guard to far more.
const WIDEST_SUBNET = { 4: 16, 6: 44 } as const

/**
 * `allowedRanges` (default: the private ranges plus loopback, the lab's 127.x and an SSM port
 * forward) and, per zone, that zone's own subnet CIDRs (`zone.cidrs`: how a dual-stack
 * endpoint's global unicast IPv6 addresses pass). Checked once per dial: ~0.25 µs for IPv4.
 */
export function createDialGuard(
  zones: readonly EndpointZone[],
  allowedRanges: readonly string[] | undefined,
): DialGuard {
  const ranges = Object.freeze([...(allowedRanges ?? STATIC_ALLOWED_RANGES)])
  const matches = createAddressMatcher(ranges, 'allowedRanges')
  const subnets = new Map<EndpointZone, Cidr[]>()
  for (const zone of zones) {
    const cidrs = (zone.cidrs ?? []).flatMap((text) => {
      const cidr = parseCidr(text, 'cidrs')
      return cidr.prefix >= WIDEST_SUBNET[cidr.family] ? [cidr] : []
    })
    if (cidrs.length > 0) subnets.set(zone, cidrs)
  }
  const allows = (address: string, zone: EndpointZone) => {
    const parsed = parseIpAddress(address)
    // The unspecified address dials this host, whatever the ranges say.
    if (parsed === undefined || parsed.bytes.every((byte) => byte === 0)) return false
    if (matches(address, parsed.family)) return true
    return (subnets.get(zone) ?? []).some((cidr) => cidrContains(cidr, parsed))
  }
  return {
    refusal(address, zone, endpointId) {
      if (allows(address, zone)) return undefined
      if (blockedChannel.hasSubscribers)
        blockedChannel.publish({ hostname: zone.dnsName ?? address, address })
      return notAllowedError(address, zone, endpointId, ranges)
    },
  }
}

function notAllowedError(
  address: string,
  zone: EndpointZone,
  endpointId: string,
  allowedRanges: readonly string[],
): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_ADDRESS_NOT_ALLOWED',
    `Refusing to dial ${address} for ${endpointId} in ${zone.azName}: it is outside the allowed ranges (${allowedRanges.join(', ')}) and the zone's subnets`,
    {
      hint:
        "An interface endpoint's ENI addresses are private addresses in your VPC's subnets; a public one means this Endpoint " +
        'does not describe an endpoint of this VPC (a hand-built Endpoint, a discovery answer for another network, or a zonal ' +
        "name that resolves publicly). Use discoverEndpoint or endpointFromConfig for this VPC's endpoint. If the address " +
        "really is the endpoint's (a VPC with a non-RFC 1918 IPv4 range), put its subnet's CIDR in the zone's `cidrs` or in the " +
        "connector's `allowedRanges`.",
      details: {
        endpointId,
        azName: zone.azName,
        ...(zone.azId ? { azId: zone.azId } : {}),
        address,
        allowedRanges: [...allowedRanges],
        cidrs: [...(zone.cidrs ?? [])],
      },
    },
  )
}

/** A refusal is configuration, not the zone's health: it never counts towards an ejection. */
export const isDialRefusal = (code: string): boolean => code === 'ERR_ADDRESS_NOT_ALLOWED'
