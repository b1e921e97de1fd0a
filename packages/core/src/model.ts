/** One Availability Zone of an interface endpoint: its network interface(s) and zonal DNS name. */
export interface EndpointZone {
  /** The AZ name in the endpoint owner's account, e.g. `us-west-2a`. Names differ between accounts. */
  azName: string
  /** The AZ ID, e.g. `usw2-az1`: the same physical zone in every account. */
  azId?: string
  /** `vpce-<id>-<suffix>-<az-name>.<service-part>.<region>.vpce.amazonaws.com` */
  dnsName?: string
  subnetId?: string
  networkInterfaceId?: string
  /** Private IPs of the endpoint's network interface in this zone. Empty: resolve `dnsName`. */
  addresses: string[]
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
  vpcId?: string
  /** `available`, `pendingAcceptance`, ...; absent in static configuration. */
  state?: string
  /** The regional DNS name: answers with every zone's addresses. */
  dnsName: string
  /** The service's private DNS name, when private DNS is enabled. */
  privateDnsName?: string
  zones: EndpointZone[]
}

/** Where the calling code runs. */
export interface Locality {
  region?: string
  azName?: string
  azId?: string
  source: 'options' | 'env' | 'lambda' | 'ecs' | 'imds' | 'unknown'
}
