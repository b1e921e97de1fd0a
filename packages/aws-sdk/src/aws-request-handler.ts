import type { Connector, Endpoint } from '@privatelink/core'
import { checkOptions } from '@privatelink/dns'
import { createEndpointDispatcher, type EndpointDispatcher } from '@privatelink/http'
import { UndiciHttpHandler } from '@smithy/undici-http-handler'
import { asDnsNotPrivate, missingEndpointError } from './errors.js'
import { type GatewayLane, gatewayRefusal, openGateway } from './gateway-route.js'
import { createPrefixListSource, type PrefixListSource } from './prefix-lists.js'
import {
  findRoute,
  type GatewayOptions,
  isConnector,
  type RouteTable,
  type RouteTarget,
  routeTable,
  type ServiceRoute,
  type SharedDispatcherOptions,
} from './route-table.js'
import { markTransient } from './sdk-transient.js'
import { serviceOfHostname } from './service-hosts.js'

export type { GatewayOptions, ServiceRoute, SharedDispatcherOptions } from './route-table.js'

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
   * addresses (guarded, not zonal). `'gateway'` (`s3`, `dynamodb`): a gateway endpoint serves the
   * service in this VPC; its public names are dialled, and only addresses in the service's
   * managed prefix list are allowed (read on the first call, see `gateway`).
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
  /** How `'gateway'` routes read the service's managed prefix list and resolve its names. @default {} */
  gateway?: GatewayOptions
}

/** The key a hostname routes by: lowercase, without a fully-qualified name's trailing dot. */
function routeName(hostname: string): string {
  return hostname.toLowerCase().replace(/\.$/, '')
}

/** One route target's dispatcher and SDK handler; a gateway route's are made on its first call. */
interface Lane {
  dispatcher: EndpointDispatcher | undefined
  handler: UndiciHttpHandler | undefined
  gateway: GatewayLane | undefined
  open: (() => Promise<void>) | undefined
}

interface Route {
  lane: Lane
  service: string | undefined
  region: string
}

type HandleArguments = Parameters<UndiciHttpHandler['handle']>
type HandleResult = ReturnType<UndiciHttpHandler['handle']>

/**
 * What a 'private-dns' route's dispatcher connects through: the service's own name as the one
 * "zone", resolved by the private-only resolver (an answer with a public address is refused).
 */
function privateDnsEndpoint(hostname: string, region: string): Endpoint {
  return {
    id: `private-dns:${hostname}`,
    region,
    dnsName: hostname,
    privateDnsName: hostname,
    zones: [{ azName: 'private-dns', dnsName: hostname, addresses: [] }],
  }
}

const dispatcherEndpoint = (
  route: Exclude<RouteTarget, { kind: 'gateway' }>,
): Endpoint | Connector =>
  route.kind === 'endpoint' ? route.endpoint : privateDnsEndpoint(route.hostname, route.region)

/**
 * A Smithy request handler for any AWS SDK v3 client: each call goes to the interface endpoint of
 * its service (own zone first, failover, zone health from @privatelink/http's dispatcher), and a
 * call no endpoint serves fails at once instead of leaving for a public address.
 */
export class AwsRequestHandler {
  readonly #routes = new Map<string, Route>()
  #table: RouteTable | undefined
  readonly #dispatchers: EndpointDispatcher[] = []
  #region: string | undefined
  #closed = false

  constructor(options: AwsRequestHandlerOptions) {
    // A value that throws when read (a revoked Proxy, a throwing getter) is ERR_INVALID_OPTION
    // naming it; so is any raw error met while reading the options.
    const table = checkOptions('options', options, () => routeTable(options))
    this.#region = table.region
    this.#table = table
    this.#dispatchers.push(...checkOptions('options', options, () => this.#build(table)))
  }

