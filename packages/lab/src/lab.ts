import type { Endpoint, EndpointZone } from '@privatelink/core'
import { leaseAddressBlock } from './address-block.js'
import { startAwsServer } from './aws-server.js'
import { createTestCa, type TestCa } from './ca.js'
import { CredentialsStore, type LabCredentials } from './credentials-store.js'
import { type LabDnsServer, startDnsServer } from './dns-server.js'
import type { Ec2Inventory } from './ec2-inventory.js'
import { newSecret } from './identifiers.js'
import type { IdleSettings, IdleTimeoutMode } from './idle-flows.js'
import { KernelFlowView } from './kernel-flows.js'
import { labAws } from './lab-aws.js'
import { type LabConfig, labConfig } from './lab-config.js'
import { labInventory } from './lab-inventory.js'
import { labMetadata } from './lab-metadata.js'
import { type LabNames, labNames } from './lab-names.js'
import { labZoneHandle } from './lab-zone-handle.js'
import { startZoneListeners } from './lab-zone-listeners.js'
import { type MetadataState, startMetadataServer } from './metadata-server.js'
import { type LabGateway, type LabGatewayOptions, startGateway } from './prefix-list-gateway.js'
import type { SignedRequest, VerifyExpectations, VerifyResult } from './sigv4-verifier.js'
import type { LabRole } from './sts-api.js'
import { type LabTopology, Topology, type TopologyOptions } from './topology.js'
import type { FaultMode, FaultOptions, ListenerStats, Target } from './zonal-listener.js'

/** One Availability Zone of the lab's endpoint. */
export interface LabZoneOptions {
  /** AZ name, e.g. `us-west-2a`. */
  name: string
  /** AZ ID, e.g. `usw2-az1`. */
  id: string
  /** This zone's idle flow timeout, instead of the lab's `idleTimeoutMs`. @default the lab's */
  idleTimeoutMs?: number
  /** This zone's answer to a forgotten flow, instead of the lab's `idleTimeoutMode`. @default the lab's */
  idleTimeoutMode?: IdleTimeoutMode
}

/** A service that speaks a protocol (an RDS Proxy or ElastiCache auth front), started before the relays. */
export interface LabFront {
  /** How lab services refer to it: `target: { front: name }`; unique within a lab. */
  name: string
  /** Called once by `startLab`: starts listening and says where; the lab relays zone traffic there. */
  start(context: LabFrontContext): Promise<{
    /** The loopback address it listens on. */
    host: string
    /** The port it listens on. */
    port: number
    /** Stops it; the lab calls this when it closes. */
    close(): Promise<void>
  }>
}

/** What a front gets from its lab: the CA for its certificate, the lab clock, and the lab's keys. */
export interface LabFrontContext {
  /** The lab's CA: issue the front's server certificate from it, so clients trust `lab.ca`. */
  ca: TestCa
  /** The lab clock (ms since the epoch): token and signature dates are checked against it. */
  clock: () => number
  /** The region the service lives in, which tokens are signed for: `serviceRegion` when the endpoint is cross-region. */
  region: string
  /** The lab's account ID (`LabOptions.accountId`), as ARNs and caller identities carry it. */
  accountId: string
  /** The lab's key store: long-term key and STS sessions (with secrets; never log them). */
  store: CredentialsStore
  /** The endpoint's DNS names, for the names a front's certificate carries (what AWS presents). */
  endpointNames: {
    /** The regional name, `vpce-<id>-<suffix>.<service part>.<region>.vpce.amazonaws.com`. */
    regional: string
    /** The zonal names, one per zone. */
    zonal: string[]
    /** `LabOptions.privateDnsName`, when the endpoint has private DNS. */
    privateDnsName?: string
  }
  /**
   * `LabOptions.gateway.service`: a gateway endpoint reaches this service at its public names,
   * so its certificate carries them (as the service's own does).
   */
  gatewayService?: string
}

/** A service behind the lab's endpoint: a port every zone listens on, and where it relays. */
export interface LabServiceOptions {
  /** Names the service in `lab.zone(...).stats()` and fault injection; unique within a lab. */
  name: string
  /**
   * The NLB listener port. Each zone listens on it when it can be bound; when not (taken, or
   * below 1024 without root) on another port, the same in every zone where possible, reported in
   * `lab.endpoint` zones' `portMap`, the EC2 API's `privatelink:port-map` tags and `endpointJson()`.
   */
  port: number
  /** Where the "NLB" relays to: an address, or a front by name. */
  target:
    | Target
    | {
        /** The `name` of one of `LabOptions.fronts`. */
        front: string
      }
}

