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
  /** `Interface`, or `Gateway` for an S3/DynamoDB gateway endpoint (see `LabNetwork.addGatewayEndpoint`). */
  vpcEndpointType: 'Interface' | 'Gateway'
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
  /**
   * Security groups on the endpoint's network interfaces (interface endpoints).
   * @default the lab VPC's endpoint group, set on first use (see ec2-network.ts)
   */
  groupIds?: string[]
  /**
   * The endpoint policy as JSON text, as DescribeVpcEndpoints' `PolicyDocument` reports it.
   * @default the lab's: allow everything to principals of the lab's account
   */
  policyDocument?: string
  /** Route tables a gateway endpoint adds its prefix-list route to. */
  routeTableIds?: string[]
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
  /** Security groups, ACLs, route tables, hosted zones: built healthy on first use (ec2-network.ts). */
  network?: LabNetworkState
  /** AWS-managed prefix lists (S3's, DynamoDB's): what gateway endpoints route to. @default none */
  prefixLists?: LabPrefixList[]
}

/** An AWS-managed prefix list, as DescribeManagedPrefixLists and GetManagedPrefixListEntries report it. */
export interface LabPrefixList {
  /** `pl-...` ID. */
  prefixListId: string
  /** `com.amazonaws.<region>.<service>` for a service's list. */
  prefixListName: string
  /** `IPv4` or `IPv6`. */
  addressFamily: 'IPv4' | 'IPv6'
  /** The service's address ranges. */
  cidrs: string[]
  /** The list's version; it grows when the entries change. */
  version: number
}

/** One rule of a security group, as `IpPermissions` reports it. */
export interface LabSecurityGroupRule {
  /** `tcp`, `udp`, `icmp` or `-1` (all traffic). */
  ipProtocol: string
  /** First port (TCP/UDP); absent for `-1`. */
  fromPort?: number
  /** Last port (TCP/UDP); absent for `-1`. */
  toPort?: number
  /** IPv4 source (ingress) or destination (egress) ranges. */
  cidrs: string[]
  /** Security groups whose members the rule admits. */
  groupIds: string[]
  /** The rule's description. */
  description?: string
}

/** A security group as DescribeSecurityGroups reports it. */
export interface LabSecurityGroup {
  /** `sg-...` ID. */
  groupId: string
  /** Its name, unique in the VPC. */
  groupName: string
  /** Its description. */
  description: string
  /** The VPC it belongs to. */
  vpcId: string
  /** The account that owns it. */
  ownerId: string
  /** Inbound rules: anything they do not admit is dropped (no answer, not a refusal). */
  ingress: LabSecurityGroupRule[]
  /** Outbound rules. */
  egress: LabSecurityGroupRule[]
}

/** One entry of a network ACL, as DescribeNetworkAcls' `Entries` reports it. */
export interface LabNetworkAclEntry {
  /** Evaluated lowest first; the first entry that matches decides. 32767 is the final deny. */
  ruleNumber: number
  /** IP protocol number as text: `6` TCP, `17` UDP, `-1` all. */
  protocol: string
  /** What a match does. */
  ruleAction: 'allow' | 'deny'
  /** True for outbound entries. */
  egress: boolean
  /** The IPv4 range the entry matches (source inbound, destination outbound). */
  cidrBlock: string
  /** Ports, for TCP/UDP entries. */
  portRange?: {
    /** First port. */
    from: number
    /** Last port. */
    to: number
  }
}

/** A network ACL as DescribeNetworkAcls reports it. */
export interface LabNetworkAcl {
  /** `acl-...` ID. */
  networkAclId: string
  /** The VPC it belongs to. */
  vpcId: string
  /** Whether it is the VPC's default ACL. */
  isDefault: boolean
  /** Subnets associated with it. */
  subnetIds: string[]
  /** Inbound and outbound entries. */
  entries: LabNetworkAclEntry[]
}

