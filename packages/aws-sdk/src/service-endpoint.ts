import { type Endpoint, invalidOption } from '@privatelink/core'
import { checkOptions } from '@privatelink/dns'
import { isRegion, isServiceKey, serviceHostname } from './service-hosts.js'
import { vpceName } from './service-names.js'

/** The names S3 interface endpoints answer under their vpce name: buckets, access points, control. */
export type S3EndpointKind = 'bucket' | 'accesspoint' | 'control'
const S3_KINDS: readonly S3EndpointKind[] = ['bucket', 'accesspoint', 'control']

/** Options of `awsServiceEndpoint`. */
export interface AwsServiceEndpointOptions {
  /** The service key, as the endpoint's service name ends: `secretsmanager`, `sts`, `s3`, `ecr.api`. */
  service: string
  /** The interface endpoint (discoverEndpoint / endpointFromConfig). */
  endpoint: Endpoint
  /** Region in the service's hostname, e.g. `us-west-2`. @default `endpoint.serviceRegion ?? endpoint.region` */
  region?: string
  /** S3 only: which vpce name. @default 'bucket' */
  s3?: S3EndpointKind
}

/** The names an S3 interface endpoint serves besides its own: `bucket.`, `accesspoint.`, `control.`. */
export function s3VpceHostnames(endpoint: Endpoint): string[] {
  return S3_KINDS.map((kind) => `${kind}.${vpceName(endpoint)}`)
}

/**
 * The URL to give an SDK client's `endpoint` for a service reached through an interface
 * endpoint: the service's own name when the endpoint has private DNS on (what the SDK calls
 * anyway), else the endpoint's regional vpce name; for S3 always a vpce name (`bucket.`,
 * `accesspoint.` or `control.`), which S3 requires with path-style bucket addressing
 * (`forcePathStyle: true`).
 */
export function awsServiceEndpoint(options: AwsServiceEndpointOptions): string {
  // A value that throws when read (a revoked Proxy, a throwing getter) is ERR_INVALID_OPTION.
  return checkOptions('options', options, () => serviceEndpointUrl(options))
}

function serviceEndpointUrl(options: AwsServiceEndpointOptions): string {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object', options)
  const { service, endpoint } = options
  if (!isServiceKey(service))
    throw invalidOption('service', 'a service key such as secretsmanager, s3 or ecr.api', service)
  if (typeof endpoint !== 'object' || endpoint === null || typeof endpoint.dnsName !== 'string')
    throw invalidOption('endpoint', 'an Endpoint (discoverEndpoint / endpointFromConfig)', endpoint)
  const region = options.region ?? endpoint.serviceRegion ?? endpoint.region
  if (!isRegion(region)) throw invalidOption('region', 'an AWS region such as us-west-2', region)
  if (service === 's3') {
    const kind = options.s3 ?? 'bucket'
    if (!S3_KINDS.includes(kind))
      throw invalidOption('s3', "'bucket', 'accesspoint' or 'control'", options.s3)
    return `https://${kind}.${vpceName(endpoint)}`
  }
  if (options.s3 !== undefined)
    throw invalidOption('s3', "nothing unless service is 's3'", options.s3)
  return endpoint.privateDnsName !== undefined
    ? `https://${serviceHostname(service, region)}`
    : `https://${vpceName(endpoint)}`
}