/** Options of `startLab`; every field is optional (the defaults: 3 zones in us-west-2). */
export interface LabOptions {
  /** The consumer's region: the endpoint, its zones, DNS names and the EC2/STS APIs. @default 'us-west-2' */
  region?: string
  /**
   * The region the service is hosted in, for a cross-region endpoint: the service name carries it
   * (`com.amazonaws.vpce.<serviceRegion>.vpce-svc-...`), DescribeVpcEndpoints reports it as
   * `ServiceRegion`, `lab.endpoint.serviceRegion` holds it and fronts verify tokens for it; the
   * endpoint, its zones and ENIs stay in `region`.
   * @default region
   */
  serviceRegion?: string
  /**
   * The endpoint's zones, 1 to 250.
   * @default three zones: `<region>a/b/c` with IDs `usw2-az1..3`-style
   */
  zones?: LabZoneOptions[]
  /** Services the endpoint serves: one relay per service in every zone. @default none */
  services?: LabServiceOptions[]
  /**
   * Protocol fronts (RDS Proxy, ElastiCache, Secrets Manager), started first; services target
   * them by name. @default none
   */
  fronts?: LabFront[]
  /** The service's private DNS name, answered like the regional name. */
  privateDnsName?: string
  /**
   * An interface endpoint for this AWS service instead of a PrivateLink service: its service name
   * is `com.amazonaws.<serviceRegion>.<awsService>` and its DNS names
   * `vpce-<id>-<suffix>.<awsService>.<region>.vpce.amazonaws.com`, as for DynamoDB or S3.
   * @default undefined (a `vpce-svc-...` endpoint service)
   */
  awsService?: string
  /**
   * A gateway endpoint for S3 or DynamoDB beside the interface endpoint: the front named plays
   * the service at a loopback address outside the lab's block, which the lab's DNS answers for
   * the service's regional name and only the service's managed prefix list (EC2
   * DescribeManagedPrefixLists / GetManagedPrefixListEntries) contains. See `lab.gateway`.
   * @default undefined (none)
   */
  gateway?: LabGatewayOptions
  /** DNS TTL in seconds. @default 60 */
  dnsTtl?: number
  /** The consumer account. @default '111111111111' */
  accountId?: string
  /** Roles the lab's STS lets the lab's key assume. @default one cross-account role with ExternalId 'privatelink-lab' */
  roles?: LabRole[]
  /** Milliseconds since the epoch, for token, credential and metadata expiry. @default Date.now */
  clock?: () => number
  /**
   * A flow with no packet either way (data or TCP keep-alive probe) for this long, by the lab
   * clock, is forgotten by the path, as interface endpoints and NLB TCP listeners forget it after
   * 350 s. `Infinity` turns it off. Tests set a few seconds, or move `clock` and call
   * `zone.sweepIdle()`.
   * @default 350000
   */
  idleTimeoutMs?: number
  /**
   * What the next segment of a forgotten flow gets: `'reset'` (a TCP reset, as the NLB documents)
   * or `'drop'` (nothing: the sender waits for its own timeout).
   * @default 'reset'
   */
  idleTimeoutMode?: IdleTimeoutMode
  /**
   * X of the lab's own `127.X.0.0/16`: zone n is `127.X.n.1`. Fails when another lab holds it.
   * @default a free block with X in 16..250, chosen at start
   */
  addressBlock?: number
  /**
   * An AWS-like network between the caller and the interfaces: a connection to an interface in
   * the caller's zone (the metadata's zone) gets the intra-AZ round trip, one to another zone the
   * inter-AZ round trip, and its bytes count as crossing zones (`lab.topology.traffic()`). `{}`
   * uses measured averages (0.25 ms / 1 ms). Without it, loopback: every zone equally near.
   * @default undefined (off)
   */
  topology?: TopologyOptions
}

