import type { Connector, Endpoint } from '@privatelink/core'
import { invalidOption } from '@privatelink/core'
import type { EndpointDispatcherOptions } from '@privatelink/http'
import { s3VpceHostnames } from './service-endpoint.js'
import { isRegion, isServiceKey, serviceHostname, serviceOfEndpointName } from './service-hosts.js'
import {
  endpointServername,
  inFamily,
  type NameFamily,
  serviceExtraNames,
  serviceNameFamilies,
} from './service-names.js'

/**
 * What reaches a service: an interface endpoint, a connector to share, its private DNS name, or
 * (S3 and DynamoDB) a gateway endpoint in this VPC's route tables.
 */
export type ServiceRoute = Endpoint | Connector | 'private-dns' | 'gateway'

/** How `'gateway'` routes find their addresses and check them. */
export interface GatewayOptions {
  /**
   * Settings of the EC2 client that reads the service's managed prefix list
   * (`@aws-sdk/client-ec2`, loaded on the first gateway call): `region`, `credentials`,
   * `endpoint`... @default {} (the SDK's defaults, in the service's region; through this handler
   * when it serves `ec2`)
   */
  ec2?: Record<string, unknown>
  /**
   * DNS servers that answer the service's public names (`host` or `host:port`).
   * @default the system's resolvers
   */
  servers?: string[]
}

const GATEWAY_SERVICES = new Set(['s3', 'dynamodb'])

/** Dispatcher settings shared by every endpoint (see @privatelink/http for each default). */
export type SharedDispatcherOptions = Omit<
  EndpointDispatcherOptions,
  'endpoint' | 'origins' | 'servername' | 'passthrough'
>

/** The routing options of `createAwsRequestHandler` (the rest are dispatcher settings). */
export interface RouteOptions {
  /** One interface endpoint for one AWS service (its service read from `serviceName`). */
  endpoint?: Endpoint | Connector
  /** Routes by service key: `secretsmanager`, `sts`, `kms`, `ecr.api`. */
  endpoints?: Record<string, ServiceRoute>
  /** More hostnames per service key. */
  hostnames?: Record<string, string[]>
  /** The region of routes that do not carry one. */
  region?: string
  /** How `'gateway'` routes read their prefix lists and resolve. */
  gateway?: GatewayOptions
}

/**
 * Where a hostname goes: an interface endpoint (or a connector to share), zonal, own zone first;
 * or the service's private DNS name, resolved through the private-only resolver (guarded, not
 * zonal). Names that share a route share one dispatcher: the same object for all of them.
 */
export type RouteTarget =
  | { readonly kind: 'endpoint'; readonly endpoint: Endpoint | Connector }
  | { readonly kind: 'private-dns'; readonly hostname: string; readonly region: string }
  | {
      readonly kind: 'gateway'
      readonly service: string
      readonly hostname: string
      readonly region: string
    }

/** One hostname's route: where it goes, the service it belongs to, the region calls are signed for. */
export interface HostRoute {
  readonly route: RouteTarget
  readonly service: string | undefined
  readonly region: string
}

/** A family of names (buckets, accounts, access points) routed like one of its route's names. */
export interface FamilyRoute extends HostRoute {
  readonly family: NameFamily
  /** The route's name its calls are sent to (the dispatcher pins it); the Host header stays. */
  readonly origin: string
}

/** The routing options, checked and resolved: every hostname served, and the rest of the options. */
export interface RouteTable {
  /** Lowercase hostname -> its route. */
  readonly routes: ReadonlyMap<string, HostRoute>
  /** Name families (S3 buckets, DynamoDB account endpoints), checked after `routes`. */
  readonly families: readonly FamilyRoute[]
  /** The TLS name a route's connections present when it is not the name called (DynamoDB: its vpce name). */
  readonly servernames: ReadonlyMap<RouteTarget, string>
  /** The dispatcher settings, passed to every dispatcher as they are. */
  readonly shared: SharedDispatcherOptions
  /** The consumer's region ('private-dns' routes, error hints), when known. */
  readonly region: string | undefined
  /** `gateway`, checked. */
  readonly gateway: GatewayOptions
}

export const isConnector = (value: unknown): value is Connector =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Connector).connect === 'function' &&
  'undici' in value

const isEndpoint = (value: unknown): value is Endpoint =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as Endpoint).zones) &&
  typeof (value as Endpoint).dnsName === 'string'

export const endpointOf = (route: Endpoint | Connector): Endpoint =>
  isConnector(route) ? route.endpoint : route

const PINNED_BY_HANDLER = ['origins', 'servername', 'passthrough']

