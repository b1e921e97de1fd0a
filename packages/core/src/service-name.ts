import { PrivateLinkError } from '@privatelink/dns'
import { describeInput, inputText } from './describe-input.js'
import { REGION_PATTERN } from './region.js'

export type ServiceName =
  /** `com.amazonaws.us-east-1.s3`, `com.amazonaws.us-east-1.ecr.dkr` */
  | { kind: 'aws'; prefix: 'com.amazonaws'; region: string; service: string }
  /** `aws.sagemaker.us-east-1.notebook`, `aws.api.us-east-1.kendra-ranking` */
  | { kind: 'aws'; prefix: `aws.${string}`; region: string; service: string }
  /** `com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0` (your own, a SaaS or a Marketplace service) */
  | { kind: 'endpoint-service'; prefix: 'com.amazonaws.vpce'; region: string; serviceId: string }

const endpointService = new RegExp(
  `^com\\.amazonaws\\.vpce\\.(${REGION_PATTERN})\\.(vpce-svc-[0-9a-f]{17})$`,
)
const awsService = new RegExp(
  `^com\\.amazonaws\\.(${REGION_PATTERN})\\.([a-z0-9][a-z0-9-]*(?:\\.[a-z0-9][a-z0-9-]*)*)$`,
)
const awsNamespaced = new RegExp(
  `^aws\\.([a-z0-9][a-z0-9-]*)\\.(${REGION_PATTERN})\\.([a-z0-9][a-z0-9-]*(?:\\.[a-z0-9][a-z0-9-]*)*)$`,
)

export function parseServiceName(input: string): ServiceName {
  if (typeof input === 'string') {
    const name = input.trim().toLowerCase()
    let match = endpointService.exec(name)
    if (match)
      return {
        kind: 'endpoint-service',
        prefix: 'com.amazonaws.vpce',
        region: match[1]!,
        serviceId: match[2]!,
      }
    match = awsService.exec(name)
    if (match)
      return { kind: 'aws', prefix: 'com.amazonaws', region: match[1]!, service: match[2]! }
    match = awsNamespaced.exec(name)
    if (match)
      return { kind: 'aws', prefix: `aws.${match[1]!}`, region: match[2]!, service: match[3]! }
  }
  throw new PrivateLinkError(
    'ERR_INVALID_SERVICE_NAME',
    `Invalid endpoint service name ${describeInput(input)}`,
    {
      hint: 'Use the name shown by aws ec2 describe-vpc-endpoint-services, e.g. com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0 or com.amazonaws.us-east-1.execute-api.',
      details: {
        input: inputText(input),
        example: 'com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0',
      },
    },
  )
}

export function formatServiceName(name: ServiceName): string {
  return name.kind === 'endpoint-service'
    ? `${name.prefix}.${name.region}.${name.serviceId}`
    : name.prefix === 'com.amazonaws'
      ? `com.amazonaws.${name.region}.${name.service}`
      : `${name.prefix}.${name.region}.${name.service}`
}
