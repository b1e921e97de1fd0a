import { PrivateLinkError } from '@privatelink/core'
import { endpointServiceName, serviceOfHostname } from './service-hosts.js'

const createHint = (serviceName: string) =>
  `Create an interface endpoint for ${serviceName} in this VPC (aws ec2 create-vpc-endpoint --vpc-endpoint-type Interface --service-name ${serviceName} --subnet-ids ... --security-group-ids ...; its security group must allow TCP 443 from this code), then pass it in 'endpoints'.`

/**
 * A call for a host no configured endpoint serves. Without this handler it would leave for the
 * service's public address: through a NAT (not what you meant), or nowhere (a VPC without one,
 * where the SDK hangs until its timeout).
 */
export function missingEndpointError(
  hostname: string,
  region: string | undefined,
  served: readonly string[],
  families: readonly string[] = [],
): PrivateLinkError {
  const host = serviceOfHostname(hostname)
  const serviceRegion = host?.region ?? region
  const serviceName =
    host?.service !== undefined && serviceRegion !== undefined
      ? endpointServiceName(host.service, serviceRegion)
      : undefined
  let hint: string
  if (host?.global === true) {
    hint = `${hostname} is a global endpoint, which no interface endpoint serves. Give the client a region so that it calls the regional name${host.service === 'sts' ? ' (STS: regional is the default in current SDKs; check AWS_STS_REGIONAL_ENDPOINTS)' : ''}, and create the interface endpoint for that region.`
  } else if (host?.vpce === true) {
    hint = `${hostname} is an interface endpoint's own DNS name, but not one of the endpoints given to this handler. Pass that endpoint in 'endpoints'.`
  } else if (
    host?.service !== undefined &&
    servedElsewhere(host.service, host.region, served) !== undefined
  ) {
    // A cross-region endpoint: the SDK client was given the consumer's region, not the service's.
    const other = servedElsewhere(host.service, host.region, served)!
    hint = `This handler serves ${host.service} in ${other.region} (${other.hostname}), through a cross-region interface endpoint: create the SDK client with region '${other.region}', so that it calls that name and signs for the service's region.`
  } else if (host?.service === 's3' && families.some((f) => hostname.endsWith(f.slice(1)))) {
    // A served suffix, but not one label before it: a bucket name with dots, which no wildcard
    // certificate (`*.s3.<region>.amazonaws.com`) covers.
    hint = `${hostname} has more than one label before a name this handler serves for S3: a bucket name with dots. Set forcePathStyle: true on the S3Client (path-style: s3.<region>.amazonaws.com/<bucket>), or rename the bucket without dots.`
  } else if (serviceName !== undefined) {
    hint = `This VPC has no interface endpoint for ${serviceName} configured here. ${createHint(serviceName)}${settingHint(hostname, host?.service)}`
  } else {
    hint = `${hostname} is not an AWS service name this handler knows. Pass the endpoint that serves it with the host in 'hostnames'.`
  }
  return new PrivateLinkError(
    'ERR_ORIGIN_NOT_PINNED',
    `${hostname} is not served by any interface endpoint of this request handler; refusing to send it over the public path`,
    {
      hint: `${hint} Hosts served: ${[...served, ...families].join(', ')}.`,
      details: {
        hostname,
        ...(serviceName !== undefined ? { endpointService: serviceName } : {}),
        served: [...served],
      },
    },
  )
}

/** For names a client setting chose: which setting, so a user can see why this name was called. */
function settingHint(hostname: string, service: string | undefined): string {
  if (service === 'dynamodb' && /\.ddb\./.test(hostname))
    return " This is DynamoDB's account-based name, which the SDK calls when the credentials carry an account ID (accountIdEndpointMode 'preferred', the default); the handler serves it once a dynamodb endpoint is given. accountIdEndpointMode: 'disabled' makes the SDK call dynamodb.<region>.amazonaws.com instead."
  if (service === 's3' && /\.s3-accesspoint\./.test(hostname))
    return ' This is an S3 access point name (a Bucket given as an access point ARN): the s3 endpoint serves it.'
  return ''
}

/** A served name of the same service in another region, if the handler has one. */
function servedElsewhere(
  service: string,
  region: string | undefined,
  served: readonly string[],
): { hostname: string; region: string } | undefined {
  for (const hostname of served) {
    const other = serviceOfHostname(hostname)
    if (other?.service === service && other.region !== undefined && other.region !== region)
      return { hostname, region: other.region }
  }
  return undefined
}

interface Attempt {
  code?: unknown
  address?: unknown
}

/**
 * A service reached through its private DNS name, which answered with a public address: private
 * DNS is off, or the VPC has no endpoint for it. The connector reports this as "unreachable in
 * every zone"; here it is named for what it is.
 */
export function asDnsNotPrivate(
  error: unknown,
  hostname: string,
  service: string,
  region: string,
): PrivateLinkError | undefined {
  if (!PrivateLinkError.isInstance(error)) return undefined
  // The connector names a failure every zone shared (ERR_DNS_NOT_PRIVATE) or, in older
  // versions, wraps it as ERR_ENDPOINT_UNREACHABLE with the codes in its attempts.
  const attempts = (error.details as { attempts?: Attempt[] }).attempts ?? []
  const everyZonePublic =
    error.code === 'ERR_DNS_NOT_PRIVATE' ||
    (error.code === 'ERR_ENDPOINT_UNREACHABLE' &&
      attempts.length > 0 &&
      attempts.every((a) => a.code === 'ERR_DNS_NOT_PRIVATE'))
  if (!everyZonePublic) return undefined
  const serviceName = endpointServiceName(service, region)
  return new PrivateLinkError(
    'ERR_DNS_NOT_PRIVATE',
    `${hostname} did not resolve to a private address; refusing to connect`,
    {
      hint: `A public answer means the call would leave the AWS network: this VPC has no interface endpoint for ${serviceName} with private DNS enabled, or this code runs outside that VPC (a Lambda function must be attached to it). Check enableDnsSupport and enableDnsHostnames on the VPC. ${createHint(serviceName)}`,
      details: { hostname, endpointService: serviceName },
      cause: error,
    },
  )
}