/** The options object and its routing fields, each of the right shape. */
function checkShape(options: RouteOptions & Record<string, unknown>) {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object', options)
  const { endpoint, endpoints = {}, hostnames = {}, region, gateway = {}, ...shared } = options
  if (typeof gateway !== 'object' || gateway === null || Array.isArray(gateway))
    throw invalidOption('gateway', 'an object { ec2?, servers? }', gateway)
  const { ec2, servers } = gateway as GatewayOptions
  if (ec2 !== undefined && (typeof ec2 !== 'object' || ec2 === null))
    throw invalidOption('gateway.ec2', 'an EC2 client config object', ec2)
  if (
    servers !== undefined &&
    (!Array.isArray(servers) || servers.some((x) => typeof x !== 'string'))
  )
    throw invalidOption('gateway.servers', 'an array of DNS server addresses', servers)
  if (region !== undefined && !isRegion(region))
    throw invalidOption('region', 'an AWS region such as us-west-2', region)
  if (typeof endpoints !== 'object' || endpoints === null || Array.isArray(endpoints))
    throw invalidOption('endpoints', 'an object of { [service]: Endpoint | Connector }', endpoints)
  if (typeof hostnames !== 'object' || hostnames === null || Array.isArray(hostnames))
    throw invalidOption('hostnames', 'an object of { [service]: string[] }', hostnames)
  for (const name of PINNED_BY_HANDLER)
    if (name in shared)
      throw invalidOption(
        name,
        "nothing: the handler pins each service's names itself",
        shared[name],
      )
  if (endpoint !== undefined && !isEndpoint(endpoint) && !isConnector(endpoint))
    throw invalidOption('endpoint', 'an Endpoint or a Connector', endpoint)
  if (endpoint === undefined && Object.keys(endpoints).length === 0)
    throw invalidOption(
      'endpoints',
      'at least one service, e.g. { secretsmanager: endpoint }',
      endpoints,
    )
  return {
    endpoint,
    endpoints,
    hostnames,
    region,
    gateway: gateway as GatewayOptions,
    shared: shared as SharedDispatcherOptions,
  }
}

/**
 * Where an endpoint's service lives is the endpoint's to say (cross-region: its serviceRegion, or
 * the region in an AWS service name): signatures must be for that region, whatever region the
 * consumer runs in. `region` fills in only what the endpoint does not know.
 */
export function serviceRegionOf(
  route: Endpoint | Connector,
  region: string | undefined,
  option: string,
): string {
  const endpoint = endpointOf(route)
  const found =
    endpoint.serviceRegion ??
    serviceOfEndpointName(endpoint.serviceName)?.region ??
    region ??
    endpoint.region
  // The service's names are built from it: an endpoint without one cannot be served.
  if (!isRegion(found))
    throw invalidOption(
      `${option}.region`,
      'an Endpoint with a region (discoverEndpoint / endpointFromConfig set it), or the region option',
      found,
    )
  return found
}

/** The endpoint's own names (a client may be given one as its `endpoint`), S3's vpce forms too. */
export function ownNames(route: Endpoint | Connector, service: string | undefined): string[] {
  const endpoint = endpointOf(route)
  const names = [endpoint.privateDnsName, endpoint.dnsName, ...endpoint.zones.map((z) => z.dnsName)]
  const own = names.filter((n): n is string => typeof n === 'string')
  return service === 's3' ? [...own, ...s3VpceHostnames(endpoint)] : own
}

/** `hostnames[service]`, checked: an array of names. */
function extraNames(hostnames: Record<string, unknown>, service: string | undefined): string[] {
  if (service === undefined) return []
  const names = hostnames[service] ?? []
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string' || n === ''))
    throw invalidOption(`hostnames.${service}`, 'an array of hostnames', names)
  return names as string[]
}

/** Builds the table, refusing a hostname that two routes would serve (the choice would be silent). */
class TableBuilder {
  readonly routes = new Map<string, HostRoute>()
  readonly families: FamilyRoute[] = []
  readonly servernames = new Map<RouteTarget, string>()
  readonly #owner = new Map<string, RouteTarget>()

  /** A service's name families and TLS name, routed to `route` through its name `origin`. */
  addService(route: RouteTarget, service: string | undefined, region: string, origin: string) {
    if (route.kind === 'private-dns') return
    const endpoint = route.kind === 'endpoint' ? endpointOf(route.endpoint) : undefined
    for (const family of serviceNameFamilies(service, region, endpoint)) {
      const owner = this.families.find((f) => f.family.suffix === family.suffix)
      if (owner !== undefined && owner.route !== route)
        throw invalidOption(
          'endpoints',
          `each hostname served by one endpoint; *.${family.suffix} is served by two`,
          family.suffix,
        )
      this.families.push({ family, route, service, region, origin: origin.toLowerCase() })
    }
    const servername = endpoint === undefined ? undefined : endpointServername(service, endpoint)
    if (servername !== undefined) this.servernames.set(route, servername)
  }

  add(route: RouteTarget, service: string | undefined, region: string, names: string[]): void {
    for (const given of names) {
      const name = given.toLowerCase().replace(/^\*\./, '')
      const owner = this.#owner.get(name)
      if (owner !== undefined && owner !== route)
        throw invalidOption(
          'endpoints',
          `each hostname served by one endpoint; ${name} is served by two`,
          name,
        )
      this.#owner.set(name, route)
      this.routes.set(name, { route, service, region })
    }
  }
}

