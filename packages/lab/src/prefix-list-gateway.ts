import { once } from 'node:events'
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net'
import { leaseAddressBlock } from './address-block.js'
import type { LabDnsServer } from './dns-server.js'
import type { Ec2Inventory } from './ec2-inventory.js'
import { labNetwork } from './ec2-network.js'
import type { Target } from './zonal-listener.js'

/** A gateway endpoint for S3 or DynamoDB beside the lab's interface endpoint. */
export interface LabGatewayOptions {
  /** The service the gateway endpoint routes to. */
  service: 's3' | 'dynamodb'
  /** The `name` of the front that plays the service at its "public" addresses. */
  front: string
}

/** The gateway endpoint's pieces, for tests and the EC2 API. */
export interface LabGateway {
  /** `s3` or `dynamodb`. */
  readonly service: string
  /** The gateway endpoint's `vpce-...` ID (DescribeVpcEndpoints, type Gateway). */
  readonly endpointId: string
  /** The service's managed prefix list (`pl-...`) the route tables point at. */
  readonly prefixListId: string
  /** Route tables with the prefix list route: the VPC's main table. */
  readonly routeTableIds: readonly string[]
  /** The service's "public" address: loopback outside the lab's block, inside the prefix list only. */
  readonly address: string
  /** The CIDR added to the prefix list for it (`127.Y.0.0/24`). */
  readonly cidr: string
  /** The port the service listens on at `address` (443 when it can be bound). */
  readonly port: number
  /** The service's regional name, which the lab's DNS answers with `address`. */
  readonly hostname: string
}

async function listen(host: string, port: number, relay: (socket: Socket) => void) {
  const server: Server = createServer(relay)
  const bound = async (at: number) => {
    server.listen({ host, port: at, exclusive: true })
    await once(server, 'listening')
  }
  // 443 needs root; elsewhere any port, reported as LabGateway.port.
  try {
    await bound(port)
  } catch {
    await bound(0)
  }
  return server
}

/**
 * Starts a gateway endpoint: the service's front is reachable at an address of its own leased
 * block (127.Y.0.1, outside the lab's 127.X block, so outside every guard's lab range), the
 * lab's DNS answers the service's regional name with it, the service's managed prefix list gains
 * its /24, and the VPC's main route table routes the prefix list to the gateway endpoint, as AWS
 * does. Only a guard that admits the prefix list's CIDRs may dial it.
 */
export async function startGateway(
  options: LabGatewayOptions,
  context: {
    region: string
    inventory: Ec2Inventory
    dns: LabDnsServer
    fronts: ReadonlyMap<string, Target>
    onClose: (closer: () => Promise<void>) => void
  },
): Promise<LabGateway> {
  const { service } = options
  const target = context.fronts.get(options.front)
  if (target === undefined)
    throw new Error(`startLab: gateway.front '${options.front}' is not one of the fronts`)
  const list = (context.inventory.prefixLists ?? []).find(
    (p) => p.prefixListName === `com.amazonaws.${context.region}.${service}`,
  )
  if (list === undefined)
    throw new Error(`startLab: gateway.service must be s3 or dynamodb, got ${String(service)}`)
  const block = await leaseAddressBlock()
  context.onClose(() => block.release())
  const address = block.zoneAddress(0)
  const sockets = new Set<Socket>()
  const server = await listen(address, 443, (socket) => {
    const upstream = connect(target.port, target.host)
    sockets.add(socket)
    socket.pipe(upstream).pipe(socket)
    const end = () => {
      sockets.delete(socket)
      socket.destroy()
      upstream.destroy()
    }
    for (const side of [socket, upstream]) side.on('error', end).on('close', end)
  })
  context.onClose(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  const cidr = `127.${block.octet}.0.0/24`
  list.cidrs.push(cidr)
  list.version += 1
  const domain = context.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
  const hostname = `${service}.${context.region}.${domain}`
  context.dns.set(hostname, { a: [address] })
  // The gateway endpoint and its route (main table -> the prefix list), as labNetwork adds them.
  const endpointId = labNetwork(context.inventory).addGatewayEndpoint(service)
  const routeTableIds =
    context.inventory.endpoints.find((e) => e.vpcEndpointId === endpointId)?.routeTableIds ?? []
  return Object.freeze({
    service,
    endpointId,
    prefixListId: list.prefixListId,
    routeTableIds: Object.freeze([...routeTableIds]),
    address,
    cidr,
    port: (server.address() as AddressInfo).port,
    hostname,
  })
}
