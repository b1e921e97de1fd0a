import {
  isEndpointId,
  PrivateLinkError,
  parseEndpointDnsName,
  parseServiceName,
} from '@privatelink/core'
import { InvalidArgumentError } from 'commander'
import { type Ec2Client, ec2Commands } from './aws-client.js'

/** What the user named on the command line. */
export type Target =
  | { kind: 'endpoint-id'; input: string; endpointId: string }
  | { kind: 'service-name'; input: string; serviceName: string; region?: string }
  /** A `vpce-...vpce.amazonaws.com` name (regional or zonal): the endpoint ID is in it. */
  | {
      kind: 'endpoint-dns-name'
      input: string
      name: string
      endpointId: string
      region: string | undefined
    }
  /** Any other name: the service's private DNS name (or a custom alias). */
  | { kind: 'dns-name'; input: string; name: string }

const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9_*](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)+$/

/** Commander argument parser: an endpoint ID, a service name or a DNS name. */
export function parseTarget(input: string): Target {
  const value = input.trim().toLowerCase().replace(/\.$/, '')
  if (isEndpointId(value as unknown)) return { kind: 'endpoint-id', input, endpointId: value }
  if (value.startsWith('com.amazonaws.') || value.startsWith('cn.com.amazonaws.')) {
    try {
      const { region } = parseServiceName(value)
      return { kind: 'service-name', input, serviceName: value, ...(region ? { region } : {}) }
    } catch (error) {
      throw new InvalidArgumentError(
        PrivateLinkError.isInstance(error) ? error.message : String(error),
      )
    }
  }
  if (value.startsWith('vpce-') && value.includes('.')) {
    try {
      const parsed = parseEndpointDnsName(value)
      return {
        kind: 'endpoint-dns-name',
        input,
        name: value,
        endpointId: parsed.endpointId,
        region: parsed.region,
      }
    } catch {
      // Not an endpoint name after all: treat it as any DNS name.
    }
  }
  if (DNS_NAME.test(value)) return { kind: 'dns-name', input, name: value }
  throw new InvalidArgumentError(
    'Expected a VPC endpoint ID (vpce-0123456789abcdef0), a service name (com.amazonaws.vpce.us-west-2.vpce-svc-...) or a DNS name.',
  )
}

export function targetRegion(target: Target): string | undefined {
  return 'region' in target ? target.region : undefined
}

/** DescribeVpcEndpoints' answer, the fields doctor and describe read. */
export interface RawEndpoint {
  VpcEndpointId?: string
  VpcId?: string
  ServiceName?: string
  State?: string
  PrivateDnsEnabled?: boolean
  DnsEntries?: { DnsName?: string; HostedZoneId?: string }[]
  /** The security groups on the endpoint's interfaces. */
  Groups?: { GroupId?: string; GroupName?: string }[]
  /** The endpoint policy, JSON text. */
  PolicyDocument?: string
  /** The account that owns the endpoint. */
  OwnerId?: string
  /** `Interface`, `Gateway`, `GatewayLoadBalancer`, ... */
  VpcEndpointType?: string
  /** A gateway endpoint's route tables. */
  RouteTableIds?: string[]
  /** `PrivateDnsOnlyForInboundResolverEndpoint`: private DNS answers only the inbound resolver. */
  DnsOptions?: { PrivateDnsOnlyForInboundResolverEndpoint?: boolean }
}

export type Lookup =
  | { found: RawEndpoint }
  | { notFound: true }
  | { ambiguous: { id: string; vpcId?: string; state?: string }[] }

const nameMatches = (pattern: string, name: string) =>
  pattern === name ||
  (pattern.startsWith('*.') &&
    name.endsWith(pattern.slice(1)) &&
    !name.slice(0, -pattern.length + 1).includes('.'))

/**
 * Finds the endpoint the target names. A DNS name that is not a vpce name is matched against each
 * endpoint's DNS entries (the private DNS name is one of them while private DNS is on).
 */
export async function lookupEndpoint(
  client: Ec2Client,
  target: Target,
  vpcId?: string,
): Promise<Lookup> {
  const { DescribeVpcEndpointsCommand } = await ec2Commands()
  const filters = [
    ...(target.kind === 'service-name'
      ? [{ Name: 'service-name', Values: [target.serviceName] }]
      : []),
    ...(vpcId !== undefined ? [{ Name: 'vpc-id', Values: [vpcId] }] : []),
  ]
  const endpointId = 'endpointId' in target ? target.endpointId : undefined
  const found: RawEndpoint[] = []
  let nextToken: string | undefined
  do {
    let page: { VpcEndpoints?: RawEndpoint[]; NextToken?: string }
    try {
      page = (await client.send(
        new DescribeVpcEndpointsCommand({
          ...(endpointId !== undefined ? { VpcEndpointIds: [endpointId] } : { MaxResults: 100 }),
          ...(filters.length > 0 ? { Filters: filters } : {}),
          ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
        }),
      )) as typeof page
    } catch (error) {
      if ((error as { name?: string }).name === 'InvalidVpcEndpointId.NotFound')
        return { notFound: true }
      throw error
    }
    found.push(...(page.VpcEndpoints ?? []))
    nextToken = page.NextToken
  } while (nextToken !== undefined)
  const matching =
    target.kind === 'dns-name'
      ? found.filter((e) =>
          (e.DnsEntries ?? []).some((d) =>
            nameMatches((d.DnsName ?? '').toLowerCase(), target.name),
          ),
        )
      : found
  if (matching.length === 0) return { notFound: true }
  if (matching.length > 1)
    return {
      ambiguous: matching.map((e) => ({
        id: e.VpcEndpointId ?? '',
        ...(e.VpcId ? { vpcId: e.VpcId } : {}),
        ...(e.State ? { state: e.State } : {}),
      })),
    }
  return { found: matching[0]! }
}