/**
 * The handler's routing, pure: every option checked, each service's hostnames derived (service
 * name, the endpoint's own names, extra `hostnames`), routes to the same endpoint grouped under
 * one target, conflicts refused. Throws ERR_INVALID_OPTION naming the option.
 */
export function routeTable(options: RouteOptions): RouteTable {
  const { endpoint, endpoints, hostnames, region, gateway, shared } = checkShape(
    options as RouteOptions & Record<string, unknown>,
  )
  const table = new TableBuilder()
  // One target per endpoint or connector object: services on one endpoint share its dispatcher.
  const targets = new Map<Endpoint | Connector, RouteTarget>()
  const targetOf = (route: Endpoint | Connector): RouteTarget => {
    const known = targets.get(route)
    if (known !== undefined) return known
    const target: RouteTarget = { kind: 'endpoint', endpoint: route }
    targets.set(route, target)
    return target
  }
  // 'private-dns' names resolve in the consumer's VPC: the consumer's region, not a service's.
  const first =
    endpoint ?? Object.values(endpoints).find((r) => r !== 'private-dns' && r !== 'gateway')
  const consumerRegion =
    region ??
    (isEndpoint(first) || isConnector(first) ? endpointOf(first).region : undefined) ??
    process.env.AWS_REGION

  if (endpoint !== undefined) {
    const parsed = serviceOfEndpointName(endpointOf(endpoint).serviceName)
    const serviceRegion = serviceRegionOf(endpoint, region, 'endpoint')
    const names = ownNames(endpoint, parsed?.service)
    if (parsed !== undefined)
      names.push(
        serviceHostname(parsed.service, serviceRegion),
        ...serviceExtraNames(parsed.service, serviceRegion),
      )
    names.push(...extraNames(hostnames, parsed?.service))
    table.add(targetOf(endpoint), parsed?.service, serviceRegion, names)
    if (parsed !== undefined)
      table.addService(
        targetOf(endpoint),
        parsed.service,
        serviceRegion,
        serviceHostname(parsed.service, serviceRegion),
      )
  }
  for (const [service, route] of Object.entries(endpoints)) {
    if (!isServiceKey(service))
      throw invalidOption(
        `endpoints.${service}`,
        'a service key such as secretsmanager or ecr.api',
        service,
      )
    if (route === 'private-dns') {
      if (consumerRegion === undefined)
        throw invalidOption('region', "a region for 'private-dns' services (or AWS_REGION)", region)
      const hostname = serviceHostname(service, consumerRegion)
      const target: RouteTarget = { kind: 'private-dns', hostname, region: consumerRegion }
      table.add(target, service, consumerRegion, [hostname, ...extraNames(hostnames, service)])
      continue
    }
    if (route === 'gateway') {
      if (!GATEWAY_SERVICES.has(service))
        throw invalidOption(
          `endpoints.${service}`,
          "an Endpoint, a Connector or 'private-dns' ('gateway' is for s3 and dynamodb only)",
          route,
        )
      if (consumerRegion === undefined)
        throw invalidOption('region', "a region for 'gateway' services (or AWS_REGION)", region)
      const hostname = serviceHostname(service, consumerRegion)
      const target: RouteTarget = { kind: 'gateway', service, hostname, region: consumerRegion }
      table.add(target, service, consumerRegion, [
        hostname,
        ...serviceExtraNames(service, consumerRegion),
        ...extraNames(hostnames, service),
      ])
      table.addService(target, service, consumerRegion, hostname)
      continue
    }
    if (!isEndpoint(route) && !isConnector(route))
      throw invalidOption(
        `endpoints.${service}`,
        "an Endpoint, a Connector, 'private-dns' or (s3, dynamodb) 'gateway'",
        route,
      )
    const serviceRegion = serviceRegionOf(route, region, `endpoints.${service}`)
    table.add(targetOf(route), service, serviceRegion, [
      serviceHostname(service, serviceRegion),
      ...serviceExtraNames(service, serviceRegion),
      ...ownNames(route, service),
      ...extraNames(hostnames, service),
    ])
    table.addService(
      targetOf(route),
      service,
      serviceRegion,
      serviceHostname(service, serviceRegion),
    )
  }
  const served = new Set([...table.routes.values()].map((entry) => entry.service))
  for (const service of Object.keys(hostnames))
    if (!served.has(service))
      throw invalidOption(`hostnames.${service}`, 'a service that also has an endpoint', service)
  return {
    routes: table.routes,
    families: table.families,
    servernames: table.servernames,
    shared,
    region: consumerRegion,
    gateway,
  }
}

/** A hostname's route: its own entry, else the family it belongs to (sent through `origin`). */
export function findRoute(
  table: Pick<RouteTable, 'routes' | 'families'>,
  hostname: string,
): (HostRoute & { origin: string }) | undefined {
  const exact = table.routes.get(hostname)
  if (exact !== undefined) return { ...exact, origin: hostname }
  return table.families.find((entry) => inFamily(entry.family, hostname))
}
