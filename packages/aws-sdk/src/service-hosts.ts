/**
 * AWS service hostnames and interface endpoint service names. An interface endpoint is created
 * for `com.amazonaws.<region>.<service>`; the SDK calls `<host prefix>.<region>.<dns suffix>`,
 * where the host prefix is the service part with its labels reversed (`ecr.api` -> `api.ecr`,
 * `sagemaker.runtime` -> `runtime.sagemaker`), and for most services simply the same word.
 */

const SERVICE_KEY = /^[a-z0-9][a-z0-9-]*(?:\.[a-z0-9][a-z0-9-]*)*$/
const REGION = /^[a-z]{2}(?:-(?:gov|iso[a-z]?))?-[a-z]+-\d{1,2}$/

export const isServiceKey = (value: unknown): value is string =>
  typeof value === 'string' && SERVICE_KEY.test(value)

export const isRegion = (value: unknown): value is string =>
  typeof value === 'string' && REGION.test(value)

/** The DNS suffix of a region's partition. */
export function dnsSuffix(region: string): string {
  if (region.startsWith('cn-')) return 'amazonaws.com.cn'
  if (region.startsWith('us-isob-')) return 'sc2s.sgov.gov'
  if (region.startsWith('us-iso-')) return 'c2s.ic.gov'
  return 'amazonaws.com'
}

const reverseLabels = (name: string) => name.split('.').reverse().join('.')

/** The name the SDK calls for a service in a region: `secretsmanager.us-west-2.amazonaws.com`. */
export function serviceHostname(service: string, region: string): string {
  return `${reverseLabels(service)}.${region}.${dnsSuffix(region)}`
}

/** `com.amazonaws.us-west-2.secretsmanager`: what to create the interface endpoint for. */
export function endpointServiceName(service: string, region: string): string {
  return `com.amazonaws.${region}.${service}`
}

/** The service key of an interface endpoint for an AWS service, from its service name. */
export function serviceOfEndpointName(
  serviceName: string | undefined,
): { service: string; region: string } | undefined {
  const match = /^com\.amazonaws\.([a-z0-9-]+)\.([a-z0-9][a-z0-9.-]*)$/.exec(serviceName ?? '')
  if (match === null || match[1] === 'vpce' || !isRegion(match[1])) return undefined
  return { region: match[1], service: match[2]! }
}

export interface HostService {
  /** The service key (`com.amazonaws.<region>.<service>`), when the host is an AWS service name. */
  service?: string
  region?: string
  /** `sts.amazonaws.com`: global endpoints are not reachable through an interface endpoint. */
  global?: boolean
  /** A `*.vpce.amazonaws.com` name: an endpoint's own DNS name, not a service name. */
  vpce?: boolean
}

const SUFFIXES = ['amazonaws.com.cn', 'amazonaws.com', 'api.aws', 'sc2s.sgov.gov', 'c2s.ic.gov']
// S3's virtual-hosted and control names put the bucket or account first: `b.s3.<region>...`.
const S3_LABELS = new Set(['s3', 's3-accesspoint', 's3-control', 's3-outposts'])

/** Which AWS service a hostname belongs to, for an error hint; undefined when it is not AWS's. */
export function serviceOfHostname(hostname: string): HostService | undefined {
  const host = hostname.toLowerCase().replace(/\.$/, '')
  const suffix = SUFFIXES.find((s) => host.endsWith(`.${s}`))
  if (suffix === undefined) return undefined
  const labels = host.slice(0, -(suffix.length + 1)).split('.')
  if (labels.includes('vpce')) return { vpce: true }
  const regionAt = labels.findIndex((label) => isRegion(label))
  if (regionAt < 0) {
    // sts.amazonaws.com, iam.amazonaws.com: global endpoints.
    return labels.length === 1 ? { service: labels[0]!, global: true } : undefined
  }
  const region = labels[regionAt]!
  const before = labels.slice(0, regionAt)
  if (before.length === 0) return undefined
  const last = before[before.length - 1]!
  if (S3_LABELS.has(last)) return { service: 's3', region }
  // DynamoDB's account-based endpoint: `<account>.ddb.<region>.amazonaws.com`.
  if (last === 'ddb' && before.length === 2) return { service: 'dynamodb', region }
  // `s3.dualstack.<region>`: dual-stack S3 names carry the word before the region.
  if (last === 'dualstack' && before.length >= 2) {
    const service = before[before.length - 2]!
    return { service: S3_LABELS.has(service) ? 's3' : service, region }
  }
  return { service: reverseLabels(before.join('.')), region }
}
