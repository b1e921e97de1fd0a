/** One Availability Zone of an interface endpoint: its network interface(s) and zonal DNS name. */
export interface EndpointZone {
  /** The AZ name in the endpoint owner's account, e.g. `us-west-2a`. Names differ between accounts. */
  azName: string
  /** The AZ ID, e.g. `usw2-az1`: the same physical zone in every account. */
  azId?: string
  /** `vpce-<id>-<suffix>-<az-name>.<service-part>.<region>.vpce.amazonaws.com` */
  dnsName?: string
  /** The endpoint's subnet in this zone (`subnet-...`), when discovery saw it. */
  subnetId?: string
  /** The endpoint's network interface in this zone (`eni-...`), when discovery saw it. */
  networkInterfaceId?: string
  /**
   * The IPs of the endpoint's network interface in this zone: private IPv4 first, then the IPv6
   * addresses a dual-stack endpoint has (global unicast from the VPC's /56). Empty: resolve `dnsName`.
   */
  addresses: string[]
  /**
   * The zone's subnet CIDRs, IPv4 and IPv6 (DescribeSubnets: CidrBlock and the associated
   * Ipv6CidrBlockAssociationSet entries). `endpointAllowedRanges` lets them through, so a
   * dual-stack endpoint's IPv6 answers pass the guard with no setting.
   */
  cidrs?: string[]
  /**
   * Listener port -> port actually dialled. AWS never needs this (an NLB listens on the same port
   * in every zone); the lab sets it when a service port is taken on a loopback address.
   */
  portMap?: Record<string, number>
}

/** An interface VPC endpoint, as discovery or static configuration describes it. */
export interface Endpoint {
  /** `vpce-0123456789abcdef0` */
  id: string
  /** Where the endpoint (its ENIs, the consumer's VPC) lives. */
  region: string
  /**
   * The service's region, when it differs (cross-region PrivateLink): tokens and SigV4 are signed
   * for it, while zones and locality stay the consumer's.
   */
  serviceRegion?: string
  /** `com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef0` */
  serviceName?: string
  /** The consumer VPC the endpoint is in (`vpc-...`), when discovery saw it. */
  vpcId?: string
  /** `available`, `pendingAcceptance`, ...; absent in static configuration. */
  state?: string
  /** The regional DNS name: answers with every zone's addresses. */
  dnsName: string
  /** The service's private DNS name, when private DNS is enabled. */
  privateDnsName?: string
  /** One entry per Availability Zone the endpoint has a network interface in. */
  zones: EndpointZone[]
}

/** Where the calling code runs. */
export interface Locality {
  /** The region the code runs in, e.g. `us-west-2`. */
  region?: string
  /** The AZ name in this account, e.g. `us-west-2b` (another account's `b` may be elsewhere). */
  azName?: string
  /** The AZ ID, e.g. `usw2-az2`: the same physical zone in every account. */
  azId?: string
  /** Where the answer came from: options, environment, a metadata service, or none (`unknown`). */
  source: 'options' | 'env' | 'lambda' | 'ecs' | 'imds' | 'unknown'
}
