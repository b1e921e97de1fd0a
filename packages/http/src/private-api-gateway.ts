import {
  type Connector,
  type Endpoint,
  invalidOption,
  type Locality,
  parseEndpointDnsName,
} from '@privatelink/core'
import { createResolver } from '@privatelink/dns'
import { Agent, type Dispatcher } from 'undici'
import { createEndpointDispatcher, type EndpointDispatcherOptions } from './endpoint-dispatcher.js'

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
  /** Passed to the dispatcher. */
  dispatcher?: Omit<EndpointDispatcherOptions, 'endpoint' | 'origins' | 'locality'>
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
  const endpoint =
    options.endpoint === undefined
      ? undefined
      : 'connect' in options.endpoint
        ? options.endpoint.endpoint
        : options.endpoint
  const vpceDnsName = (options.vpceDnsName ?? endpoint?.dnsName)?.toLowerCase()
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
    // No zones known: dial whatever the private resolver answers, and refuse public answers.
    dispatcher = new Agent({ connect: { lookup: createResolver().lookup } })
  }
  return {
    baseUrl: `https://${host}/${stage}`,
    dispatcher,
    headers: mode === 'header' ? { 'x-apigw-api-id': apiId } : {},
  }
}