/** One route of a route table. */
export interface LabRoute {
  /** IPv4 destination, e.g. `10.0.0.0/16`. */
  destinationCidrBlock?: string
  /** A prefix list destination, e.g. S3's `pl-...` (a gateway endpoint's route). */
  destinationPrefixListId?: string
  /** `local`, `igw-...` or a gateway endpoint's `vpce-...`. */
  gatewayId: string
}

/** A route table as DescribeRouteTables reports it. */
export interface LabRouteTable {
  /** `rtb-...` ID. */
  routeTableId: string
  /** The VPC it belongs to. */
  vpcId: string
  /** Whether it is the VPC's main table (used by subnets with no table of their own). */
  main: boolean
  /** Subnets explicitly associated with it. */
  subnetIds: string[]
  /** Its routes. */
  routes: LabRoute[]
}

/** A VPC as DescribeVpcs reports it. */
export interface LabVpc {
  /** `vpc-...` ID. */
  vpcId: string
  /** Its primary IPv4 range. */
  cidrBlock: string
  /** The account that owns it. */
  ownerId: string
  /** Its DHCP options set (`dopt-...`). @default the lab's AmazonProvidedDNS set */
  dhcpOptionsId?: string
}

/** A DHCP options set as DescribeDhcpOptions reports it: where the VPC's instances get their DNS. */
export interface LabDhcpOptions {
  /** `dopt-...` ID. */
  dhcpOptionsId: string
  /** The account that owns it. */
  ownerId: string
  /** `domain-name-servers`: `AmazonProvidedDNS` (the VPC resolver) or addresses. */
  domainNameServers: string[]
  /** `domain-name`, e.g. `us-west-2.compute.internal`. */
  domainName: string
}

/** A Route 53 private hosted zone associated with VPCs (ListHostedZonesByVPC). */
export interface LabHostedZone {
  /** Zone ID without the `/hostedzone/` prefix, e.g. `Z0123...`. */
  id: string
  /** The zone's domain, without the trailing dot. */
  name: string
  /** The account that owns it. */
  ownerAccount: string
  /** VPCs it is associated with. */
  vpcIds: string[]
  /** Its A records, by name (lowercase, no trailing dot). @default none */
  records?: Record<string, string[]>
}

/**
 * The VPC's network around the endpoint: what doctor reads to explain a zone that does not
 * answer. Set on first use from the endpoints and subnets (see ec2-network.ts), healthy.
 */
export interface LabNetworkState {
  /** The lab's VPCs with their CIDR. */
  vpcs: LabVpc[]
  /** Security groups, the endpoints' first. */
  securityGroups: LabSecurityGroup[]
  /** Network ACLs: the default ACL holds every subnet unless a test moves one. */
  networkAcls: LabNetworkAcl[]
  /** Route tables: the main table of each VPC. */
  routeTables: LabRouteTable[]
  /** Route 53 private hosted zones. */
  hostedZones: LabHostedZone[]
  /** DHCP options sets, AWS's AmazonProvidedDNS one first; made on first use. */
  dhcpOptions?: LabDhcpOptions[]
  /** The security group of "this machine" (the lab's instance in IMDS): no rule of its own. */
  clientGroupId?: string
  /** What `LabNetwork.reset()` undoes besides the network itself (DNS answers, flags), in order. */
  undo?: (() => void)[]
}

/** "This machine" as IMDS describes it: an instance in the VPC, in the metadata's zone. */
export interface LabInstance {
  /** `i-...`: the lab's one instance. */
  instanceId: string
  /** Its primary interface's MAC: IMDS keys the interface's data by it. */
  mac: string
  /** In its zone's subnet: data only, never dialled. */
  privateIp: string
  /** The endpoint VPC's subnet in the metadata's zone. */
  subnetId: string
  /** The endpoint's VPC. */
  vpcId: string
  /** Its interface's security groups. */
  groupIds: string[]
}
