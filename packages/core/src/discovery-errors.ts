import { PrivateLinkError } from '@privatelink/dns'
import { awsErrorFacts, sanitizedCause } from './aws-error.js'

/**
 * Cross-region PrivateLink: the endpoint (and the EC2 API that describes it) lives where the VPC
 * is; the service name carries the service's region. Asking the service's region finds nothing.
 */
export const CROSS_REGION_HINT =
  "For a cross-region service, pass the endpoint's region (where your VPC is), not the service's."

const stateHints: Record<string, string> = {
  pendingacceptance:
    'The service provider must accept the connection (aws ec2 accept-vpc-endpoint-connections on their side), or turn on acceptance-not-required.',
  pending: 'The endpoint is still being created; retry in a minute or two.',
  rejected:
    'The provider rejected the connection. Ask them to add your account to the allowed principals, then create the endpoint again.',
  expired:
    'The connection request expired before the provider accepted it. Create the endpoint again and ask the provider to accept it.',
  failed:
    'Creating the endpoint failed: see FailureReason in aws ec2 describe-vpc-endpoints (often: no subnet in a zone the service supports).',
  deleting: 'The endpoint is being deleted. Point at a live endpoint.',
  deleted: 'The endpoint was deleted. Point at a live endpoint.',
  partial:
    'The endpoint is only partly available: some zones are not. Check each subnet in describe-vpc-endpoints.',
}

export function notAvailableError(endpointId: string, state: string): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_ENDPOINT_NOT_AVAILABLE',
    `VPC endpoint ${endpointId} is ${state}, not available`,
    {
      hint:
        stateHints[state.toLowerCase()] ??
        'Wait until the endpoint is available (aws ec2 describe-vpc-endpoints).',
      details: { endpointId, state },
    },
  )
}

export function notFoundError(query: Record<string, string | undefined>): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_ENDPOINT_NOT_FOUND',
    `No VPC endpoint matches ${describe(query)}`,
    {
      hint: `Check the endpoint ID or service name, the region (endpoints are regional), and that the credentials belong to the account that owns the endpoint. ${CROSS_REGION_HINT}`,
      details: { ...compact(query) },
    },
  )
}

export function ambiguousError(
  query: Record<string, string | undefined>,
  matches: { id: string; vpcId?: string; state?: string }[],
): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_AMBIGUOUS_ENDPOINT',
    `${matches.length} VPC endpoints match ${describe(query)}`,
    {
      hint: 'Pass endpointId, or vpcId to pick the endpoint in your VPC.',
      details: { ...compact(query), matches },
    },
  )
}

type Failure =
  | 'assume-role'
  | 'unauthorized'
  | 'no-credentials'
  | 'credentials'
  | 'region'
  | 'throttled'
  | 'server'
  | 'network'
  | 'unreadable'
  | 'other'

function classify(name: string, message: string, status: number | undefined): Failure {
  if (/sts:AssumeRole|AssumeRole/i.test(message) || /AssumeRole/.test(name)) return 'assume-role'
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message))
    return 'no-credentials'
  if (/Region is missing/i.test(message)) return 'region'
  if (
    /^(?:RequestLimitExceeded|Throttling|ThrottlingException|TooManyRequestsException|RequestThrottled)$/.test(
      name,
    )
  )
    return 'throttled'
  if (/UnauthorizedOperation|AccessDenied/.test(name)) return 'unauthorized'
  if (
    /AuthFailure|ExpiredToken|RequestExpired|InvalidClientTokenId|SignatureDoesNotMatch|InvalidAccessKeyId|OptInRequired/.test(
      name,
    )
  )
    return 'credentials'
  if (/^E[A-Z_]+$/.test(name) || name === 'TimeoutError') return 'network'
  if (status !== undefined && status >= 500) return 'server'
  if (/InternalError|Unavailable|ServiceUnavailable/.test(name)) return 'server'
  if (/Deserialization|XML|char '|Unexpected end|not well-formed|Non-whitespace/i.test(message))
    return 'unreadable'
  return 'other'
}

const configFallback = 'Where AWS must not be called at start, use endpointFromConfig.'

/**
 * A failed EC2 (or STS, or credential) call. The message carries the AWS error's name and
 * message; the hint names the call that really failed (sts:AssumeRole for a wrong ExternalId, the
 * credential chain, the region); the cause is a sanitised copy holding no request object.
 */
