import type { Endpoint } from '@privatelink/core'
import { dnsSuffix } from './service-hosts.js'

/**
 * The names an SDK computes for one service beyond its regional name, as families: one label (a
 * bucket, an account ID, an access point's `name-account`) before a fixed suffix. Current SDKs
 * call these by default: DynamoDB's account-based endpoint (`<account>.ddb.<region>...`, on since
 * SDK 3.656 with `accountIdEndpointMode: 'preferred'`), S3's virtual-hosted buckets, access
 * points and S3 Control's `<account>.s3-control...`; with an S3 endpoint's vpce name as the
 * client's `endpoint`, the same families under `bucket.` / `accesspoint.` / `control.`.
 */
export interface NameFamily {
  /** The fixed part: `s3.us-west-2.amazonaws.com`. */
  readonly suffix: string
  /** What the one label before it may be. */
  readonly label: RegExp
  /** For hints and tests: `bucket`, `accesspoint`, `control`, `account`. */
  readonly kind: 'bucket' | 'accesspoint' | 'control' | 'account'
}

// A bucket name that fits one DNS label (names with dots go path-style: the SDK does that itself).
const BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/
const ACCOUNT = /^\d{12}$/
// `<access point name>-<account id>`: access point names are 3-50 lowercase letters, digits, dashes.
const ACCESS_POINT = /^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]-\d{12}$/

/** `vpce-...s3.<region>.vpce.amazonaws.com`: the endpoint's regional name without a leading `*.`. */
export const vpceName = (endpoint: Endpoint): string =>
  endpoint.dnsName.toLowerCase().replace(/^\*\./, '')

/** The families of names a service's SDK computes that the endpoint for it serves. */
export function serviceNameFamilies(
  service: string | undefined,
  region: string,
  endpoint: Endpoint | undefined,
): NameFamily[] {
  const domain = dnsSuffix(region)
  if (service === 'dynamodb')
    return [{ suffix: `ddb.${region}.${domain}`, label: ACCOUNT, kind: 'account' }]
  if (service !== 's3') return []
  const own: NameFamily[] = [
    { suffix: `s3.${region}.${domain}`, label: BUCKET, kind: 'bucket' },
    { suffix: `s3-accesspoint.${region}.${domain}`, label: ACCESS_POINT, kind: 'accesspoint' },
    { suffix: `s3-control.${region}.${domain}`, label: ACCOUNT, kind: 'control' },
  ]
  // A gateway endpoint has no names of its own.
  if (endpoint === undefined) return own
  const vpce = vpceName(endpoint)
  return [
    ...own,
    { suffix: `bucket.${vpce}`, label: BUCKET, kind: 'bucket' },
    { suffix: `accesspoint.${vpce}`, label: ACCESS_POINT, kind: 'accesspoint' },
    { suffix: `control.${vpce}`, label: ACCOUNT, kind: 'control' },
  ]
}

/** More exact names of a service: S3 Control's regional name beside S3's own. */
export function serviceExtraNames(service: string | undefined, region: string): string[] {
  return service === 's3' ? [`s3-control.${region}.${dnsSuffix(region)}`] : []
}

/** Whether `hostname` (lowercase) is one name of the family. */
export function inFamily(family: NameFamily, hostname: string): boolean {
  if (!hostname.endsWith(`.${family.suffix}`)) return false
  const label = hostname.slice(0, -(family.suffix.length + 1))
  return family.label.test(label)
}

/**
 * The TLS name to present for an endpoint's calls when it is not the name called. DynamoDB's
 * interface endpoints have no private DNS: AWS's guide has clients call the endpoint's own
 * `vpce-...dynamodb.<region>.vpce.amazonaws.com` name, and that is the name its certificate is
 * sure to carry; the service and account-based names are sent as the (signed) Host header over a
 * connection verified for the vpce name. S3 endpoints with private DNS present
 * `*.s3.<region>.amazonaws.com` (and the access point and control names), so S3 keeps the name
 * called. An endpoint with a private DNS name answers for the service's names: the name called.
 */
export function endpointServername(
  service: string | undefined,
  endpoint: Endpoint,
): string | undefined {
  if (service !== 'dynamodb' || endpoint.privateDnsName !== undefined) return undefined
  return vpceName(endpoint)
}
