import {
  type AwsCredentials,
  type AwsCredentialsProvider,
  credentialsOption,
  invalidOption,
  PrivateLinkError,
} from '@privatelink/base'
import { parseCidr, parseIpAddress } from '@privatelink/dns'
import {
  ambiguousError,
  discoveryFailedError,
  missingSdkError,
  notAvailableError,
  notFoundError,
} from './discovery-errors.js'
import { parseEndpointDnsName } from './endpoint-dns-name.js'
import { assertEndpointId } from './endpoint-id.js'
import type { Endpoint, EndpointZone } from './model.js'
import { checkOptions, functionOption, integerOption, stringOption } from './options.js'
import { applyPortMapTags } from './port-map-tag.js'
import { parseServiceName } from './service-name.js'

/** The part of an EC2 client discovery uses; any `EC2Client` fits. */
export interface Ec2ClientLike {
  /**
   * Sends one EC2 command (DescribeVpcEndpoints, DescribeNetworkInterfaces, DescribeSubnets) and
   * resolves with its output.
   */
  send(command: unknown): Promise<unknown>
}

/**
 * Which endpoint to discover (`endpointId`, or `serviceName` and `vpcId`) and how to reach the EC2
 * API. Exactly one endpoint must match, and it must be `available`.
 */
export interface DiscoverEndpointOptions {
  /** `vpce-...`; or find it by `serviceName` (and `vpcId`). */
  endpointId?: string
  /**
   * The endpoint service's name, e.g. `com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0`
   * (checked with parseServiceName): finds the endpoint to it, or with `endpointId`, checks that
   * the endpoint leads to it. Its region is the EC2 region of last resort (see `region`).
   */
  serviceName?: string
  /**
   * The consumer VPC (`vpc-...`): only an endpoint in it matches, for when several VPCs have an
   * endpoint to `serviceName` (otherwise ERR_AMBIGUOUS_ENDPOINT).
   */
  vpcId?: string
  /**
   * The region whose EC2 API is asked: the endpoint's (the consumer's), which for a cross-region
   * endpoint is not the one in the service name.
   * @default the SDK's (AWS_REGION); without it, the service name's region
   */
  region?: string
  /** An AwsCredentialIdentity or provider (e.g. fromTemporaryCredentials for cross-account). @default the SDK's chain */
  credentials?: AwsCredentials | AwsCredentialsProvider
  /** Passed to `new EC2Client(...)`, e.g. `{ endpoint }` for an ec2 interface endpoint or the lab. */
  ec2ClientConfig?: Record<string, unknown>
  /** A ready client; `credentials`, `region` and `ec2ClientConfig` are then ignored. */
  client?: Ec2ClientLike
}

/** Options of createEndpointDiscovery. Checked at construction (`ERR_INVALID_OPTION`). */
export interface EndpointDiscoveryOptions {
  /**
   * Milliseconds a discovered endpoint is reused, counted from when discovery finished; failures
   * are never cached. 0: no reuse, though concurrent calls still share one discovery. An integer
   * from 0 to 2147483647. @default 300000
   */
  cacheTtlMs?: number
  /** Milliseconds since the epoch, for the cache's expiry. @default Date.now */
  clock?: () => number
}

/** Endpoint discovery with a cache, from createEndpointDiscovery. */
export interface EndpointDiscovery {
  /**
   * The endpoint, from the cache while fresh, else from the EC2 API (DescribeVpcEndpoints, then
   * its network interfaces and subnets). Calls with the same query, region, EC2 API endpoint,
   * client and credentials share one discovery. Rejects with ERR_ENDPOINT_NOT_FOUND,
   * ERR_AMBIGUOUS_ENDPOINT, ERR_ENDPOINT_NOT_AVAILABLE, ERR_DISCOVERY_FAILED (or
   * ERR_DISCOVERY_THROTTLED), or ERR_MISSING_DEPENDENCY without `@aws-sdk/client-ec2`.
   */
  discover(options: DiscoverEndpointOptions): Promise<Endpoint>
  /** Forgets every cached endpoint: the next discover() asks EC2 again. */
  clear(): void
}

type Ec2Module = typeof import('@aws-sdk/client-ec2')

// Loaded on first discovery only: importing this package must not pay the SDK's ~280 ms. The
// name is not a literal so bundlers (esbuild for a Lambda) leave the 1 MB client out; Lambda's
// Node runtimes ship the AWS SDK v3, and elsewhere it is an ordinary dependency.
const EC2_CLIENT = '@aws-sdk/client-ec2'
async function loadSdk(): Promise<Ec2Module> {
  try {
    return (await import(/* @vite-ignore */ EC2_CLIENT)) as Ec2Module
  } catch (cause) {
    throw missingSdkError(cause)
  }
}

