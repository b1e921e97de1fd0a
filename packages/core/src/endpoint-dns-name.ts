import { PrivateLinkError } from '@privatelink/dns'
import { describeInput, inputText } from './describe-input.js'
import { isAzNameOf, REGION_PATTERN } from './region.js'

export type EndpointDnsName =
  /** `vpce-0123456789abcdef0-abcd1234.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com` */
  | {
      kind: 'regional'
      endpointId: string
      suffix: string
      servicePart: string
      region: string
      domain: string
    }
  /** `vpce-0123456789abcdef0-abcd1234-us-east-1a.vpce-svc-....us-east-1.vpce.amazonaws.com` */
  | {
      kind: 'zonal'
      endpointId: string
      suffix: string
      azName: string
      servicePart: string
      region: string
      domain: string
    }
  /** `a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com` (private API alias) */
  | { kind: 'execute-api-alias'; apiId: string; endpointId: string; region: string; domain: string }

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

export function parseEndpointDnsName(input: string): EndpointDnsName {
  if (typeof input !== 'string') throw invalid(input, 'not a string')
  const name = input.trim().toLowerCase().replace(/\.$/, '')
  const aliasMatch = alias.exec(name)
  if (aliasMatch) {
    return {
      kind: 'execute-api-alias',
      apiId: aliasMatch[1]!,
      endpointId: aliasMatch[2]!,
      region: aliasMatch[3]!,
      domain: aliasMatch[4]!,
    }
  }
  const match = vpceName.exec(name)
  if (!match) throw invalid(input, 'not a vpce DNS name')
  const [, endpointId, suffix, azName, servicePart, region, tld] = match as unknown as string[]
  // The service part is free-form DNS labels: an empty or malformed one would make every name
  // derived from it (zonal names) invalid too.
  if (name.length > 253 || !servicePart!.split('.').every((label) => LABEL.test(label)))
    throw invalid(input, 'it has an empty or malformed DNS label')
  if (azName === undefined) {
    return {
      kind: 'regional',
      endpointId: endpointId!,
      suffix: suffix!,
      servicePart: servicePart!,
      region: region!,
      domain: tld!,
    }
  }
  if (!isAzNameOf(azName, region!)) throw invalid(input, `zone ${azName} is not in ${region}`)
  return {
    kind: 'zonal',
    endpointId: endpointId!,
    suffix: suffix!,
    azName,
    servicePart: servicePart!,
    region: region!,
    domain: tld!,
  }
}

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