/** A handle on one zone: inject faults into its relays and read their counters. */
export interface LabZone {
  /** AZ name, e.g. `us-west-2a`. */
  readonly name: string
  /** AZ ID, e.g. `usw2-az1`. */
  readonly id: string
  /** The zone's "ENI" address on loopback: `127.X.n.1` in the lab's block. */
  readonly address: string
  /** Puts every service's relay in this zone into a fault mode (see `FaultMode`) until `restore()`. */
  fail(mode: FaultMode, options?: FaultOptions): Promise<void>
  /** Ends the fault: the zone's relays work normally again. */
  restore(): Promise<void>
  /** Each service's relay counters in this zone, by service name. */
  stats(): Record<string, ListenerStats>
  /** This zone's idle flow timeout and mode now. */
  idleTimeout(): IdleSettings
  /**
   * Changes this zone's idle flow timeout and/or mode from now on (open flows keep their last
   * activity time). Throws ERR_INVALID_OPTION for a bad value.
   */
  setIdleTimeout(settings: { idleTimeoutMs?: number; idleTimeoutMode?: IdleTimeoutMode }): void
  /**
   * Forgets this zone's flows that have been idle for the timeout by the lab clock now (after
   * asking the kernel for keep-alive probes); resolves with how many it forgot. The lab does this
   * on its own timers; call it after moving an injected `clock`.
   */
  sweepIdle(): Promise<number>
}

/** The compute platform whose metadata environment `LabMetadata.env` reproduces. */
export type RuntimeKind = 'ec2' | 'ecs' | 'lambda'

/** The lab's metadata services (EC2 IMDS, ECS task metadata, Lambda): where "this machine" runs. */
export interface LabMetadata {
  /** Value for AWS_EC2_METADATA_SERVICE_ENDPOINT. */
  imdsEndpoint: string
  /** Value for ECS_CONTAINER_METADATA_URI_V4. */
  ecsMetadataUri: string
  /** Value for AWS_LAMBDA_METADATA_API (host:port). */
  lambdaMetadataApi: string
  /** Value for AWS_LAMBDA_METADATA_TOKEN: the bearer token the Lambda metadata API requires. */
  lambdaMetadataToken: string
  /** Moves "this machine" to another zone. */
  setZone(azName: string): void
  /** Every metadata request hangs (what an IMDS hop limit of 1 looks like from a container). */
  setHang(hang: boolean): void
  /** The environment variables a process on that runtime would see. */
  env(kind: RuntimeKind): Record<string, string>
}

/** The lab's EC2 and STS APIs (SigV4-verified), their data, and switches for tests. */
export interface LabAws {
  /** `http://127.0.0.1:<port>`: pass as `endpoint` to the EC2 and STS clients. */
  endpoint: string
  /** The region signatures must be scoped to: the consumer's region. */
  region: string
  /** The consumer account the lab's key belongs to. */
  accountId: string
  /** A long-term key the lab's APIs accept. */
  credentials: {
    /** Access key ID, for AWS_ACCESS_KEY_ID. */
    accessKeyId: string
    /** Secret access key, for AWS_SECRET_ACCESS_KEY; a lab secret, still never log it. */
    secretAccessKey: string
  }
  /** Roles the lab's STS lets the lab's key assume (`LabOptions.roles`). */
  roles: LabRole[]
  /** What the EC2 API answers from; edit it to change the next answers. */
  inventory: Ec2Inventory
  /** Every request the APIs answered, oldest first (tests count calls). */
  requests: {
    /** `ec2` or `sts`, from the request's API version. */
    service: string
    /** The Query API action, e.g. `DescribeVpcEndpoints`; '' when absent. */
    action: string
    /** The HTTP status answered. */
    status: number
  }[]
  /**
   * Sets an endpoint's state as EC2 reports it (e.g. `pendingAcceptance`).
   * @default endpointId: the lab's endpoint
   */
  setEndpointState(state: string, endpointId?: string): void
  /**
   * Adds a decoy endpoint to the inventory (paging and ambiguity tests); returns its id. With
   * `serviceRegion`, a cross-region one: its default service name is in that region.
   */
  addEndpoint(options?: {
    serviceName?: string
    vpcId?: string
    state?: string
    serviceRegion?: string
  }): string
  /** Turns a DNS attribute of the lab's VPC on or off, as DescribeVpcAttribute then reports it. */
  setVpcAttribute(attribute: 'enableDnsSupport' | 'enableDnsHostnames', value: boolean): void
  /** Whether network interfaces report their AZ ID (older API shapes do not). */
  setInterfaceAzIds(enabled: boolean): void
  /** Temporary credentials as the lab's STS would issue them, valid for `seconds` of lab time. */
  issueSession(seconds?: number): LabCredentials
  /**
   * Checks a request's SigV4 signature against the lab's keys (for your own test servers). Pass
   * `expected` to check the scope's region and service and the date against the lab clock too.
   * @default expected: {} (any region and service, the real clock)
   */
  verify(request: SignedRequest, expected?: VerifyExpectations): Promise<VerifyResult>
}