interface RawEndpoint {
  VpcEndpointId?: string
  VpcId?: string
  ServiceName?: string
  /** Where the service is hosted; AWS reports it for same-region endpoints too. */
  ServiceRegion?: string
  State?: string
  PrivateDnsEnabled?: boolean
  NetworkInterfaceIds?: string[]
  SubnetIds?: string[]
  DnsEntries?: { DnsName?: string }[]
  Tags?: { Key?: string; Value?: string }[]
}

interface RawInterface {
  NetworkInterfaceId?: string
  AvailabilityZone?: string
  AvailabilityZoneId?: string
  SubnetId?: string
  PrivateIpAddress?: string
  PrivateIpAddresses?: { PrivateIpAddress?: string }[]
  /** Dual-stack endpoints: global unicast IPv6 from the VPC's /56. */
  Ipv6Address?: string
  Ipv6Addresses?: { Ipv6Address?: string }[]
}

interface RawSubnet {
  SubnetId?: string
  AvailabilityZoneId?: string
  CidrBlock?: string
  Ipv6CidrBlockAssociationSet?: {
    Ipv6CidrBlock?: string
    Ipv6CidrBlockState?: { State?: string }
  }[]
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown }
const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )

/** A subnet's IPv4 CIDR and its associated IPv6 CIDRs, each checked (a malformed one is left out). */
function subnetCidrs(subnet: RawSubnet): string[] {
  const written = [
    subnet.CidrBlock,
    ...(subnet.Ipv6CidrBlockAssociationSet ?? [])
      // A block being disassociated (or that failed to associate) is not the subnet's any more.
      .filter((block) => (block.Ipv6CidrBlockState?.State ?? 'associated') === 'associated')
      .map((block) => block.Ipv6CidrBlock),
  ]
  const cidrs: string[] = []
  for (const cidr of written) {
    if (typeof cidr !== 'string') continue
    try {
      parseCidr(cidr, 'Subnet CIDR')
    } catch {
      continue
    }
    if (!cidrs.includes(cidr.toLowerCase())) cidrs.push(cidr.toLowerCase())
  }
  return cidrs
}

/** The interface's IPs: private IPv4 first (what the connector dials first), then IPv6. */
function interfaceAddresses(eni: RawInterface): string[] {
  const ipv4 =
    eni.PrivateIpAddresses?.map((a) => a.PrivateIpAddress).filter((a): a is string => !!a) ?? []
  if (ipv4.length === 0 && eni.PrivateIpAddress) ipv4.push(eni.PrivateIpAddress)
  const ipv6 = [...(eni.Ipv6Addresses?.map((a) => a.Ipv6Address) ?? []), eni.Ipv6Address].filter(
    (a): a is string => typeof a === 'string' && parseIpAddress(a)?.family === 6,
  )
  return [...ipv4, ...ipv6.map((a) => a.toLowerCase())]
}

/** The region in a service name, for API shapes without ServiceRegion; global services have none. */
function serviceNameRegion(name: string | undefined): string | undefined {
  if (!name) return undefined
  try {
    return parseServiceName(name).region
  } catch {
    return undefined
  }
}

async function send<T>(client: Ec2ClientLike, operation: string, command: unknown): Promise<T> {
  try {
    return (await client.send(command)) as T
  } catch (error) {
    if ((error as { name?: string }).name === 'InvalidVpcEndpointId.NotFound') throw error
    throw discoveryFailedError(operation, error)
  }
}

