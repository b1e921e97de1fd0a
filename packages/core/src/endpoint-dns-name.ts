import { PrivateLinkError } from '@privatelink/dns'
import { describeInput, inputText } from './describe-input.js'
import { isAzNameOf, REGION_PATTERN } from './region.js'

/**
 * An interface endpoint's DNS name taken apart (parseEndpointDnsName), or to put together
 * (formatEndpointDnsName): the regional name, a zonal name, or an API Gateway private API alias.
 * Every part is lower case.
 */
export type EndpointDnsName =
  /** `vpce-0123456789abcdef0-abcd1234.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com` */
  | {
      /** The regional name: it answers with every zone's addresses. */
      kind: 'regional'
      /** `vpce-` and 17 (or, for older endpoints, 8) hex digits. */
      endpointId: string
      /** The 8 characters AWS appends to the endpoint ID, e.g. `abcd1234`. */
      suffix: string
      /** The service's DNS labels, e.g. `vpce-svc-0123456789abcdef0`, `s3` or `execute-api`. */
      servicePart: string
      /** The endpoint's region, e.g. `us-east-1`. */
      region: string
      /** `amazonaws.com`, or `amazonaws.com.cn` in the China regions. */
      domain: string
    }
  /** `vpce-0123456789abcdef0-abcd1234-us-east-1a.vpce-svc-....us-east-1.vpce.amazonaws.com` */
  | {
      /** One zone's name: it answers with that zone's addresses only. */
      kind: 'zonal'
      /** `vpce-` and 17 (or, for older endpoints, 8) hex digits. */
      endpointId: string
      /** The 8 characters AWS appends to the endpoint ID, e.g. `abcd1234`. */
      suffix: string
      /** The zone's AZ name in the endpoint owner's account, e.g. `us-east-1a`, in `region`. */
      azName: string
      /** The service's DNS labels, e.g. `vpce-svc-0123456789abcdef0`, `s3` or `execute-api`. */
      servicePart: string
      /** The endpoint's region, e.g. `us-east-1`. */
      region: string
      /** `amazonaws.com`, or `amazonaws.com.cn` in the China regions. */
      domain: string
    }
  /** `a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com` (private API alias) */
  | {
      /** A private REST API reached through this endpoint without private DNS. */
      kind: 'execute-api-alias'
      /** The API Gateway API ID: 10 lower-case letters and digits. */
      apiId: string
      /** `vpce-` and 17 (or, for older endpoints, 8) hex digits. */
      endpointId: string
      /** The region, e.g. `us-east-1`. */
      region: string
      /** `amazonaws.com`, or `amazonaws.com.cn` in the China regions. */
      domain: string
    }

const id = 'vpce-(?:[0-9a-f]{17}|[0-9a-f]{8})'
const domain = '(amazonaws\\.com(?:\\.cn)?)'
const vpceName = new RegExp(
  `^(${id})-([a-z0-9]{8})(?:-([a-z0-9-]+))?\\.([a-z0-9][a-z0-9.-]*?)\\.(${REGION_PATTERN})\\.vpce\\.${domain}$`,
)
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
const alias = new RegExp(`^([a-z0-9]{10})-(${id})\\.execute-api\\.(${REGION_PATTERN})\\.${domain}$`)

function invalid(input: unknown, why: string): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_INVALID_DNS_NAME',
    `Invalid endpoint DNS name ${describeInput(input)}: ${why}`,
    {
      hint: 'Use a DnsEntries name from aws ec2 describe-vpc-endpoints, e.g. vpce-0123456789abcdef0-abcd1234.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com (regional) or the same with -us-east-1a after the suffix (zonal).',
      details: {
        input: inputText(input),
        example:
          'vpce-0123456789abcdef0-abcd1234.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com',
      },
    },
  )
}

/**
 * Takes an endpoint DNS name apart (trimmed, lower-cased, a trailing dot dropped). Throws
 * ERR_INVALID_DNS_NAME for anything else: a private DNS name, a name over 253 characters, a
 * malformed label, or a zonal name whose zone is not in its region.
 */
export function parseEndpointDnsName(input: string): EndpointDnsName {
  if (typeof input !== 'string') throw invalid(input, 'not a string')
  const name = input.trim().toLowerCase().replace(/\.$/, '')
  const aliasMatch = alias.exec(name)
  if (aliasMatch) {
    const [, apiId = '', endpointId = '', region = '', domain = ''] = aliasMatch
    return { kind: 'execute-api-alias', apiId, endpointId, region, domain }
  }
  const match = vpceName.exec(name)
  if (!match) throw invalid(input, 'not a vpce DNS name')
  const [, endpointId = '', suffix = '', azName, servicePart = '', region = '', tld = ''] = match
  // The service part is free-form DNS labels: an empty or malformed one would make every name
  // derived from it (zonal names) invalid too.
  if (name.length > 253 || !servicePart.split('.').every((label) => LABEL.test(label)))
    throw invalid(input, 'it has an empty or malformed DNS label')
  if (azName === undefined) {
    return {
      kind: 'regional',
      endpointId,
      suffix,
      servicePart,
      region,
      domain: tld,
    }
  }
  if (!isAzNameOf(azName, region)) throw invalid(input, `zone ${azName} is not in ${region}`)
  return {
    kind: 'zonal',
    endpointId,
    suffix,
    azName,
    servicePart,
    region,
    domain: tld,
  }
}

/** The DNS name of its parts: the inverse of parseEndpointDnsName. The parts are not checked. */
export function formatEndpointDnsName(name: EndpointDnsName): string {
  if (name.kind === 'execute-api-alias')
    return `${name.apiId}-${name.endpointId}.execute-api.${name.region}.${name.domain}`
  const zone = name.kind === 'zonal' ? `-${name.azName}` : ''
  return `${name.endpointId}-${name.suffix}${zone}.${name.servicePart}.${name.region}.vpce.${name.domain}`
}

/** The zonal name of a regional endpoint name for one zone. */
export function zonalDnsName(regionalName: string, azName: string): string {
  const parsed = parseEndpointDnsName(regionalName)
  if (parsed.kind !== 'regional') throw invalid(regionalName, 'expected the regional name')
  if (typeof azName !== 'string' || !isAzNameOf(azName, parsed.region))
    throw invalid(regionalName, `zone ${describeInput(azName)} is not in ${parsed.region}`)
  return formatEndpointDnsName({ ...parsed, kind: 'zonal', azName })
}