export function discoveryFailedError(operation: string, cause: unknown): PrivateLinkError {
  const facts = awsErrorFacts(cause)
  const failure = classify(facts.name, facts.message, facts.httpStatus)
  const permission = `ec2:${operation}`
  const tries =
    facts.attempts === undefined
      ? ''
      : ` after ${facts.attempts} attempt${facts.attempts === 1 ? '' : 's'}`
  const hints: Record<Failure, string> = {
    'assume-role':
      "Getting credentials failed at sts:AssumeRole, before any EC2 call: check that the role's trust policy allows this principal, that ExternalId matches its sts:ExternalId condition, and that the caller may call sts:AssumeRole on the role ARN.",
    unauthorized: `The role may not call ${permission}: allow ec2:DescribeVpcEndpoints, ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets.${facts.encodedMessage ? ' Read the full reason with: aws sts decode-authorization-message --encoded-message "<details.encodedMessage>" (needs sts:DecodeAuthorizationMessage).' : ''} ${configFallback}`,
    'no-credentials': `No credentials were found: set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a web identity, attach a role to the instance/task/function, or pass credentials. ${configFallback}`,
    credentials: `Check the credentials (expired? wrong secret? right account? a region the account has opted in to?) and that the role may call ec2:DescribeVpcEndpoints, ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets (this call needed ${permission}). ${CROSS_REGION_HINT} ${configFallback}`,
    region: `No region: pass region or set AWS_REGION (a serviceName's region is used only as a last resort). ${CROSS_REGION_HINT}`,
    throttled: `EC2 throttled ${operation} (its request rate limit is per account and region)${tries}, retried with backoff by the SDK. Reuse one createEndpointDiscovery (it caches), stagger start-ups, raise ec2ClientConfig.maxAttempts, or use endpointFromConfig.`,
    server: `The EC2 API failed (${facts.httpStatus ?? facts.name})${tries}: usually transient; retry later. ${configFallback}`,
    network: `The EC2 API could not be reached (${facts.name}): check network access to it (an ec2 interface endpoint, or a NAT gateway), DNS, the region and ec2ClientConfig.endpoint. ${CROSS_REGION_HINT} ${configFallback}`,
    unreadable:
      'The EC2 API answered something that is not a complete EC2 response (a proxy in the way, or a cut connection): check ec2ClientConfig.endpoint and any HTTP proxy.',
    other: `Check network access to the EC2 API (an ec2 interface endpoint, or a NAT gateway), the region, and the EC2 client configuration. ${CROSS_REGION_HINT} ${configFallback}`,
  }
  const details: Record<string, unknown> = {
    operation,
    cause: facts.name,
    awsMessage: facts.message,
  }
  if (facts.httpStatus !== undefined) details['httpStatus'] = facts.httpStatus
  if (facts.requestId !== undefined) details['requestId'] = facts.requestId
  if (facts.attempts !== undefined) details['attempts'] = facts.attempts
  if (facts.encodedMessage !== undefined) details['encodedMessage'] = facts.encodedMessage
  const failedCall =
    failure === 'assume-role'
      ? 'sts:AssumeRole'
      : failure === 'no-credentials'
        ? 'loading credentials'
        : operation
  return new PrivateLinkError(
    failure === 'throttled' ? 'ERR_DISCOVERY_THROTTLED' : 'ERR_DISCOVERY_FAILED',
    `${operation} failed${failedCall === operation ? '' : ` (${failedCall})`}: ${facts.name}${facts.message && facts.message !== facts.name ? `: ${facts.message}` : ''}`,
    { hint: hints[failure], details, cause: sanitizedCause(cause) },
  )
}

export function missingSdkError(cause: unknown): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_MISSING_DEPENDENCY',
    'discoverEndpoint needs @aws-sdk/client-ec2, which is not installed',
    {
      hint: 'Install it (npm i @aws-sdk/client-ec2), or describe the endpoint statically with endpointFromConfig / PRIVATELINK_ENDPOINTS.',
      details: { package: '@aws-sdk/client-ec2' },
      cause,
    },
  )
}

function compact(query: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined),
  )
}

function describe(query: Record<string, string | undefined>): string {
  return Object.entries(compact(query))
    .map(([key, value]) => `${key}=${value}`)
    .join(', ')
}
