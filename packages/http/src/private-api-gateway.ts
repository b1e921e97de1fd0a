import { rootCertificates } from 'node:tls'
import {
  type Connector,
  DEFAULT_PATH_IDLE_TIMEOUT_MS,
  type Endpoint,
  integerOption,
  invalidOption,
  type Locality,
  parseEndpointDnsName,
} from '@privatelink/core'
import { type ConnectRequest, checkOptions, guardedConnect } from '@privatelink/dns'
import { Agent, type Dispatcher } from 'undici'
import { createEndpointDispatcher, type EndpointDispatcherOptions } from './endpoint-dispatcher.js'
import { keepAliveTimeouts } from './keep-alive-timeouts.js'

/** How requests name the API: see {@link PrivateApiGatewayOptions.mode}. */
export type PrivateApiMode = 'header' | 'alias' | 'private-dns'

/** Options of {@link privateApiGateway}. */
export interface PrivateApiGatewayOptions {
  /** The API's ID, e.g. `a1b2c3d4e5`. */
  apiId: string
  /** The stage, the first segment of the base URL's path, e.g. `prod`. */
  stage: string
  /** The API's region, e.g. `us-west-2`: part of the execute-api hostnames. */
  region: string
  /** The execute-api interface endpoint. Gives zone-aware failover. */
  endpoint?: Endpoint | Connector
  /** Only the endpoint's regional DNS name: resolved through a private-only resolver, no zone awareness. */
  vpceDnsName?: string
  /**
   * - `header`: call the vpce DNS name with `x-apigw-api-id` (works with private DNS on or off).
   * - `alias`: `https://{apiId}-{vpceId}.execute-api.{region}.amazonaws.com` (the endpoint must be associated with the API).
   * - `private-dns`: `https://{apiId}.execute-api.{region}.amazonaws.com` (private DNS on, in an associated VPC).
   * @default 'header'
   */
  mode?: PrivateApiMode
  /** Where this code runs, for own-zone-first when `endpoint` is given. @default detected */
  locality?: Locality
  /**
   * Passed to the dispatcher. With only `vpceDnsName` (no zones known), the options that mean
   * something to a plain guarded Agent apply: `ca`, `servername`, `resolver` (its lookup),
   * `connections`, `pipelining`, `keepAliveTimeoutMs`, `headersTimeoutMs`, `bodyTimeoutMs`, and
   * `connectTimeoutMs` + `tlsTimeoutMs` as one connect budget; the zone and retry settings need
   * `endpoint`.
   */
  dispatcher?: Omit<EndpointDispatcherOptions, 'endpoint' | 'origins' | 'locality'>
  /**
   * `vpceDnsName` mode: CIDRs every dialled address must fall in, names, IP literals and
   * redirects alike (an `endpoint` pins its own addresses instead).
   * @default RFC 1918, 100.64.0.0/10, fc00::/7
   */
  allowedRanges?: string[]
}

/** What {@link privateApiGateway} returns: the base URL, the dispatcher and headers to send. */
export interface PrivateApi {
  /** Append your resource path: `${baseUrl}/orders`. */
  baseUrl: string
  /** Pass as undici's `dispatcher` (`request`, `fetch`); close it when done. */
  dispatcher: Dispatcher
  /** Send these with every request (the API ID in header mode). */
  headers: Record<string, string>
}

/**
 * Calls an API Gateway private API through an execute-api interface endpoint. Header mode keeps
 * Host and SNI on the vpce name (overriding Host would change SNI), so its certificate matches.
 */
export function privateApiGateway(options: PrivateApiGatewayOptions): PrivateApi {
  // A value that throws when read (a revoked Proxy, a throwing getter) is ERR_INVALID_OPTION.
  return checkOptions('options', options, () => buildPrivateApi(options))
}

