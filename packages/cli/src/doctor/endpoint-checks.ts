import { discoverEndpoint, type Endpoint, PrivateLinkError } from '@privatelink/core'
import { type Ec2Client, ec2Commands } from '../aws-client.js'
import { lookupEndpoint, type RawEndpoint, type Target } from '../target.js'
import type { CheckLog } from './check.js'

const errorName = (error: unknown) =>
  (error as { name?: string; Code?: string } | null)?.name ?? 'Error'

const AUTH =
  /AuthFailure|UnauthorizedOperation|AccessDenied|ExpiredToken|RequestExpired|InvalidClientTokenId|SignatureDoesNotMatch|CredentialsProviderError/

function apiFix(error: unknown, permission: string, endpointUrl: string | undefined): string {
  if (AUTH.test(errorName(error)))
    return `Check the credentials (expired? the account that owns the endpoint?) and that they may call ${permission}.`
  return `Check network access to the EC2 API${endpointUrl ? ` at ${endpointUrl}` : ''} (an ec2 interface endpoint or a NAT gateway), the region, --endpoint-url / AWS_ENDPOINT_URL_EC2.`
}

function targetText(target: Target): string {
  if (target.kind === 'service-name') return `service ${target.serviceName}`
  if (target.kind === 'dns-name') return `DNS name ${target.name}`
  return target.endpointId
}

/** `endpoint found`: the endpoint behind the target, from DescribeVpcEndpoints. */
export async function checkFound(
  log: CheckLog,
  client: Ec2Client,
  target: Target,
  vpcId: string | undefined,
  endpointUrl: string | undefined,
): Promise<RawEndpoint | undefined> {
  const started = performance.now()
  const base = { id: 'endpoint.found', title: 'endpoint found' }
  let lookup: Awaited<ReturnType<typeof lookupEndpoint>>
  try {
    lookup = await lookupEndpoint(client, target, vpcId)
  } catch (error) {
    log.add(
      {
        ...base,
        status: 'fail',
        seen: `DescribeVpcEndpoints failed: ${errorName(error)}`,
        fix: apiFix(error, 'ec2:DescribeVpcEndpoints', endpointUrl),
      },
      started,
    )
    return undefined
  }
  if ('notFound' in lookup) {
    const fix =
      target.kind === 'dns-name'
        ? `No endpoint lists ${target.name} among its DNS names: pass the endpoint ID (vpce-...) instead, and check private DNS is enabled on it.`
        : 'Check the endpoint ID or service name, the region (endpoints are regional: --region) and that the credentials belong to the account that owns the endpoint.'
    log.add(
      {
        ...base,
        status: 'fail',
        seen: `no VPC endpoint matches ${targetText(target)}${vpcId ? ` in ${vpcId}` : ''}`,
        fix,
      },
      started,
    )
    return undefined
  }
  if ('ambiguous' in lookup) {
    const list = lookup.ambiguous.map((e) => `${e.id}${e.vpcId ? ` (${e.vpcId})` : ''}`).join(', ')
    log.add(
      {
        ...base,
        status: 'fail',
        seen: `${lookup.ambiguous.length} endpoints match: ${list}`,
        fix: 'Pass the endpoint ID, or --vpc-id to pick the one in your VPC.',
      },
      started,
    )
    return undefined
  }
  const raw = lookup.found
  log.add(
    {
      ...base,
      status: 'pass',
      seen: `${raw.VpcEndpointId} in ${raw.VpcId ?? 'an unknown VPC'} for ${raw.ServiceName ?? 'an unknown service'}`,
    },
    started,
  )
  return raw
}

/** `endpoint state`: available, with the zone model from core's discovery; otherwise why not. */
export async function checkState(
  log: CheckLog,
  client: Ec2Client,
  raw: RawEndpoint,
): Promise<Endpoint | undefined> {
  const started = performance.now()
  const base = { id: 'endpoint.state', title: 'endpoint state' }
  try {
    const endpoint = await discoverEndpoint({ endpointId: raw.VpcEndpointId!, client })
    const zones = endpoint.zones.map((z) => `${z.azName}${z.azId ? ` (${z.azId})` : ''}`).join(', ')
    log.add(
      {
        ...base,
        status: endpoint.zones.length === 0 ? 'fail' : 'pass',
        seen: `${endpoint.state ?? 'available'}, ${endpoint.zones.length} zone${endpoint.zones.length === 1 ? '' : 's'}: ${zones || 'none'}`,
        ...(endpoint.zones.length === 0
          ? {
              fix: 'The endpoint has no network interface: add a subnet in each zone your clients run in (aws ec2 modify-vpc-endpoint --add-subnet-ids).',
            }
          : {}),
      },
      started,
    )
    return endpoint.zones.length === 0 ? undefined : endpoint
  } catch (error) {
    if (PrivateLinkError.isInstance(error)) {
      const state =
        error.code === 'ERR_ENDPOINT_NOT_AVAILABLE'
          ? String(error.details['state'] ?? raw.State)
          : undefined
      log.add({ ...base, status: 'fail', seen: state ?? error.message, fix: error.hint }, started)
      return undefined
    }
    throw error
  }
}