async function describe(options: DiscoverEndpointOptions): Promise<Endpoint> {
  const { endpointId, serviceName, vpcId } = options
  if (endpointId === undefined && serviceName === undefined) {
    throw invalidOption('endpointId', 'a vpce- ID, or pass serviceName', endpointId)
  }
  if (endpointId !== undefined) assertEndpointId(endpointId)
  const serviceRegion = serviceName === undefined ? undefined : parseServiceName(serviceName).region
  const sdk = await loadSdk()
  // The service name's region is a guess of last resort: a cross-region endpoint lives in the
  // consumer's region, which AWS_REGION names when it is set.
  const region = options.region ?? (process.env['AWS_REGION'] ? undefined : serviceRegion)
  const client =
    options.client ??
    new sdk.EC2Client({
      ...(region ? { region } : {}),
      ...(options.credentials ? { credentials: options.credentials as never } : {}),
      ...options.ec2ClientConfig,
    })
  const query = { endpointId, serviceName, vpcId }

  const found = await listEndpoints(client, sdk, query)
  if (found.length === 0) throw notFoundError(query)
  if (found.length > 1) {
    throw ambiguousError(
      query,
      found.map((e) => ({
        id: e.VpcEndpointId ?? '',
        ...(e.VpcId ? { vpcId: e.VpcId } : {}),
        ...(e.State ? { state: e.State } : {}),
      })),
    )
  }
  const [raw] = found
  if (raw === undefined) throw notFoundError(query)
  const id = raw.VpcEndpointId ?? ''
  const state = raw.State ?? 'unknown'
  if (state.toLowerCase() !== 'available') throw notAvailableError(id, state)

  const describeSubnets = (ids: string[]) =>
    send<{ Subnets?: RawSubnet[] }>(
      client,
      'DescribeSubnets',
      new sdk.DescribeSubnetsCommand({ SubnetIds: ids }),
    )
  // The subnets (their CIDRs, and AZ IDs for older shapes) are asked alongside the interfaces, so
  // knowing them costs no extra round trip.
  const endpointSubnetIds = [...new Set((raw.SubnetIds ?? []).filter((id) => !!id))]
  const early =
    endpointSubnetIds.length > 0 ? settle(describeSubnets(endpointSubnetIds)) : undefined
  const interfaces: RawInterface[] = []
  if ((raw.NetworkInterfaceIds ?? []).length > 0) {
    const described = await send<{ NetworkInterfaces?: RawInterface[] }>(
      client,
      'DescribeNetworkInterfaces',
      new sdk.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: raw.NetworkInterfaceIds }),
    )
    interfaces.push(...(described.NetworkInterfaces ?? []))
  }
  const subnets = new Map<string, RawSubnet>()
  const keep = (found: { Subnets?: RawSubnet[] }) => {
    for (const subnet of found.Subnets ?? [])
      if (subnet.SubnetId) subnets.set(subnet.SubnetId, subnet)
  }
  // Older API shapes leave AvailabilityZoneId off the interface: then the subnet must tell, and
  // a failed DescribeSubnets fails discovery. Otherwise it only adds CIDRs: without them the
  // guard still lets exactly the interfaces' addresses through.
  const needsAzIds = interfaces.some((n) => !n.AvailabilityZoneId && n.SubnetId)
  let subnetError: unknown
  if (early !== undefined) {
    const result = await early
    if (result.ok) keep(result.value)
    else subnetError = result.error
  }
  const missing = [
    ...new Set(interfaces.map((n) => n.SubnetId).filter((id): id is string => !!id)),
  ].filter((id) => !subnets.has(id))
  if (missing.length > 0 && (subnetError === undefined || needsAzIds)) {
    const result = await settle(describeSubnets(missing))
    if (result.ok) keep(result.value)
    else subnetError = result.error
  }
  const unanswered = interfaces.some(
    (n) => !n.AvailabilityZoneId && n.SubnetId && !subnets.has(n.SubnetId),
  )
  if (needsAzIds && unanswered && subnetError !== undefined) throw subnetError

  const { regionalName, privateDnsName, zonalNames } = dnsNamesOf(raw)
  if (regionalName === undefined) throw notAvailableError(id, `${state} (no regional DNS name)`)

  const zones = zonesOf(interfaces, subnets, zonalNames)
  const sortedZones = [...zones.values()].sort((a, b) => a.azName.localeCompare(b.azName))
  // A listener served on another port (the lab without root, or with the port taken) says so in
  // a `privatelink:port-map` tag; without it every zone is dialled on the listener port.
  applyPortMapTags(raw.Tags ?? [], sortedZones, id)
  const endpoint: Endpoint = {
    id,
    region: parseEndpointDnsName(regionalName).region,
    state,
    dnsName: regionalName,
    zones: sortedZones,
  }
  // An empty ServiceRegion is no answer: fall back to the service name, as older API shapes must.
  const hostedIn = raw.ServiceRegion ? raw.ServiceRegion : serviceNameRegion(raw.ServiceName)
  // Cross-region PrivateLink: tokens and SigV4 are signed for the service's region.
  if (hostedIn && hostedIn !== endpoint.region) endpoint.serviceRegion = hostedIn
  if (raw.ServiceName) endpoint.serviceName = raw.ServiceName
  if (raw.VpcId) endpoint.vpcId = raw.VpcId
  if (privateDnsName) endpoint.privateDnsName = privateDnsName
  return endpoint
}

