import type { Ec2Client } from '../aws-client.js'
import type { RawEndpoint } from '../target.js'
import type { CheckLog } from './check.js'
import type { InstanceNetwork } from './instance-metadata.js'

/** The parts of DescribeRouteTables' answer read here. */
interface RouteTable {
  RouteTableId?: string
  Routes?: { DestinationPrefixListId?: string; GatewayId?: string }[]
}

async function tables(client: Ec2Client, filters: { Name: string; Values: string[] }[]) {
  const { DescribeRouteTablesCommand } = await import('@aws-sdk/client-ec2')
  const answer = (await client.send(new DescribeRouteTablesCommand({ Filters: filters }))) as {
    RouteTables?: RouteTable[]
  }
  return answer.RouteTables ?? []
}

/**
 * The table a subnet's traffic uses: the one explicitly associated with it, else the VPC's main
 * table (AWS's rule for a subnet with no association of its own).
 */
async function subnetTable(
  client: Ec2Client,
  subnetId: string,
  vpcId: string,
): Promise<{ table: RouteTable | undefined; explicit: boolean }> {
  const own = await tables(client, [{ Name: 'association.subnet-id', Values: [subnetId] }])
  if (own[0] !== undefined) return { table: own[0], explicit: true }
  const main = await tables(client, [
    { Name: 'vpc-id', Values: [vpcId] },
    { Name: 'association.main', Values: ['true'] },
  ])
  return { table: main[0], explicit: false }
}

/**
 * `gateway route`: whether this machine's own subnet (from instance metadata) sends the service's
 * traffic to the gateway endpoint: its route table (its own, else the VPC's main one) must hold the
 * gateway's prefix-list route. `target` says which way that matters: doctor run on the gateway
 * itself (`gateway`: a missing route is a failure, with the command that adds the table), or on an
 * S3/DynamoDB interface endpoint beside one (`interface`: a route means this machine's traffic to
 * the regional name bypasses the interface endpoint).
 */
export async function checkGatewayRoute(
  log: CheckLog,
  client: Ec2Client,
  gateways: RawEndpoint[],
  caller: InstanceNetwork | undefined,
  target: 'gateway' | 'interface',
  interfaceId?: string,
): Promise<void> {
  const started = performance.now()
  const base = { id: 'endpoint.gatewayRoute', title: 'gateway route' }
  const gatewayIds = gateways.map((g) => g.VpcEndpointId!)
  const vpcId = gateways[0]?.VpcId
  if (caller?.subnetId === undefined || caller.vpcId === undefined) {
    log.add(
      {
        ...base,
        status: 'skip',
        seen: "this machine's subnet is unknown (no EC2 instance metadata): its route table not checked",
        fix: `Run doctor on a client instance, or check that your clients' subnets use one of the gateway's route tables: aws ec2 describe-route-tables --filters Name=route.gateway-id,Values=${gatewayIds.join(',')}`,
      },
      started,
    )
    return
  }
  const where = `this machine's subnet ${caller.subnetId}`
  if (caller.vpcId !== vpcId) {
    log.add(
      {
        ...base,
        status: target === 'gateway' ? 'fail' : 'pass',
        seen: `${where} is in ${caller.vpcId}, not ${vpcId}: a gateway endpoint serves only its own VPC, so ${target === 'gateway' ? "this machine's traffic never takes it" : 'the gateway is not on its path'}`,
        ...(target === 'gateway'
          ? {
              fix: `Create a gateway endpoint in ${caller.vpcId} for ${gateways[0]!.ServiceName} and route its subnets' tables to it.`,
            }
          : {}),
      },
      started,
    )
    return
  }
  let found: Awaited<ReturnType<typeof subnetTable>>
  try {
    found = await subnetTable(client, caller.subnetId, caller.vpcId)
  } catch (error) {
    log.add(
      {
        ...base,
        status: 'warn',
        seen: `DescribeRouteTables for ${where} failed: ${(error as { name?: string }).name ?? 'Error'}`,
        fix: `Check by hand: aws ec2 describe-route-tables --filters Name=association.subnet-id,Values=${caller.subnetId}`,
      },
      started,
    )
    return
  }
  const tableId = found.table?.RouteTableId ?? 'its route table'
  const which = `${tableId} (${found.explicit ? 'its own table' : "the VPC's main table: it has none of its own"})`
  const route = (found.table?.Routes ?? []).find(
    (r) => r.GatewayId !== undefined && gatewayIds.includes(r.GatewayId),
  )
  const service = gateways[0]!.ServiceName
  if (route !== undefined) {
    const via = `${route.DestinationPrefixListId ?? 'a prefix list'} to ${route.GatewayId}`
    log.add(
      target === 'gateway'
        ? { ...base, status: 'pass', seen: `${where} uses ${which}, which routes ${via}` }
        : {
            ...base,
            status: 'warn',
            seen: `${where} uses ${which}, which routes ${via}: from this machine, traffic to ${service}'s regional name takes the gateway, not ${interfaceId}`,
            fix: `To use ${interfaceId} from here, address it by its vpce- DNS names; or take ${tableId} off the gateway (aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${route.GatewayId} --remove-route-table-ids ${tableId}) if no client on it needs the gateway.`,
          },
      started,
    )
    return
  }
  const fixCommands = found.table?.RouteTableId
    ? [
        `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${gatewayIds[0]} --add-route-table-ids ${found.table.RouteTableId}`,
      ]
    : []
  log.add(
    target === 'gateway'
      ? {
          ...base,
          status: 'fail',
          seen: `${where} uses ${which}, which has no route to ${gatewayIds.join(', ')}: this machine's ${service} traffic does not take the gateway (it goes out by the Internet or NAT gateway, or nowhere), and a bucket policy that requires the endpoint refuses it`,
          fix: `Add ${tableId} to the gateway endpoint's route tables: AWS then adds the prefix-list route to it.`,
          commands: fixCommands,
        }
      : {
          ...base,
          status: 'pass',
          seen: `${where} uses ${which}, which has no route to ${gatewayIds.join(', ')}: the gateway is not on this machine's path`,
        },
    started,
  )
}
