// The EC2 resources the lab's API describes. Mutable on purpose: tests change them.

/** A subnet as DescribeSubnets reports it: where discovery reads each zone's CIDR. */
export interface LabSubnet {
  /** `subnet-...` ID. */
  subnetId: string
  /** The VPC it belongs to. */
  vpcId: string
  /** AZ name, e.g. `us-west-2a`. */
  availabilityZone: string
  /** AZ ID, e.g. `usw2-az1`: the same physical zone in every account. */
  availabilityZoneId: string
  /** The subnet's IPv4 range, e.g. `10.0.0.0/24`. */
  cidrBlock: string
}

/** An endpoint's network interface in one zone, as DescribeNetworkInterfaces reports it. */
export interface LabNetworkInterface {
  /** `eni-...` ID. */
  networkInterfaceId: string
  /** The subnet it sits in. */
  subnetId: string
  /** The VPC it belongs to. */
  vpcId: string
  /** AZ name, e.g. `us-west-2a`. */
  availabilityZone: string
  /** AZ ID, e.g. `usw2-az1`; left out of answers when `interfaceAzIds` is false. */
  availabilityZoneId: string
  /** The zone's address: `127.X.n.1` in the lab's loopback block. */
  privateIpAddress: string
  /** As AWS writes it for an endpoint's ENI: `VPC Endpoint Interface vpce-...`. */
  description: string
}

/** An interface endpoint as DescribeVpcEndpoints reports it. */
export interface LabVpcEndpoint {
  /** `vpce-...` ID. */
  vpcEndpointId: string
  /** Always `Interface`: the lab has no gateway endpoints. */
  vpcEndpointType: 'Interface'
  /** The consumer VPC. */
  vpcId: string
  /** The endpoint service, e.g. `com.amazonaws.vpce.us-west-2.vpce-svc-...`. */
  serviceName: string
  /**
   * Where the service is hosted, as DescribeVpcEndpoints' `ServiceRegion` reports it: another
   * region for a cross-region endpoint. @default the inventory's region
   */
  serviceRegion?: string
  /** Endpoint state, e.g. `available` or `pendingAcceptance`; discovery accepts only `available`. */
  state: string
  /** One subnet per zone. */
  subnetIds: string[]
  /** One network interface per zone. */
  networkInterfaceIds: string[]
  /** The endpoint's DNS names: regional first, then one per zone, then the private DNS name if any. */
  dnsEntries: {
    /** A DNS name the endpoint answers on. */
    dnsName: string
    /** The Route 53 hosted zone holding it (a fixed fake ID in the lab). */
    hostedZoneId: string
  }[]
  /** Whether the service's private DNS name resolves to this endpoint in the VPC. */
  privateDnsEnabled: boolean
  /** The account that owns the endpoint. */
  ownerId: string
  /** ISO 8601 time the endpoint was created (lab clock). */
  creationTimestamp: string
  /** The lab's own endpoint carries its port maps here (see port-map-tag.ts). */
  tags: {
    /** Tag key. */
    key: string
    /** Tag value. */
    value: string
  }[]
}

/** An Availability Zone as DescribeAvailabilityZones reports it. */
export interface LabZoneInfo {
  /** AZ name, e.g. `us-west-2a`. */
  zoneName: string
  /** AZ ID, e.g. `usw2-az1`: the same physical zone in every account. */
  zoneId: string
}

/**
 * Everything the lab's EC2 API answers from. Mutable on purpose: a test edits it (or calls
 * `lab.aws` helpers) and the next Describe call sees the change.
 */
export interface Ec2Inventory {
  /** The consumer's region. */
  region: string
  /** The region's zones, in order. */
  zones: LabZoneInfo[]
  /** The lab's endpoint first, then any added with `lab.aws.addEndpoint`. */
  endpoints: LabVpcEndpoint[]
  /** One per zone of the lab's endpoint. */
  networkInterfaces: LabNetworkInterface[]
  /** One per zone of the lab's endpoint. */
  subnets: LabSubnet[]
  /** DescribeVpcAttribute's answers, by VPC ID; doctor checks both are on. */
  vpcAttributes: Map<
    string,
    {
      /** DNS resolution in the VPC; an endpoint's private DNS name needs it. */
      enableDnsSupport: boolean
      /** DNS hostnames in the VPC; an endpoint's private DNS name needs it too. */
      enableDnsHostnames: boolean
    }
  >
  /** When false, network interfaces omit availabilityZoneId (older API shape): clients must ask DescribeSubnets. */
  interfaceAzIds: boolean
}
