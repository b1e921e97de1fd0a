import type { Ec2Client } from '../aws-client.js'
import { ec2Commands } from '../aws-client.js'
import type { RawEndpoint } from '../target.js'
import type { CheckLog } from './check.js'

/** The services that have gateway endpoints besides interface endpoints. */
const GATEWAY_SERVICE = /^(?:cn\.)?com\.amazonaws\.([a-z]{2}(?:-[a-z]+)+-\d+)\.(s3|dynamodb)$/

/** The parts of DescribeRouteTables' answer read here. */
interface RawRouteTable {
  RouteTableId?: string
  Associations?: { Main?: boolean; SubnetId?: string }[]
  Routes?: { DestinationPrefixListId?: string; GatewayId?: string }[]
}

/** `rtb-a (main: subnets without a table of their own; subnet-1)`, with the route's prefix list. */
function tableText(table: RawRouteTable, gatewayId: string): string {
  const associations = table.Associations ?? []
  const parts = [
    ...(associations.some((a) => a.Main) ? ['main: subnets without a table of their own'] : []),
    ...associations.flatMap((a) => (a.SubnetId ? [a.SubnetId] : [])),
  ]
  const prefixList = (table.Routes ?? []).find(
    (r) => r.GatewayId === gatewayId,
  )?.DestinationPrefixListId
  return `${table.RouteTableId}${parts.length > 0 ? ` (${parts.join('; ')})` : ''}${prefixList ? ` via ${prefixList}` : ''}`
}

async function describeTables(client: Ec2Client, ids: string[]): Promise<RawRouteTable[]> {
  if (ids.length === 0) return []
  const { DescribeRouteTablesCommand } = await import('@aws-sdk/client-ec2')
  const answer = (await client.send(new DescribeRouteTablesCommand({ RouteTableIds: ids }))) as {
    RouteTables?: RawRouteTable[]
  }
  return answer.RouteTables ?? []
}

const failedCall = (error: unknown) => (error as { name?: string }).name ?? 'Error'

/**
 * `gateway endpoint`: for S3 and DynamoDB, a gateway endpoint in the same VPC takes the service's
 * traffic from every subnet whose route table routes the service's prefix list to it (the regional
 * name resolves to public addresses there, and the gateway's route wins): this interface endpoint,
 * its security groups and its policy are then not on the path. Named with its route tables, so a
 * "the interface endpoint sees no traffic" or "AccessDenied from a policy we did not set" has its
 * explanation. No line at all for other services.
 */