/** Every endpoint DescribeVpcEndpoints lists for the query, over all its pages. */
async function listEndpoints(
  client: Ec2ClientLike,
  sdk: Awaited<ReturnType<typeof loadSdk>>,
  query: {
    endpointId: string | undefined
    serviceName: string | undefined
    vpcId: string | undefined
  },
): Promise<RawEndpoint[]> {
  const { endpointId, serviceName, vpcId } = query
  const found: RawEndpoint[] = []
  let nextToken: string | undefined
  // An empty token ends the listing as no token does; one seen before would loop for ever.
  const tokens = new Set<string>()
  do {
    const filters = [
      ...(serviceName !== undefined ? [{ Name: 'service-name', Values: [serviceName] }] : []),
      ...(vpcId !== undefined ? [{ Name: 'vpc-id', Values: [vpcId] }] : []),
    ]
    let page: { VpcEndpoints?: RawEndpoint[]; NextToken?: string }
    try {
      page = await send(
        client,
        'DescribeVpcEndpoints',
        new sdk.DescribeVpcEndpointsCommand({
          ...(endpointId !== undefined ? { VpcEndpointIds: [endpointId] } : { MaxResults: 100 }),
          ...(filters.length > 0 ? { Filters: filters } : {}),
          ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
        }),
      )
    } catch (error) {
      if ((error as { name?: string }).name === 'InvalidVpcEndpointId.NotFound')
        throw notFoundError(query)
      throw error
    }
    for (const endpoint of page.VpcEndpoints ?? [])
      if (!found.some((seen) => seen.VpcEndpointId === endpoint.VpcEndpointId)) found.push(endpoint)
    const token = page.NextToken
    nextToken = token === undefined || token === '' || tokens.has(token) ? undefined : token
    if (nextToken !== undefined) tokens.add(nextToken)
  } while (nextToken !== undefined)
  return found
}

/** The endpoint's DNS entries sorted out: regional, per-zone and private names. */
function dnsNamesOf(raw: RawEndpoint): {
  regionalName: string | undefined
  privateDnsName: string | undefined
  zonalNames: Map<string, string>
} {
  let regionalName: string | undefined
  let privateDnsName: string | undefined
  const zonalNames = new Map<string, string>()
  for (const entry of raw.DnsEntries ?? []) {
    const name = entry.DnsName?.toLowerCase()
    if (!name) continue
    let parsed: ReturnType<typeof parseEndpointDnsName> | undefined
    try {
      parsed = parseEndpointDnsName(name)
    } catch {
      parsed = undefined
    }
    if (parsed?.kind === 'regional') regionalName ??= name
    else if (parsed?.kind === 'zonal') zonalNames.set(parsed.azName, name)
    else if (raw.PrivateDnsEnabled) privateDnsName ??= name.replace(/^\*\./, '')
  }
  return { regionalName, privateDnsName, zonalNames }
}

/** One zone per AZ of the endpoint's interfaces, with addresses, IDs and subnet CIDRs. */
function zonesOf(
  interfaces: readonly RawInterface[],
  subnets: ReadonlyMap<string, RawSubnet>,
  zonalNames: ReadonlyMap<string, string>,
): Map<string, EndpointZone> {
  const zones = new Map<string, EndpointZone>()
  for (const eni of interfaces) {
    const azName = eni.AvailabilityZone
    if (!azName) continue
    const zone = zones.get(azName) ?? { azName, addresses: [] }
    const subnet = eni.SubnetId ? subnets.get(eni.SubnetId) : undefined
    const azId = eni.AvailabilityZoneId ?? subnet?.AvailabilityZoneId
    if (azId) zone.azId = azId
    if (eni.SubnetId) zone.subnetId = eni.SubnetId
    if (eni.NetworkInterfaceId) zone.networkInterfaceId = eni.NetworkInterfaceId
    const dnsName = zonalNames.get(azName)
    if (dnsName) zone.dnsName = dnsName
    for (const address of interfaceAddresses(eni)) {
      if (!zone.addresses.includes(address)) zone.addresses.push(address)
    }
    const cidrs = subnet === undefined ? [] : subnetCidrs(subnet)
    for (const cidr of cidrs) {
      zone.cidrs ??= []
      if (!zone.cidrs.includes(cidr)) zone.cidrs.push(cidr)
    }
    zones.set(azName, zone)
  }
  return zones
}

