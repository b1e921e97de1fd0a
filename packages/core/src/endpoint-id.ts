import { PrivateLinkError } from '@privatelink/dns'
import { describeInput, inputText } from './describe-input.js'

const pattern = /^vpce-(?:[0-9a-f]{8}|[0-9a-f]{17})$/

/** `vpce-` followed by 17 hex digits (or 8, for endpoints created before 2018). */
export function isEndpointId(value: unknown): value is string {
  return typeof value === 'string' && pattern.test(value)
}

export function assertEndpointId(value: unknown, option = 'endpointId'): string {
  if (isEndpointId(value)) return value
  throw new PrivateLinkError(
    'ERR_INVALID_ENDPOINT_ID',
    `Invalid VPC endpoint ID ${describeInput(value)}`,
    {
      hint: `Pass '${option}' as vpce- followed by 17 hex digits, e.g. vpce-0123456789abcdef0 (aws ec2 describe-vpc-endpoints lists them).`,
      details: {
        option,
        input: inputText(value),
        example: 'vpce-0123456789abcdef0',
      },
    },
  )
}
