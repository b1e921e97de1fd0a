import type { Endpoint, EndpointZone } from '@privatelink/core'
import type { Ec2Inventory, LabVpcEndpoint } from './ec2-inventory.js'
import type { LabConfig } from './lab-config.js'
import type { LabNames } from './lab-names.js'
import { portMapTags } from './port-map-tag.js'
import { managedPrefixLists } from './prefix-list-api.js'

/** What the EC2 API answers from, and the lab's own endpoint in it (decoys copy it). */
export interface LabInventory {
  /** Zones, endpoints, ENIs, subnets and VPC attributes. */
  inventory: Ec2Inventory
  /** The lab's endpoint as DescribeVpcEndpoints reports it. */
  labEndpoint: LabVpcEndpoint
}

/** The EC2 view of the endpoint just started: one ENI and subnet per zone, DNS entries, tags. */
export function labInventory(
  config: LabConfig,
  names: LabNames,
  endpoint: Endpoint,
  endpointZones: EndpointZone[],
): LabInventory {
  const { region } = config
  const { vpcId } = names
  const inventory: Ec2Inventory = {
    region,
    zones: config.zones.map((z) => ({ zoneName: z.name, zoneId: z.id })),
    endpoints: [],
    networkInterfaces: endpointZones.map((z) => ({
      networkInterfaceId: z.networkInterfaceId!,
      subnetId: z.subnetId!,
      vpcId,
      availabilityZone: z.azName,
      availabilityZoneId: z.azId!,
      privateIpAddress: z.addresses[0]!,
      description: `VPC Endpoint Interface ${names.endpointId}`,
    })),
    subnets: endpointZones.map((z, index) => ({
      subnetId: z.subnetId!,
      vpcId,
      availabilityZone: z.azName,
      availabilityZoneId: z.azId!,
      cidrBlock: `10.0.${index}.0/24`,
    })),
    vpcAttributes: new Map([[vpcId, { enableDnsSupport: true, enableDnsHostnames: true }]]),
    interfaceAzIds: true,
    prefixLists: managedPrefixLists(region),
  }
  const labEndpoint: LabVpcEndpoint = {
    vpcEndpointId: names.endpointId,
    vpcEndpointType: 'Interface',
    vpcId,
    serviceName: names.serviceName,
    serviceRegion: config.serviceRegion,
    state: 'available',
    subnetIds: endpointZones.map((z) => z.subnetId!),
    networkInterfaceIds: endpointZones.map((z) => z.networkInterfaceId!),
    dnsEntries: [
      { dnsName: names.regionalName, hostedZoneId: 'Z1YSA3EXCYUU9Z' },
      ...endpointZones.map((z) => ({ dnsName: z.dnsName!, hostedZoneId: 'Z1YSA3EXCYUU9Z' })),
      ...(endpoint.privateDnsName === undefined
        ? []
        : [{ dnsName: endpoint.privateDnsName, hostedZoneId: 'ZPRIVATELAB' }]),
    ],
    privateDnsEnabled: endpoint.privateDnsName !== undefined,
    ownerId: config.accountId,
    creationTimestamp: new Date(config.clock()).toISOString(),
    tags: portMapTags(endpointZones),
  }
  inventory.endpoints.push(labEndpoint)
  return { inventory, labEndpoint }
}