/** A running lab: a PrivateLink endpoint on loopback and the AWS pieces around it. Call `close()`. */
export interface Lab {
  /** The consumer's region (`LabOptions.region`). */
  readonly region: string
  /** The endpoint model, as discovery would build it: pass to the SDK's connectors. */
  readonly endpoint: Endpoint
  /** The DNS server answering the endpoint's names (regional, zonal, private DNS name). */
  readonly dns: LabDnsServer
  /** The metadata services that tell a process its zone. */
  readonly metadata: LabMetadata
  /** The AWS-like network model when `LabOptions.topology` is set: round trips, caller zone, cross-zone bytes. */
  readonly topology: LabTopology | undefined
  /** The EC2 and STS APIs. */
  readonly aws: LabAws
  /** The gateway endpoint (`LabOptions.gateway`), when asked for. */
  readonly gateway: LabGateway | undefined
  /** The CA every front's certificate comes from: pass its `certificatePem` as `ca`. */
  readonly ca: TestCa
  /** The lab's own loopback block, `127.X.0.0/16`: no other lab uses it. */
  readonly addressBlock: string
  /** Ranges that lab answers fall in, for a resolver's `allowedRanges`: the lab's block. */
  readonly allowedRanges: string[]
  /** The endpoint as JSON for `PRIVATELINK_ENDPOINTS` / `endpointFromConfig`, port maps included. */
  endpointJson(): string
  /** The zone with this AZ name or AZ ID; throws for an unknown one. */
  zone(name: string): LabZone
  /** Relay counters of every zone: zone name, then service name. */
  stats(): Record<string, Record<string, ListenerStats>>
  /** Stops everything the lab started, in reverse order, and frees its address block. */
  close(): Promise<void>
}

