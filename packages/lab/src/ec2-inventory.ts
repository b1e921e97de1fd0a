/** The EC2 resources the lab's API describes. Mutable on purpose: tests change them. */

export interface LabSubnet {
  subnetId: string
  vpcId: string
  availabilityZone: string
  availabilityZoneId: string
  cidrBlock: string
}

export interface LabNetworkInterface {
  networkInterfaceId: string
  subnetId: string
  vpcId: string
  availabilityZone: string
  availabilityZoneId: string
  privateIpAddress: string
  description: string
}

export interface LabVpcEndpoint {
  vpcEndpointId: string
  vpcEndpointType: 'Interface'
  vpcId: string
  serviceName: string
  /**
   * Where the service is hosted, as DescribeVpcEndpoints' `ServiceRegion` reports it: another
   * region for a cross-region endpoint. @default the inventory's region
   */
  serviceRegion?: string
  state: string
  subnetIds: string[]
  networkInterfaceIds: string[]
  dnsEntries: { dnsName: string; hostedZoneId: string }[]
  privateDnsEnabled: boolean
  ownerId: string
  creationTimestamp: string
  /** The lab's own endpoint carries its port maps here (see port-map-tag.ts). */
  tags: { key: string; value: string }[]
}

export interface LabZoneInfo {
  zoneName: string
  zoneId: string
}

export interface Ec2Inventory {
  region: string
  zones: LabZoneInfo[]
  endpoints: LabVpcEndpoint[]
  networkInterfaces: LabNetworkInterface[]
  subnets: LabSubnet[]
  vpcAttributes: Map<string, { enableDnsSupport: boolean; enableDnsHostnames: boolean }>
  /** When false, network interfaces omit availabilityZoneId (older API shape): clients must ask DescribeSubnets. */
  interfaceAzIds: boolean
}