  // One dispatcher (one connector, one zone health) and one SDK handler per route target.
  #build(table: RouteTable): EndpointDispatcher[] {
    const groups = new Map<RouteTarget, string[]>()
    for (const [name, { route }] of table.routes) {
      const names = groups.get(route)
      if (names === undefined) groups.set(route, [name])
      else names.push(name)
    }
    const built: EndpointDispatcher[] = []
    // A handler that serves EC2 reads the prefix lists through EC2's endpoint too (no NAT needed).
    const servesEc2 = [...table.routes.values()].some((r) => r.service === 'ec2')
    const prefixLists = createPrefixListSource({
      ...(servesEc2 ? { requestHandler: this } : {}),
      ...table.gateway.ec2,
    })
    try {
      for (const [route, names] of groups) {
        if (route.kind === 'gateway') {
          const lane = this.#gatewayLane(route, names, table, prefixLists)
          for (const name of names) this.#routes.set(name, this.#routeFor(table, name, lane))
          continue
        }
        const servername = table.servernames.get(route)
        const target = dispatcherEndpoint(route)
        const dispatcher = createEndpointDispatcher({
          ...table.shared,
          // A Connector the user shares is the dispatcher's `connector` (http's vocabulary).
          ...(isConnector(target) ? { connector: target } : { endpoint: target }),
          origins: names,
          ...(servername === undefined ? {} : { servername }),
        })
        built.push(dispatcher)
        const handler = new UndiciHttpHandler({ dispatcher })
        const lane: Lane = { dispatcher, handler, gateway: undefined, open: undefined }
        for (const name of names) this.#routes.set(name, this.#routeFor(table, name, lane))
      }
    } catch (error) {
      // The dispatcher's own options are checked by the first one made; the ones already made
      // must not keep their connectors.
      for (const dispatcher of built) dispatcher.destroy().catch(() => {})
      throw error
    }
    return built
  }

  #routeFor(table: RouteTable, name: string, lane: Lane): Route {
    const { service, region } = table.routes.get(name) as { service?: string; region: string }
    return { lane, service, region }
  }

  // A gateway route reads its prefix list on its first call (lazily: no EC2 call, nor the
  // client-ec2 import, before one), then keeps its dispatcher; a failed read is retried next call.
  #gatewayLane(
    route: Extract<RouteTarget, { kind: 'gateway' }>,
    names: string[],
    table: RouteTable,
    prefixLists: PrefixListSource,
  ): Lane {
    let opening: Promise<void> | undefined
    const lane: Lane = { dispatcher: undefined, handler: undefined, gateway: undefined, open }
    function open(this: void): Promise<void> {
      opening ??= openGateway(route, names, table.shared, table.gateway, prefixLists).then(
        (gateway) => {
          lane.gateway = gateway
          lane.dispatcher = gateway.dispatcher
          lane.handler = new UndiciHttpHandler({ dispatcher: gateway.dispatcher })
        },
        (error: unknown) => {
          opening = undefined
          throw error
        },
      )
      return opening
    }
    return lane
  }

  async #ready(lane: Lane): Promise<UndiciHttpHandler> {
    if (lane.handler === undefined) {
      await lane.open!()
      const dispatcher = lane.dispatcher!
      if (!this.#dispatchers.includes(dispatcher)) {
        this.#dispatchers.push(dispatcher)
        // Opened after destroy(): its calls fail as every other route's do.
        if (this.#closed) dispatcher.destroy().catch(() => {})
      }
    }
    return lane.handler!
  }

  // `*.suffix` for each family served, for the refusal's list of what is served.
  #families(): string[] {
    return [...new Set((this.#table?.families ?? []).map((f) => `*.${f.family.suffix}`))]
  }

  /** Every hostname this handler sends through an endpoint (families not included). */
  get hostnames(): readonly string[] {
    return [...this.#routes.keys()]
  }

  /**
   * The endpoint dispatcher serving a hostname (zones, connections per zone, the connector): a
   * name served, or one of a served family (an S3 bucket's, a DynamoDB account endpoint).
   */
  dispatcherFor(hostname: string): EndpointDispatcher | undefined {
    return this.#routeOf(routeName(hostname))?.route.lane.dispatcher
  }

  // Its own entry, else its family's: sent through the family's origin, a name the dispatcher pins.
  #routeOf(hostname: string): { route: Route; origin: string } | undefined {
    const own = this.#routes.get(hostname)
    if (own !== undefined) return { route: own, origin: hostname }
    const found = this.#table === undefined ? undefined : findRoute(this.#table, hostname)
    const route = found === undefined ? undefined : this.#routes.get(found.origin)
    return route === undefined ? undefined : { route, origin: found!.origin }
  }

  /**
   * Sends one SDK request through the endpoint that serves its hostname. A hostname no endpoint
   * serves is rejected at once (ERR_ORIGIN_NOT_PINNED) instead of going to a public address.
   */
  async handle(...[request, options]: HandleArguments): HandleResult {
    const hostname = routeName(request.hostname)
    const found = this.#routeOf(hostname)
    if (found === undefined)
      throw missingEndpointError(hostname, this.#region, this.hostnames, this.#families())
    const { route, origin } = found
    // A gateway route's first call reads its prefix list (ERR_PREFIX_LIST_UNAVAILABLE if not).
    const sdkHandler = await this.#ready(route.lane)
    try {
      // Sent to the name as routed (no trailing dot; a family's member through its route's name),
      // so the dispatcher's pinning sees a name it serves; the signed Host header stays as the
      // SDK set it, and TLS presents it unless the route has its own name (DynamoDB's vpce name).
      const routed =
        origin === request.hostname
          ? request
          : (Object.assign(Object.create(Object.getPrototypeOf(request)), request, {
              hostname: origin,
              headers: { host: request.headers['host'] ?? hostname, ...request.headers },
            }) as typeof request)
      return await sdkHandler.handle(routed, options)
    } catch (error) {
      const gateway = route.lane.gateway
      const refused =
        gateway === undefined
          ? undefined
          : await gatewayRefusal(error, hostname, route.service ?? '', gateway)
      if (refused !== undefined) throw refused
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
    this.#closed = true
    for (const dispatcher of this.#dispatchers) dispatcher.destroy().catch(() => {})
  }

  /** Lets running calls finish, then closes every connection. */
  async close(): Promise<void> {
    this.#closed = true
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
