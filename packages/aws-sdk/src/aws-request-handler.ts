import type { Connector, Endpoint } from '@privatelink/core'
import { invalidOption } from '@privatelink/core'
import { checkOptions } from '@privatelink/dns'
import {
  createEndpointDispatcher,
  type EndpointDispatcher,
  type EndpointDispatcherOptions,
} from '@privatelink/http'
import { UndiciHttpHandler } from '@smithy/undici-http-handler'
import { asDnsNotPrivate, missingEndpointError } from './errors.js'
import { markTransient } from './sdk-transient.js'
import { s3VpceHostnames } from './service-endpoint.js'
import {
  isRegion,
  isServiceKey,
  serviceHostname,
  serviceOfEndpointName,
  serviceOfHostname,
} from './service-hosts.js'

/** What reaches a service: an interface endpoint, a connector to share, or its private DNS name. */
export type ServiceRoute = Endpoint | Connector | 'private-dns'

/** Dispatcher settings shared by every endpoint (see @privatelink/http for each default). */
export type SharedDispatcherOptions = Omit<
  EndpointDispatcherOptions,
  'endpoint' | 'origins' | 'servername' | 'passthrough'
>

/** Options of `createAwsRequestHandler`: which endpoint serves which service. Give `endpoint`, `endpoints` or both. */
export interface AwsRequestHandlerOptions extends SharedDispatcherOptions {
  /**
   * One interface endpoint for one AWS service. Its service is read from the endpoint's
   * `serviceName` (`com.amazonaws.<region>.<service>`); otherwise only the endpoint's own names
   * (private DNS name, vpce names) are served. Use `endpoints` for several services.
   */
  endpoint?: Endpoint | Connector
  /**
   * Routes by service, keyed as the endpoint's service name ends: `secretsmanager`, `sts`, `kms`,
   * `ecr.api`. An Endpoint (discoverEndpoint / endpointFromConfig): zonal, own zone first, with
   * failover. `'private-dns'`: through the service's name, which must resolve to private
   * addresses (guarded, not zonal).
   */
  endpoints?: Record<string, ServiceRoute>
  /**
   * More hostnames per service key, e.g. `{ s3: ['my-bucket.s3.us-west-2.amazonaws.com'] }` or a
   * FIPS or dual-stack name the endpoint's certificate covers.
   */
  hostnames?: Record<string, string[]>
  /**
   * The region in the service names of routes that do not carry one: `'private-dns'` routes, and
   * endpoints whose service region is unknown (neither `serviceRegion` nor an AWS service name).
   * An endpoint's own service region always wins: a cross-region endpoint serves, and its calls
   * are signed for, the service's region, whatever region this code runs in.
   * @default endpoints: `serviceRegion`, else the region in `serviceName`, else `region`;
   * `'private-dns'` routes: the first endpoint's (consumer) region, else `AWS_REGION`
   */
  region?: string
}

interface Route {
  dispatcher: EndpointDispatcher
  handler: UndiciHttpHandler
  service: string | undefined
  region: string
}

type HandleArguments = Parameters<UndiciHttpHandler['handle']>
type HandleResult = ReturnType<UndiciHttpHandler['handle']>

const isConnector = (value: unknown): value is Connector =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Connector).connect === 'function' &&
  'undici' in value

const isEndpoint = (value: unknown): value is Endpoint =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as Endpoint).zones) &&
  typeof (value as Endpoint).dnsName === 'string'

/** A pseudo-endpoint for a service reached through its private DNS name: one "zone", resolved. */
function privateDnsEndpoint(hostname: string, region: string): Endpoint {
  return {
    id: `private-dns:${hostname}`,
    region,
    dnsName: hostname,
    privateDnsName: hostname,
    zones: [{ azName: 'private-dns', dnsName: hostname, addresses: [] }],
  }
}

/**
 * A Smithy request handler for any AWS SDK v3 client: each call goes to the interface endpoint of
 * its service (own zone first, failover, zone health from @privatelink/http's dispatcher), and a
 * call no endpoint serves fails at once instead of leaving for a public address.
 */
export class AwsRequestHandler {
  readonly #routes = new Map<string, Route>()
  readonly #dispatchers: EndpointDispatcher[] = []
  #region: string | undefined