function buildPrivateApi(options: PrivateApiGatewayOptions): PrivateApi {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object', options)
  const { apiId, stage, region } = options
  if (typeof apiId !== 'string' || !/^[a-z0-9]{10}$/.test(apiId))
    throw invalidOption('apiId', 'the 10-character API ID, e.g. a1b2c3d4e5', apiId)
  if (typeof stage !== 'string' || stage === '' || stage.includes('/'))
    throw invalidOption('stage', 'a stage name such as prod', stage)
  if (typeof region !== 'string' || region === '')
    throw invalidOption('region', 'an AWS region', region)
  const mode = options.mode ?? 'header'
  if (!['header', 'alias', 'private-dns'].includes(mode))
    throw invalidOption('mode', "'header', 'alias' or 'private-dns'", mode)
  if (
    options.endpoint !== undefined &&
    (typeof options.endpoint !== 'object' || options.endpoint === null)
  )
    throw invalidOption('endpoint', 'an Endpoint or a Connector', options.endpoint)
  if (options.vpceDnsName !== undefined && typeof options.vpceDnsName !== 'string')
    throw invalidOption('vpceDnsName', "the endpoint's DNS name", options.vpceDnsName)
  const endpoint =
    options.endpoint === undefined
      ? undefined
      : 'connect' in options.endpoint
        ? options.endpoint.endpoint
        : options.endpoint
  const dnsName = options.vpceDnsName ?? endpoint?.dnsName
  if (dnsName !== undefined && typeof dnsName !== 'string')
    throw invalidOption('endpoint', 'an Endpoint with a dnsName', options.endpoint)
  const vpceDnsName = dnsName?.toLowerCase()
  if (vpceDnsName === undefined)
    throw invalidOption('endpoint', 'an execute-api endpoint, or vpceDnsName', undefined)
  const vpceId = parseEndpointDnsName(vpceDnsName).endpointId
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
  const host =
    mode === 'header'
      ? vpceDnsName
      : mode === 'alias'
        ? `${apiId}-${vpceId}.execute-api.${region}.${domain}`
        : `${apiId}.execute-api.${region}.${domain}`
  let dispatcher: Dispatcher
  if (options.endpoint !== undefined) {
    dispatcher = createEndpointDispatcher({
      ...options.dispatcher,
      endpoint: options.endpoint,
      origins: [host],
      ...(options.locality ? { locality: options.locality } : {}),
    })
  } else {
    dispatcher = guardedAgent(options)
  }
  return {
    baseUrl: `https://${host}/${stage}`,
    dispatcher,
    headers: mode === 'header' ? { 'x-apigw-api-id': apiId } : {},
  }
}

const AGENT_INTEGERS = [
  'connections',
  'pipelining',
  'keepAliveTimeoutMs',
  'headersTimeoutMs',
  'bodyTimeoutMs',
  'connectTimeoutMs',
  'tlsTimeoutMs',
] as const

/**
 * No zones known: an Agent whose every connect goes through the guard, so a name answered with a
 * public address, an IP literal in a URL and a redirect to one are all refused before a socket
 * exists (Node and undici never call `lookup` for a literal: a lookup-only Agent lets them out).
 */
function guardedAgent(options: PrivateApiGatewayOptions): Agent {
  const settings = options.dispatcher ?? {}
  if (typeof settings !== 'object' || settings === null)
    throw invalidOption('dispatcher', 'an object of dispatcher options', settings)
  for (const name of AGENT_INTEGERS) {
    integerOption(`dispatcher.${name}`, settings[name], 0)
  }
  const { ca, servername, resolver } = settings
  if (ca !== undefined && typeof ca !== 'string' && !Array.isArray(ca))
    throw invalidOption('dispatcher.ca', 'PEM certificates (a string or an array)', ca)
  if (servername !== undefined && (typeof servername !== 'string' || servername === ''))
    throw invalidOption('dispatcher.servername', 'a DNS name', servername)
  if (resolver !== undefined && typeof resolver?.lookup !== 'function')
    throw invalidOption('dispatcher.resolver', 'a Resolver from @privatelink/dns', resolver)
  const { allowedRanges } = options
  if (allowedRanges !== undefined && !Array.isArray(allowedRanges))
    throw invalidOption('allowedRanges', 'an array of CIDR strings', allowedRanges)
  // The connector's budget: a TCP connect and a TLS handshake of 10 s each, unless set.
  const timeoutMs =
    settings.connectTimeoutMs === undefined && settings.tlsTimeoutMs === undefined
      ? undefined
      : (settings.connectTimeoutMs ?? 10_000) + (settings.tlsTimeoutMs ?? 10_000)
  const connect = guardedConnect({
    // Extra CAs: Node's roots (Amazon Trust Services, which signs execute-api) are kept.
    tls: ca === undefined ? {} : { ca: [...rootCertificates, ...[ca].flat()] },
    ...(allowedRanges !== undefined ? { allowedRanges } : {}),
    ...(resolver !== undefined ? { lookup: resolver.lookup } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  })
  return new Agent({
    ...(settings.connections !== undefined ? { connections: settings.connections } : {}),
    pipelining: settings.pipelining ?? 1,
    // The path is the same interface endpoint: its 350 s idle timeout bounds undici's.
    ...keepAliveTimeouts(settings.keepAliveTimeoutMs, DEFAULT_PATH_IDLE_TIMEOUT_MS),
    headersTimeout: settings.headersTimeoutMs ?? 300_000,
    bodyTimeout: settings.bodyTimeoutMs ?? 300_000,
    // undici hands a URL's port over as written: '' for https://name/ (its own connector then
    // dials 443, guardedConnect would dial port 0). An explicit servername beats the Host
    // header's name, which undici passes as servername.
    connect: (request: ConnectRequest, callback) =>
      connect(
        {
          ...request,
          port: request.port === '' ? (request.protocol === 'https:' ? 443 : 80) : request.port,
          ...(servername !== undefined ? { servername } : {}),
        },
        callback,
      ),
  })
}