export async function checkGatewayEndpoints(
  log: CheckLog,
  client: Ec2Client,
  raw: RawEndpoint,
): Promise<RawEndpoint[]> {
  const service = raw.ServiceName?.match(GATEWAY_SERVICE)
  if (service === null || service === undefined || raw.VpcEndpointType === 'Gateway') return []
  const started = performance.now()
  const base = { id: 'endpoint.gateway', title: 'gateway endpoint' }
  const what = service[2] === 's3' ? 'S3' : 'DynamoDB'
  const { DescribeVpcEndpointsCommand } = await ec2Commands()
  let gateways: RawEndpoint[]
  try {
    const answer = (await client.send(
      new DescribeVpcEndpointsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [raw.VpcId ?? ''] },
          { Name: 'service-name', Values: [raw.ServiceName!] },
          { Name: 'vpc-endpoint-type', Values: ['Gateway'] },
        ],
      }),
    )) as { VpcEndpoints?: RawEndpoint[] }
    gateways = (answer.VpcEndpoints ?? []).filter(
      (e) => e.State === undefined || e.State.toLowerCase() === 'available',
    )
  } catch (error) {
    log.add(
      {
        ...base,
        status: 'warn',
        seen: `DescribeVpcEndpoints (gateway endpoints) failed: ${failedCall(error)}`,
        fix: `Check by hand: aws ec2 describe-vpc-endpoints --filters Name=vpc-id,Values=${raw.VpcId} Name=vpc-endpoint-type,Values=Gateway`,
      },
      started,
    )
    return []
  }
  if (gateways.length === 0) {
    log.add(
      {
        ...base,
        status: 'pass',
        seen: `no gateway endpoint for ${raw.ServiceName} in ${raw.VpcId}: this interface endpoint is the VPC's only private path to ${what}`,
      },
      started,
    )
    return []
  }
  const described: string[] = []
  for (const gateway of gateways) {
    const ids = gateway.RouteTableIds ?? []
    let tables: string
    try {
      const found = await describeTables(client, ids)
      tables =
        ids.length === 0
          ? 'in no route table (it carries nothing)'
          : `in ${ids.map((id) => tableText(found.find((t) => t.RouteTableId === id) ?? { RouteTableId: id }, gateway.VpcEndpointId!)).join(', ')}`
    } catch (error) {
      tables = `in ${ids.join(', ')} (DescribeRouteTables failed: ${failedCall(error)})`
    }
    described.push(`${gateway.VpcEndpointId} ${tables}`)
  }
  const inboundOnly = raw.DnsOptions?.PrivateDnsOnlyForInboundResolverEndpoint === true
  log.add(
    {
      ...base,
      status: 'warn',
      seen: `${what} gateway endpoint ${described.join('; ')}: from subnets on ${gateways.length === 1 ? 'that table' : 'those tables'}, ${what} traffic to its regional name takes the gateway, not ${raw.VpcEndpointId}${inboundOnly ? ' (its private DNS answers only inbound resolver endpoints)' : ''}`,
      fix: `On that path the gateway endpoint's policy applies and this endpoint's security groups and policy do not. To use ${raw.VpcEndpointId} from those subnets, address it by its vpce- DNS names; to keep the gateway, check its policy (aws ec2 describe-vpc-endpoints --vpc-endpoint-ids ${gateways.map((g) => g.VpcEndpointId).join(' ')}).`,
    },
    started,
  )
  return gateways
}

/** The VPC's main route table, for the command that routes a gateway endpoint from it. */
async function mainTable(
  client: Ec2Client,
  vpcId: string | undefined,
): Promise<string | undefined> {
  if (vpcId === undefined) return undefined
  const { DescribeRouteTablesCommand } = await import('@aws-sdk/client-ec2')
  try {
    const answer = (await client.send(
      new DescribeRouteTablesCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'association.main', Values: ['true'] },
        ],
      }),
    )) as { RouteTables?: RawRouteTable[] }
    return answer.RouteTables?.[0]?.RouteTableId
  } catch {
    return undefined
  }
}

/**
 * The target is itself a gateway endpoint: it has no interfaces, names or ports to check, only
 * route tables. Named with them; one in no route table carries nothing (a fail, with the command
 * that routes the VPC's main table through it). Returns whether any table routes to it.
 */
export async function checkGatewayTarget(
  log: CheckLog,
  client: Ec2Client,
  raw: RawEndpoint,
): Promise<boolean> {
  const started = performance.now()
  const base = { id: 'endpoint.gateway', title: 'gateway endpoint' }
  const id = raw.VpcEndpointId!
  const ids = raw.RouteTableIds ?? []
  if (ids.length === 0) {
    const main = await mainTable(client, raw.VpcId)
    log.add(
      {
        ...base,
        status: 'fail',
        seen: `${id} (${raw.ServiceName}) is a gateway endpoint in no route table: no subnet's traffic takes it`,
        fix: 'Add the route tables of the subnets your clients run in to the endpoint.',
        ...(main !== undefined
          ? {
              commands: [
                `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${id} --add-route-table-ids ${main}`,
              ],
            }
          : {}),
      },
      started,
    )
    return false
  }
  let tables: string
  try {
    const found = await describeTables(client, ids)
    tables = ids
      .map((t) => tableText(found.find((f) => f.RouteTableId === t) ?? { RouteTableId: t }, id))
      .join(', ')
  } catch (error) {
    tables = `${ids.join(', ')} (DescribeRouteTables failed: ${failedCall(error)})`
  }
  log.add(
    {
      ...base,
      status: 'pass',
      seen: `${id} (${raw.ServiceName}) is a gateway endpoint, routed in ${tables}: it has no interfaces, DNS names or ports, so only its routes and policy are checked`,
    },
    started,
  )
  return true
}