  constructor(options: AwsRequestHandlerOptions) {
    // A value that throws when read (a revoked Proxy, a throwing getter) is ERR_INVALID_OPTION
    // naming it; so is any raw error met while reading the options below.
    const dispatchers = checkOptions('options', options, () => this.#build(options))
    this.#dispatchers.push(...dispatchers)
  }

  #build(options: AwsRequestHandlerOptions): EndpointDispatcher[] {
    const built: EndpointDispatcher[] = []
    try {
      this.#configure(options, built)
    } catch (error) {
      // Options are checked before each dispatcher is built, but a later service can still fail:
      // the dispatchers already made must not keep their connectors.
      for (const dispatcher of built) dispatcher.destroy().catch(() => {})
      throw error
    }
    return built
  }

  #configure(options: AwsRequestHandlerOptions, built: EndpointDispatcher[]): void {
    if (typeof options !== 'object' || options === null)
      throw invalidOption('options', 'an object', options)
    const {
      endpoint,
      endpoints = {},
      hostnames = {},
      region,
      ...shared
    } = options as AwsRequestHandlerOptions & Record<string, unknown>
    if (region !== undefined && !isRegion(region))
      throw invalidOption('region', 'an AWS region such as us-west-2', region)
    if (typeof endpoints !== 'object' || endpoints === null || Array.isArray(endpoints))
      throw invalidOption(
        'endpoints',
        'an object of { [service]: Endpoint | Connector }',
        endpoints,
      )
    if (typeof hostnames !== 'object' || hostnames === null || Array.isArray(hostnames))
      throw invalidOption('hostnames', 'an object of { [service]: string[] }', hostnames)
    for (const name of ['origins', 'servername', 'passthrough'])
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

    // Services that share an endpoint share one dispatcher: one connector, one zone health.
    const groups = new Map<
      Endpoint | Connector | string,
      { route: Endpoint | Connector; names: Map<string, string | undefined>; region: string }
    >()
    const endpointOf = (route: Endpoint | Connector) =>
      isConnector(route) ? route.endpoint : route
    // Where the endpoint's service lives is the endpoint's to say (cross-region: its serviceRegion,
    // or the region in an AWS service name): signatures must be for that region, whatever region
    // the consumer runs in. `region` fills in only what the endpoint does not know.
    const regionOf = (route: Endpoint | Connector, option: string) => {
      const e = endpointOf(route)
      const found =
        e.serviceRegion ?? serviceOfEndpointName(e.serviceName)?.region ?? region ?? e.region
      // The service's names are built from it: an endpoint without one cannot be served.
      if (!isRegion(found))
        throw invalidOption(
          `${option}.region`,
          'an Endpoint with a region (discoverEndpoint / endpointFromConfig set it), or the region option',
          found,
        )
      return found
    }
    // 'private-dns' names resolve in the consumer's VPC: the consumer's region, not a service's.
    const firstRoute = endpoint ?? Object.values(endpoints).find((r) => r !== 'private-dns')
    const fallbackRegion =
      region ??
      (firstRoute !== undefined ? endpointOf(firstRoute).region : undefined) ??
      process.env.AWS_REGION
    this.#region = fallbackRegion
    const add = (
      key: Endpoint | Connector | string,
      route: Endpoint | Connector,
      service: string | undefined,
      serviceRegion: string,
      names: string[],
    ) => {
      let group = groups.get(key)
      if (group === undefined) {
        group = { route, names: new Map(), region: serviceRegion }
        groups.set(key, group)
      }
      for (const name of names) group.names.set(name.toLowerCase().replace(/^\*\./, ''), service)
    }
    // The endpoint's own names: a client may be given one as its `endpoint`.
    const ownNames = (route: Endpoint | Connector, service: string | undefined) => {
      const e = endpointOf(route)
      const names = [e.privateDnsName, e.dnsName, ...e.zones.map((z) => z.dnsName)].filter(
        (n): n is string => typeof n === 'string',
      )
      return service === 's3' ? [...names, ...s3VpceHostnames(e)] : names
    }
    const extra = (service: string | undefined) => {
      if (service === undefined) return []
      const names = (hostnames as Record<string, unknown>)[service] ?? []
      if (!Array.isArray(names) || names.some((n) => typeof n !== 'string' || n === ''))
        throw invalidOption(`hostnames.${service}`, 'an array of hostnames', names)
      return names as string[]
    }