/** Starts a PrivateLink endpoint on loopback, with DNS, metadata, EC2/STS APIs and a test CA. */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const config = Object.freeze(labConfig(options))
  const { region, serviceRegion, zones, clock, accountId } = config
  // Mutable: setIdleTimeout changes a zone's settings for its listeners from then on.
  const zoneIdle = [...config.zoneIdle]
  // The caller's zone is the metadata's, known once the metadata state exists (below).
  const caller = { zone: () => zones[0]!.name }
  const topology =
    options.topology === undefined ? undefined : new Topology(options.topology, () => caller.zone())
  const closers: (() => Promise<void>)[] = []
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer()
  }
  try {
    const block = await leaseAddressBlock(config.addressBlock)
    closers.push(() => block.release())
    if (topology !== undefined) closers.push(async () => topology.close())
    const ca = await createTestCa()
    const store = new CredentialsStore(accountId, clock)
    const names = awsServiceNames(labNames(region, serviceRegion), config.awsService, serviceRegion)
    const fronts = await startFronts(options.fronts ?? [], closers, {
      ca,
      clock,
      region: serviceRegion,
      accountId,
      store,
      endpointNames: {
        regional: names.regionalName,
        zonal: zones.map((z) => names.zonalName(z.name)),
        ...(options.privateDnsName === undefined
          ? {}
          : { privateDnsName: options.privateDnsName.toLowerCase() }),
      },
      ...(options.gateway === undefined ? {} : { gatewayService: options.gateway.service }),
    })
    const zoneListeners = await startZoneListeners({
      zones,
      zoneAddress: (n) => block.zoneAddress(n),
      services: options.services ?? [],
      fronts,
      zoneIdle,
      clock,
      kernel: new KernelFlowView(),
      topology,
      names,
      onClose: (closer) => closers.push(closer),
    })
    const endpoint = labEndpoint(config, names, zoneListeners.endpointZones, options)
    const dns = await startLabDns(endpoint, config.dnsTtl, closers)
    const inventory = labInventory(config, names, endpoint, zoneListeners.endpointZones)
    const gateway =
      options.gateway === undefined
        ? undefined
        : await startGateway(options.gateway, {
            region,
            inventory: inventory.inventory,
            dns,
            fronts,
            onClose: (closer) => closers.push(closer),
          })
    const requests: LabAws['requests'] = []
    const awsServer = await startAwsServer({
      region,
      clock,
      inventory: inventory.inventory,
      roles: config.roles,
      store,
      log: requests,
    })
    closers.push(() => awsServer.close())
    const metadataState = instanceMetadata(config)
    caller.zone = () => metadataState.azName
    const metadataServer = await startMetadataServer(metadataState, store)
    closers.push(() => metadataServer.close())
    const zone = (name: string) => labZoneHandle(name, zones, zoneListeners, zoneIdle)
    return {
      region,
      endpoint,
      dns,
      metadata: labMetadata(metadataState, metadataServer, zones, region),
      topology,
      aws: labAws(config, names, inventory, store, { url: awsServer.url, requests }),
      gateway,
      ca,
      addressBlock: block.cidr,
      allowedRanges: [block.cidr],
      endpointJson: () => JSON.stringify(endpoint),
      zone,
      stats: () => Object.fromEntries(zones.map((z) => [z.name, zone(z.name).stats()])),
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}

/** An AWS service's endpoint names: `com.amazonaws.<region>.<service>`, `vpce-...<service>.<region>.vpce...`. */
function awsServiceNames(
  names: LabNames,
  service: string | undefined,
  serviceRegion: string,
): LabNames {
  if (service === undefined) return names
  const swap = (name: string) => name.replace(`.${names.serviceId}.`, `.${service}.`)
  return Object.freeze({
    ...names,
    serviceName: `com.amazonaws.${serviceRegion}.${service}`,
    regionalName: swap(names.regionalName),
    zonalName: (azName: string) => swap(names.zonalName(azName)),
  })
}

/** Starts each front; a front is the service: it lives, and checks token scopes, in the service's region. */
async function startFronts(
  fronts: readonly LabFront[],
  closers: (() => Promise<void>)[],
  context: LabFrontContext,
): Promise<Map<string, Target>> {
  const started = new Map<string, Target>()
  for (const front of fronts) {
    const running = await front.start(context)
    closers.push(() => running.close())
    started.set(front.name, { host: running.host, port: running.port })
  }
  return started
}

/** The endpoint as core models it (what discovery would return). */
function labEndpoint(
  config: LabConfig,
  names: LabNames,
  zones: EndpointZone[],
  options: LabOptions,
): Endpoint {
  const endpoint: Endpoint = {
    id: names.endpointId,
    region: config.region,
    serviceName: names.serviceName,
    vpcId: names.vpcId,
    state: 'available',
    dnsName: names.regionalName,
    zones,
  }
  if (options.privateDnsName !== undefined)
    endpoint.privateDnsName = options.privateDnsName.toLowerCase()
  if (config.serviceRegion !== config.region) endpoint.serviceRegion = config.serviceRegion
  return endpoint
}

/** The lab's DNS server: the regional (and private) name to every zone, each zonal name to its zone. */
async function startLabDns(
  endpoint: Endpoint,
  ttl: number,
  closers: (() => Promise<void>)[],
): Promise<LabDnsServer> {
  const allAddresses = endpoint.zones.flatMap((z) => z.addresses)
  const dns = await startDnsServer({ defaultTtl: ttl })
  closers.push(() => dns.close())
  dns.set(endpoint.dnsName!, { a: allAddresses })
  for (const zone of endpoint.zones) dns.set(zone.dnsName!, { a: zone.addresses })
  if (endpoint.privateDnsName !== undefined) dns.set(endpoint.privateDnsName, { a: allAddresses })
  return dns
}

/** "This machine": in the first zone, with an instance role and a Lambda metadata token. */
function instanceMetadata(config: LabConfig): MetadataState {
  return {
    region: config.region,
    azName: config.zones[0]!.name,
    azId: config.zones[0]!.id,
    roleName: 'privatelink-lab-instance',
    roleArn: `arn:aws:iam::${config.accountId}:role/privatelink-lab-instance`,
    lambdaToken: newSecret().replace(/[^A-Za-z0-9]/g, ''),
    hang: false,
    clock: config.clock,
  }
}
