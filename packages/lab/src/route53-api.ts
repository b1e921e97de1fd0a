import type { Ec2Inventory, LabHostedZone } from './ec2-inventory.js'
import { ensureNetwork } from './ec2-network.js'
import { toXml, type XmlNode } from './query-protocol.js'

/** Route 53's REST-XML API lives under its API version; EC2 and STS post to `/`. */
export const ROUTE53_PREFIX = '/2013-04-01/'

const NAMESPACE = 'https://route53.amazonaws.com/doc/2013-04-01/'

/** A Route 53 answer: status and XML body. */
export interface Route53Response {
  status: number
  body: string
  /** The operation, for the request log; '' when the path names none. */
  action: string
}

/** Route 53's error document: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`. */
export function route53ErrorXml(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0"?>\n<ErrorResponse xmlns="${NAMESPACE}">${toXml({ Error: { Type: 'Sender', Code: code, Message: message }, RequestId: requestId })}</ErrorResponse>`
}

const error = (action: string, status: number, code: string, message: string, id: string) => ({
  action,
  status,
  body: route53ErrorXml(code, message, id),
})

/** Route 53 lists names with the trailing dot. */
const fqdn = (name: string) => `${name}.`

const listOf = (name: string, items: XmlNode[]) =>
  items.map((item) => `<${name}>${toXml(item)}</${name}>`).join('')

/**
 * ListHostedZonesByVPC: the private hosted zones associated with a VPC, in zone ID order, paged by
 * `maxitems` / `nexttoken` (opaque: the index to start at).
 */
function listHostedZonesByVpc(
  zones: LabHostedZone[],
  query: URLSearchParams,
  requestId: string,
): Route53Response {
  const action = 'ListHostedZonesByVPC'
  const vpcId = query.get('vpcid')
  const vpcRegion = query.get('vpcregion')
  if (vpcId === null || vpcRegion === null)
    return error(action, 400, 'InvalidInput', 'vpcid and vpcregion are required', requestId)
  if (!/^vpc-[0-9a-f]{8,17}$/.test(vpcId))
    return error(action, 400, 'InvalidVPCId', `The VPC ID '${vpcId}' is not valid`, requestId)
  const maxItems = Number(query.get('maxitems') ?? '100')
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 100)
    return error(action, 400, 'InvalidInput', 'maxitems must be 1 to 100', requestId)
  const token = query.get('nexttoken')
  const start = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString())
  if (!Number.isInteger(start) || start < 0)
    return error(action, 400, 'InvalidPaginationToken', 'The token is not valid', requestId)
  const matching = zones
    .filter((zone) => zone.vpcIds.includes(vpcId))
    .sort((a, b) => a.id.localeCompare(b.id))
  const slice = matching.slice(start, start + maxItems)
  const next =
    start + maxItems < matching.length
      ? Buffer.from(String(start + maxItems)).toString('base64url')
      : undefined
  const summaries = listOf(
    'HostedZoneSummary',
    slice.map((zone) => ({
      HostedZoneId: zone.id,
      Name: fqdn(zone.name),
      Owner: { OwningAccount: zone.ownerAccount },
    })),
  )
  return {
    action,
    status: 200,
    body: `<?xml version="1.0"?>\n<ListHostedZonesByVPCResponse xmlns="${NAMESPACE}"><HostedZoneSummaries>${summaries}</HostedZoneSummaries>${toXml({ MaxItems: String(maxItems), NextToken: next })}</ListHostedZonesByVPCResponse>`,
  }
}

/** GetHostedZone: the zone, its record count and the VPCs it is associated with. */
function getHostedZone(
  zones: LabHostedZone[],
  region: string,
  id: string,
  requestId: string,
): Route53Response {
  const action = 'GetHostedZone'
  const zone = zones.find((z) => z.id === id)
  if (zone === undefined)
    return error(action, 404, 'NoSuchHostedZone', `No hosted zone found with ID: ${id}`, requestId)
  // SOA and NS, plus the zone's A records.
  const count = 2 + Object.keys(zone.records ?? {}).length
  const hostedZone = toXml({
    Id: `/hostedzone/${zone.id}`,
    Name: fqdn(zone.name),
    CallerReference: `privatelink-lab-${zone.id}`,
    Config: { Comment: 'privatelink lab', PrivateZone: true },
    ResourceRecordSetCount: count,
  })
  const vpcs = listOf(
    'VPC',
    zone.vpcIds.map((vpcId) => ({ VPCRegion: region, VPCId: vpcId })),
  )
  return {
    action,
    status: 200,
    body: `<?xml version="1.0"?>\n<GetHostedZoneResponse xmlns="${NAMESPACE}"><HostedZone>${hostedZone}</HostedZone><VPCs>${vpcs}</VPCs></GetHostedZoneResponse>`,
  }
}

/**
 * The Route 53 operations doctor reads (ListHostedZonesByVPC, GetHostedZone), over the lab's
 * hosted zones; any other path is `InvalidAction` as far as the lab is concerned.
 */
export function handleRoute53(
  inventory: Ec2Inventory,
  method: string,
  target: string,
  requestId: string,
): Route53Response {
  const url = new URL(target, 'http://route53.invalid')
  const path = url.pathname.slice(ROUTE53_PREFIX.length - 1)
  const zones = ensureNetwork(inventory).hostedZones
  if (method === 'GET' && path === '/hostedzonesbyvpc')
    return listHostedZonesByVpc(zones, url.searchParams, requestId)
  const zone = path.match(/^\/hostedzone\/([A-Z0-9]{1,32})$/)
  if (method === 'GET' && zone !== null)
    return getHostedZone(zones, inventory.region, zone[1]!, requestId)
  return error(
    '',
    400,
    'InvalidAction',
    `The lab's Route 53 does not serve ${method} ${url.pathname}`,
    requestId,
  )
}
