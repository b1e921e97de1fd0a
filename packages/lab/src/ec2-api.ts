import { dhcpOptionsHandlers } from './ec2-dhcp-options.js'
import { Ec2Error, matches } from './ec2-error.js'
import type { Ec2Inventory, LabNetworkInterface, LabVpcEndpoint } from './ec2-inventory.js'
import { ensureNetwork } from './ec2-network.js'
import { networkHandlers } from './ec2-network-api.js'
import { prefixListHandlers } from './prefix-list-api.js'
import {
  filterParams,
  listParam,
  page,
  type QueryParams,
  toXml,
  type XmlNode,
} from './query-protocol.js'

export interface ApiResponse {
  status: number
  body: string
}

export function ec2ErrorXml(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response>${toXml({ Errors: { Error: { Code: code, Message: message } }, RequestID: requestId })}</Response>`
}

function respond(action: string, requestId: string, body: XmlNode): ApiResponse {
  const xml = toXml({ requestId, ...body })
  return {
    status: 200,
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">${xml}</${action}Response>`,
  }
}

const KNOWN_ENDPOINT_FILTERS = new Set([
  'vpc-endpoint-id',
  'service-name',
  'service-region',
  'vpc-id',
  'vpc-endpoint-state',
  'vpc-endpoint-type',
])

function describeVpcEndpoints(inventory: Ec2Inventory, params: QueryParams): XmlNode {
  // Endpoints get their security group and policy with the network, on first use.
  ensureNetwork(inventory)
  const ids = listParam(params, 'VpcEndpointId')
  const filters = filterParams(params)
  for (const name of filters.keys()) {
    if (!KNOWN_ENDPOINT_FILTERS.has(name))
      throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`)
  }
  for (const id of ids) {
    if (!inventory.endpoints.some((e) => e.vpcEndpointId === id)) {
      throw new Ec2Error(
        'InvalidVpcEndpointId.NotFound',
        `The Vpc Endpoint Id '${id}' does not exist`,
      )
    }
  }
  const selected = inventory.endpoints.filter(
    (e) =>
      (ids.length === 0 || ids.includes(e.vpcEndpointId)) &&
      matches(filters, 'vpc-endpoint-id', e.vpcEndpointId) &&
      matches(filters, 'service-name', e.serviceName) &&
      matches(filters, 'service-region', e.serviceRegion ?? inventory.region) &&
      matches(filters, 'vpc-id', e.vpcId) &&
      matches(filters, 'vpc-endpoint-state', e.state.toLowerCase()) &&
      matches(filters, 'vpc-endpoint-type', e.vpcEndpointType),
  )
  const { items, nextToken } = page(selected, params)
  return {
    vpcEndpointSet: items.map((endpoint) => endpointXml(endpoint, inventory)),
    nextToken,
  }
}

function endpointXml(endpoint: LabVpcEndpoint, inventory: Ec2Inventory): XmlNode {
  const region = inventory.region
  return {
    vpcEndpointId: endpoint.vpcEndpointId,
    vpcEndpointType: endpoint.vpcEndpointType,
    vpcId: endpoint.vpcId,
    serviceName: endpoint.serviceName,
    state: endpoint.state,
    subnetIdSet: endpoint.subnetIds,
    networkInterfaceIdSet: endpoint.networkInterfaceIds,
    groupSet: endpoint.groupIds?.map((groupId) => ({
      groupId,
      groupName:
        inventory.network?.securityGroups.find((g) => g.groupId === groupId)?.groupName ?? groupId,
    })),
    routeTableIdSet: endpoint.routeTableIds,
    policyDocument: endpoint.policyDocument,
    dnsEntrySet: endpoint.dnsEntries.map((entry) => ({
      dnsName: entry.dnsName,
      hostedZoneId: entry.hostedZoneId,
    })),
    privateDnsEnabled: endpoint.privateDnsEnabled,
    requesterManaged: false,
    ipAddressType: 'ipv4',
    ownerId: endpoint.ownerId,
    creationTimestamp: endpoint.creationTimestamp,
    tagSet:
      endpoint.tags.length === 0
        ? undefined
        : endpoint.tags.map((tag) => ({ key: tag.key, value: tag.value })),
    // AWS reports it for every endpoint, same-region ones included.
    serviceRegion: endpoint.serviceRegion ?? region,
  }
}

function describeNetworkInterfaces(inventory: Ec2Inventory, params: QueryParams): XmlNode {
  const ids = listParam(params, 'NetworkInterfaceId')
  for (const id of ids) {
    if (!inventory.networkInterfaces.some((n) => n.networkInterfaceId === id)) {
      throw new Ec2Error(
        'InvalidNetworkInterfaceID.NotFound',
        `The networkInterface ID '${id}' does not exist`,
      )
    }
  }
  const filters = filterParams(params)
  const selected = inventory.networkInterfaces.filter(
    (n) =>
      (ids.length === 0 || ids.includes(n.networkInterfaceId)) &&
      matches(filters, 'vpc-id', n.vpcId) &&
      matches(filters, 'subnet-id', n.subnetId),
  )
  const { items, nextToken } = page(selected, params)
  return {
    networkInterfaceSet: items.map((n) => interfaceXml(n, inventory.interfaceAzIds)),
    nextToken,
  }
}

function interfaceXml(eni: LabNetworkInterface, withAzId: boolean): XmlNode {
  return {
    networkInterfaceId: eni.networkInterfaceId,
    subnetId: eni.subnetId,
    vpcId: eni.vpcId,
    availabilityZone: eni.availabilityZone,
    availabilityZoneId: withAzId ? eni.availabilityZoneId : undefined,
    description: eni.description,
    interfaceType: 'vpc_endpoint',
    requesterManaged: true,
    status: 'in-use',
    privateIpAddress: eni.privateIpAddress,
    privateIpAddressesSet: [{ privateIpAddress: eni.privateIpAddress, primary: true }],
  }
}

function describeSubnets(inventory: Ec2Inventory, params: QueryParams): XmlNode {
  const ids = listParam(params, 'SubnetId')
  for (const id of ids) {
    if (!inventory.subnets.some((s) => s.subnetId === id)) {
      throw new Ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`)
    }
  }
  const filters = filterParams(params)
  const selected = inventory.subnets.filter(
    (s) => (ids.length === 0 || ids.includes(s.subnetId)) && matches(filters, 'vpc-id', s.vpcId),
  )
  const { items, nextToken } = page(selected, params)
  return {
    subnetSet: items.map((s) => ({
      subnetId: s.subnetId,
      vpcId: s.vpcId,
      availabilityZone: s.availabilityZone,
      availabilityZoneId: s.availabilityZoneId,
      cidrBlock: s.cidrBlock,
      state: 'available',
    })),
    nextToken,
  }
}