/** `vpc enableDnsSupport` and `vpc enableDnsHostnames`: private DNS needs both. */
export async function checkVpcAttributes(
  log: CheckLog,
  client: Ec2Client,
  vpcId: string | undefined,
  endpointUrl: string | undefined,
): Promise<Partial<Record<'enableDnsSupport' | 'enableDnsHostnames', boolean>>> {
  const seen: Partial<Record<'enableDnsSupport' | 'enableDnsHostnames', boolean>> = {}
  for (const attribute of ['enableDnsSupport', 'enableDnsHostnames'] as const) {
    const started = performance.now()
    const base = { id: `vpc.${attribute}`, title: `vpc ${attribute}` }
    if (vpcId === undefined) {
      log.add({ ...base, status: 'skip', seen: 'the endpoint names no VPC' }, started)
      continue
    }
    const { DescribeVpcAttributeCommand } = await ec2Commands()
    let value: boolean | undefined
    try {
      const answer = (await client.send(
        new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: attribute }),
      )) as Record<string, { Value?: boolean } | undefined>
      const key = attribute === 'enableDnsSupport' ? 'EnableDnsSupport' : 'EnableDnsHostnames'
      value = answer[key]?.Value
    } catch (error) {
      log.add(
        {
          ...base,
          status: 'warn',
          seen: `DescribeVpcAttribute failed: ${errorName(error)}`,
          fix: apiFix(error, 'ec2:DescribeVpcAttribute', endpointUrl),
        },
        started,
      )
      continue
    }
    if (value !== undefined) seen[attribute] = value
    if (value === true) log.add({ ...base, status: 'pass', seen: `true on ${vpcId}` }, started)
    else
      log.add(
        {
          ...base,
          status: 'fail',
          // Off, the two break different things: without DNS support the Amazon DNS server (the
          // VPC's base +2) answers nothing at all; without hostnames it answers, but publicly.
          seen: `${String(value ?? 'unknown')} on ${vpcId}: ${attribute === 'enableDnsSupport' ? "the Amazon DNS server (the VPC's CIDR base +2) does not answer in this VPC, so no name resolves through it" : 'private DNS names resolve publicly in this VPC'}`,
          fix: 'Private DNS needs enableDnsSupport and enableDnsHostnames on the VPC.',
          commands: [
            `aws ec2 modify-vpc-attribute --vpc-id ${vpcId} --${attribute === 'enableDnsSupport' ? 'enable-dns-support' : 'enable-dns-hostnames'}`,
          ],
        },
        started,
      )
  }
  return seen
}

/** `private dns`: on, or off where the target is a name that needs it. */
export function checkPrivateDns(log: CheckLog, raw: RawEndpoint, target: Target): void {
  const started = performance.now()
  const base = { id: 'endpoint.privateDns', title: 'private dns' }
  const vpceName = (name: string) => /\.vpce\.amazonaws\.com(\.cn)?$/.test(name)
  const privateNames = (raw.DnsEntries ?? [])
    .map((d) => (d.DnsName ?? '').toLowerCase())
    .filter((n) => n && !vpceName(n))
  if (raw.PrivateDnsEnabled === true) {
    log.add(
      {
        ...base,
        status: 'pass',
        seen: `enabled${privateNames.length > 0 ? `: ${privateNames.join(', ')}` : ''}`,
      },
      started,
    )
    return
  }
  const fix = `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${raw.VpcEndpointId} --private-dns-enabled (the VPC needs enableDnsSupport and enableDnsHostnames).`
  if (target.kind === 'dns-name')
    log.add(
      {
        ...base,
        status: 'fail',
        // What it resolves to instead (public addresses, nothing, a hosted zone's record) is for
        // the DNS lines to say: they ask.
        seen: `disabled: in this VPC ${target.name} is not answered with this endpoint's addresses`,
        fix,
      },
      started,
    )
  else
    log.add(
      {
        ...base,
        status: 'warn',
        seen: 'disabled: only the vpce-... names reach the endpoint',
        fix: `Use the endpoint's vpce DNS names, or turn private DNS on: ${fix}`,
      },
      started,
    )
}
