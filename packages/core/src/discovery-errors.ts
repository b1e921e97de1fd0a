import { PrivateLinkError } from '@privatelink/dns'

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
      hint: 'Check the endpoint ID or service name, the region (endpoints are regional), and that the credentials belong to the account that owns the endpoint.',
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

export function discoveryFailedError(operation: string, cause: unknown): PrivateLinkError {
  const code = (cause as { name?: string } | null)?.name ?? 'Error'
  const permission = `ec2:${operation}`
  const authProblem =
    /AuthFailure|UnauthorizedOperation|AccessDenied|ExpiredToken|RequestExpired|InvalidClientTokenId|SignatureDoesNotMatch|CredentialsProviderError/.test(
      code,
    )
  return new PrivateLinkError('ERR_DISCOVERY_FAILED', `${operation} failed: ${code}`, {
    hint: authProblem
      ? `Check the credentials (expired? right account?) and that the role may call ec2:DescribeVpcEndpoints, ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets (this call needed ${permission}). Where AWS must not be called at start, use endpointFromConfig.`
      : 'Check network access to the EC2 API (an ec2 interface endpoint, or a NAT gateway), the region, and the EC2 client configuration. Where AWS must not be called at start, use endpointFromConfig.',
    details: { operation, cause: code },
    cause,
  })
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