    if (endpoint !== undefined) {
      const parsed = serviceOfEndpointName(endpointOf(endpoint).serviceName)
      const serviceRegion = regionOf(endpoint, 'endpoint')
      const names = ownNames(endpoint, parsed?.service)
      if (parsed !== undefined) names.push(serviceHostname(parsed.service, serviceRegion))
      add(endpoint, endpoint, parsed?.service, serviceRegion, [...names, ...extra(parsed?.service)])
    }
    for (const [service, route] of Object.entries(endpoints)) {
      if (!isServiceKey(service))
        throw invalidOption(
          `endpoints.${service}`,
          'a service key such as secretsmanager or ecr.api',
          service,
        )
      if (route === 'private-dns') {
        if (fallbackRegion === undefined)
          throw invalidOption(
            'region',
            "a region for 'private-dns' services (or AWS_REGION)",
            region,
          )
        const hostname = serviceHostname(service, fallbackRegion)
        const pseudo = privateDnsEndpoint(hostname, fallbackRegion)
        add(hostname, pseudo, service, fallbackRegion, [hostname, ...extra(service)])
        continue
      }
      if (!isEndpoint(route) && !isConnector(route))
        throw invalidOption(
          `endpoints.${service}`,
          "an Endpoint, a Connector or 'private-dns'",
          route,
        )
      const serviceRegion = regionOf(route, `endpoints.${service}`)
      add(route, route, service, serviceRegion, [
        serviceHostname(service, serviceRegion),
        ...ownNames(route, service),
        ...extra(service),
      ])
    }
    for (const service of Object.keys(hostnames)) {
      if (![...groups.values()].some((g) => [...g.names.values()].includes(service)))
        throw invalidOption(`hostnames.${service}`, 'a service that also has an endpoint', service)
    }

    for (const group of groups.values()) {
      const dispatcher = createEndpointDispatcher({
        ...(shared as SharedDispatcherOptions),
        endpoint: group.route,
        origins: [...group.names.keys()],
      })
      built.push(dispatcher)
      const handler = new UndiciHttpHandler({ dispatcher })
      for (const [name, service] of group.names) {
        if (this.#routes.has(name)) {
          throw invalidOption(
            'endpoints',
            `each hostname served by one endpoint; ${name} is served by two`,
            name,
          )
        }
        this.#routes.set(name, { dispatcher, handler, service, region: group.region })
      }
    }
  }

  /** Every hostname this handler sends through an endpoint. */
  get hostnames(): readonly string[] {
    return [...this.#routes.keys()]
  }

  /** The endpoint dispatcher serving a hostname (zones, connections per zone, the connector). */
  dispatcherFor(hostname: string): EndpointDispatcher | undefined {
    return this.#routes.get(hostname.toLowerCase())?.dispatcher
  }

  /**
   * Sends one SDK request through the endpoint that serves its hostname. A hostname no endpoint
   * serves is rejected at once (ERR_ORIGIN_NOT_PINNED) instead of going to a public address.
   */
  async handle(...[request, options]: HandleArguments): HandleResult {
    const hostname = request.hostname.toLowerCase()
    const route = this.#routes.get(hostname)
    if (route === undefined) throw missingEndpointError(hostname, this.#region, this.hostnames)
    try {
      return await route.handler.handle(request, options)
    } catch (error) {
      markTransient(error)
      const service = route.service ?? serviceOfHostname(hostname)?.service
      if (service === undefined) throw error
      throw asDnsNotPrivate(error, hostname, service, route.region) ?? error
    }
  }

  /** The SDK's hook for client-level settings; the dispatchers are this handler's own. */
  updateHttpClientConfig(_key: never, _value: never): void {}

  /** The SDK reads client-level HTTP settings here; always empty, the dispatchers hold them. */
  httpHandlerConfigs(): Record<string, never> {
    return {}
  }

  /**
   * Closes every connection. An SDK client's `destroy()` calls this: with one handler shared by
   * several clients, destroy none of them, or call this at the end. Calls after it fail
   * (`UND_ERR_DESTROYED`) rather than fall back to a public path.
   */
  destroy(): void {
    for (const dispatcher of this.#dispatchers) dispatcher.destroy().catch(() => {})
  }

  /** Lets running calls finish, then closes every connection. */
  async close(): Promise<void> {
    await Promise.all(this.#dispatchers.map((dispatcher) => dispatcher.close()))
  }
}

/**
 * A request handler for AWS SDK v3 clients that sends every call through VPC interface endpoints:
 * `new SecretsManagerClient({ requestHandler: createAwsRequestHandler({ endpoints }) })`.
 */
export function createAwsRequestHandler(options: AwsRequestHandlerOptions): AwsRequestHandler {
  return new AwsRequestHandler(options)
}