const identities = new WeakMap<object, number>()
let nextIdentity = 0
/** A cache key part for a client or credentials: an access key ID (never the secret), else the object itself. */
function identityOf(value: unknown): string | number | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'object' && typeof value !== 'function') return String(value)
  const accessKeyId = (value as { accessKeyId?: unknown }).accessKeyId
  if (typeof accessKeyId === 'string') return `key:${accessKeyId}`
  let id = identities.get(value)
  if (id === undefined) {
    id = ++nextIdentity
    identities.set(value, id)
  }
  return id
}

/**
 * EC2 answered with a shape discovery does not know (a missing list, a field of another type):
 * a typed error naming it rather than a TypeError from deep inside. Our own errors pass through.
 */
function unexpectedShape(error: unknown): never {
  if (PrivateLinkError.isInstance(error) || !(error instanceof TypeError)) throw error
  throw new PrivateLinkError(
    'ERR_DISCOVERY_FAILED',
    `The EC2 API answered with a response discovery cannot read (${error.message})`,
    {
      hint: 'Check that the EC2 endpoint (ec2ClientConfig.endpoint, AWS_ENDPOINT_URL_EC2) is the EC2 API itself, not a proxy or emulator that changes its answers; pass a static config (endpointFromConfig) meanwhile.',
      details: { cause: error.message },
    },
  )
}

/** One discovery's options, read once and checked at the call, and the cache key they make. */
function discoveryQuery(given: unknown): { query: DiscoverEndpointOptions; key: string } {
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw invalidOption('options', 'an object', given)
  const query = { ...(given as DiscoverEndpointOptions) }
  stringOption('endpointId', query.endpointId, 'a vpce- ID')
  stringOption('serviceName', query.serviceName, 'a service name (com.amazonaws.vpce.<region>...)')
  stringOption('vpcId', query.vpcId, 'a VPC ID (vpc-...)')
  stringOption('region', query.region, 'a region name')
  const config = query.ec2ClientConfig
  if (
    config !== undefined &&
    (typeof config !== 'object' || config === null || Array.isArray(config))
  )
    throw invalidOption('ec2ClientConfig', 'EC2Client options', config)
  const client = query.client
  if (
    client !== undefined &&
    (typeof client !== 'object' || client === null || typeof client.send !== 'function')
  )
    throw invalidOption('client', 'an EC2Client (anything with send(command))', client)
  // A refused value is described by its type only: a string here may be a secret key.
  const credentials = credentialsOption('credentials', query.credentials)
  // Who asks is part of the question: another account's credentials or client may see
  // another endpoint under the same service name.
  const key = JSON.stringify([
    query.endpointId,
    query.serviceName,
    query.vpcId,
    query.region,
    String(config?.['endpoint'] ?? ''),
    identityOf(client),
    identityOf(credentials),
    identityOf(config?.['credentials']),
  ])
  return { query, key }
}

/** Discovery with a TTL cache; concurrent calls for one endpoint share one set of requests. */
export function createEndpointDiscovery(options: EndpointDiscoveryOptions = {}): EndpointDiscovery {
  const { cacheTtlMs, clock } = checkOptions('options', options, () => {
    if (typeof options !== 'object' || options === null)
      throw invalidOption('options', 'an object', options)
    return {
      cacheTtlMs: integerOption('cacheTtlMs', options.cacheTtlMs, 300_000, 0),
      clock: functionOption('clock', options.clock, Date.now),
    }
  })
  const cache = new Map<string, { promise: Promise<Endpoint>; expiresAt: number }>()
  return {
    discover(given) {
      const { query, key } = checkOptions('options', given, () => discoveryQuery(given))
      const now = clock()
      const cached = cache.get(key)
      if (cached !== undefined && cached.expiresAt > now) return cached.promise
      const promise = describe(query).catch(unexpectedShape)
      const entry = { promise, expiresAt: Number.POSITIVE_INFINITY }
      cache.set(key, entry)
      promise.then(
        () => {
          entry.expiresAt = clock() + cacheTtlMs
        },
        () => {
          if (cache.get(key) === entry) cache.delete(key)
        },
      )
      return promise
    },
    clear: () => cache.clear(),
  }
}

/** One-shot discovery: DescribeVpcEndpoints -> DescribeNetworkInterfaces -> AZ IDs. Prefer createEndpointDiscovery to cache. */
export function discoverEndpoint(options: DiscoverEndpointOptions): Promise<Endpoint> {
  return createEndpointDiscovery({ cacheTtlMs: 0 }).discover(options)
}
