import { isIP } from 'node:net'
import type { Endpoint } from '@privatelink/core'
import { PrivateLinkError } from '@privatelink/core'
import { createResolver, type Resolver } from '@privatelink/dns'
import { createEndpointDispatcher, type EndpointDispatcher } from '@privatelink/http'
import type { PrefixListSource } from './prefix-lists.js'
import type { GatewayOptions, SharedDispatcherOptions } from './route-table.js'

/** A `'gateway'` route's dispatcher, once its prefix list is known. */
export interface GatewayLane {
  dispatcher: EndpointDispatcher
  /** The resolver its connector uses: asked again to name a refused answer. */
  resolver: Resolver
  /** The name it dials (the service's regional name), whatever name the call had. */
  dialName: string
  prefixListId: string
  cidrs: readonly string[]
}

/**
 * The dispatcher of a gateway route: the service's public name as the one "zone", resolved by a
 * resolver, and dialled by a connector, that admit exactly the service's managed prefix list
 * (what the route tables send to the gateway endpoint): every other address, private or public,
 * is refused before a byte leaves.
 */
export async function openGateway(
  target: { service: string; hostname: string; region: string },
  names: string[],
  shared: SharedDispatcherOptions,
  options: GatewayOptions,
  source: PrefixListSource,
): Promise<GatewayLane> {
  const { prefixListId, cidrs } = await source.ranges(target.service, target.region)
  const endpoint: Endpoint = {
    id: `gateway:${target.service}`,
    region: target.region,
    dnsName: target.hostname,
    zones: [{ azName: 'gateway', dnsName: target.hostname, addresses: [] }],
  }
  const resolver = createResolver({
    allowedRanges: [...cidrs],
    ...(options.servers === undefined ? {} : { servers: [...options.servers] }),
  })
  const dispatcher = createEndpointDispatcher({
    ...shared,
    endpoint,
    origins: names,
    // Over any resolver or ranges given for the interface endpoints: these are the gateway's.
    connectorOptions: {
      ...shared.connectorOptions,
      allowedRanges: [...cidrs],
      resolver,
    },
  })
  return { dispatcher, resolver, dialName: target.hostname, prefixListId, cidrs }
}

interface Attempt {
  code?: unknown
  address?: unknown
}

// The resolver's refusal names the address, which the connector's summary leaves out: ask again
// (on this error path only) and read it from the refusal.
async function refusedAnswer(lane: GatewayLane): Promise<string | undefined> {
  try {
    await lane.resolver.resolve(lane.dialName)
    return undefined
  } catch (error) {
    return refusedAddress(error)
  }
}

function refusedAddress(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 4) return undefined
  const { details, cause, errors } = error as {
    details?: { address?: unknown; attempts?: { cause?: unknown; error?: unknown }[] }
    cause?: unknown
    errors?: unknown[]
  }
  if (typeof details?.address === 'string' && isIP(details.address) !== 0) return details.address
  const inner = [
    cause,
    ...(errors ?? []),
    ...(details?.attempts ?? []).flatMap((a) => [a.cause, a.error]),
  ]
  for (const next of inner) {
    const found = refusedAddress(next, depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * A gateway route whose name resolved outside the service's prefix list: the answer is not the
 * service's, or the list changed. Named for what it is, with the list and what to check.
 */
export async function gatewayRefusal(
  error: unknown,
  hostname: string,
  service: string,
  lane: GatewayLane,
): Promise<PrivateLinkError | undefined> {
  if (!PrivateLinkError.isInstance(error)) return undefined
  const attempts = (error.details as { attempts?: Attempt[] }).attempts ?? []
  const refused =
    error.code === 'ERR_DNS_NOT_PRIVATE' ||
    error.code === 'ERR_ADDRESS_NOT_ALLOWED' ||
    (error.code === 'ERR_ENDPOINT_UNREACHABLE' &&
      attempts.length > 0 &&
      attempts.every(
        (a) => a.code === 'ERR_DNS_NOT_PRIVATE' || a.code === 'ERR_ADDRESS_NOT_ALLOWED',
      ))
  if (!refused) return undefined
  const address = refusedAddress(error) ?? (await refusedAnswer(lane))
  return new PrivateLinkError(
    'ERR_ADDRESS_NOT_ALLOWED',
    `${lane.dialName} (for ${hostname}) resolved to ${address ?? 'an address'} outside ${service}'s managed prefix list ${lane.prefixListId}; refusing to connect`,
    {
      hint: `Through a gateway endpoint, ${service} is reached at the addresses of its managed prefix list (${lane.cidrs.join(', ')}), which the route tables send to the endpoint. An answer outside it is not ${service}'s: check the DNS resolver in gateway.servers (or the system's), and that this VPC's route tables have the gateway endpoint's route to ${lane.prefixListId}.`,
      details: {
        hostname,
        ...(address === undefined ? {} : { address }),
        prefixListId: lane.prefixListId,
        allowedRanges: [...lane.cidrs],
      },
      cause: error,
    },
  )
}