function describeVpcAttribute(inventory: Ec2Inventory, params: QueryParams): XmlNode {
  const vpcId = params.get('VpcId') ?? ''
  const attributes = inventory.vpcAttributes.get(vpcId)
  if (attributes === undefined)
    throw new Ec2Error('InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`)
  const attribute = params.get('Attribute')
  if (attribute !== 'enableDnsSupport' && attribute !== 'enableDnsHostnames') {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${attribute}) for parameter attribute is invalid.`,
    )
  }
  return { vpcId, [attribute]: { value: attributes[attribute] } }
}

function describeAvailabilityZones(inventory: Ec2Inventory, params: QueryParams): XmlNode {
  const names = listParam(params, 'ZoneName')
  const ids = listParam(params, 'ZoneId')
  const zones = inventory.zones.filter(
    (z) =>
      (names.length === 0 || names.includes(z.zoneName)) &&
      (ids.length === 0 || ids.includes(z.zoneId)),
  )
  return {
    availabilityZoneInfo: zones.map((z) => ({
      zoneName: z.zoneName,
      zoneId: z.zoneId,
      zoneState: 'available',
      regionName: inventory.region,
      zoneType: 'availability-zone',
      optInStatus: 'opt-in-not-required',
    })),
  }
}

const actions: Record<string, (inventory: Ec2Inventory, params: QueryParams) => XmlNode> = {
  DescribeVpcEndpoints: describeVpcEndpoints,
  DescribeNetworkInterfaces: describeNetworkInterfaces,
  DescribeSubnets: describeSubnets,
  DescribeVpcAttribute: describeVpcAttribute,
  DescribeAvailabilityZones: describeAvailabilityZones,
  ...networkHandlers,
  ...prefixListHandlers,
  ...dhcpOptionsHandlers,
}

export function handleEc2(
  inventory: Ec2Inventory,
  params: QueryParams,
  requestId: string,
): ApiResponse {
  const action = params.get('Action') ?? ''
  const handler = actions[action]
  if (handler === undefined) {
    return {
      status: 400,
      body: ec2ErrorXml(
        'InvalidAction',
        `The action ${action} is not valid for this web service.`,
        requestId,
      ),
    }
  }
  try {
    return respond(action, requestId, handler(inventory, params))
  } catch (error) {
    if (error instanceof Ec2Error)
      return { status: error.status, body: ec2ErrorXml(error.code, error.message, requestId) }
    throw error
  }
}
