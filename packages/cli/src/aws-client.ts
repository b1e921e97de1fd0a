import type { Ec2ClientLike } from '@privatelink/core'
import { PrivateLinkError } from '@privatelink/core'

type Env = Record<string, string | undefined>

/**
 * The EC2 API endpoint, as the AWS CLI picks it: `--endpoint-url`, then AWS_ENDPOINT_URL_EC2, then
 * AWS_ENDPOINT_URL; undefined means the SDK's regional default.
 */
export function ec2EndpointUrl(flag: string | undefined, env: Env): string | undefined {
  return (
    flag ?? (env['AWS_ENDPOINT_URL_EC2'] || undefined) ?? (env['AWS_ENDPOINT_URL'] || undefined)
  )
}

/** The STS endpoint for `--role-arn`: AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL. */
export function stsEndpointUrl(flag: string | undefined, env: Env): string | undefined {
  return (
    flag ?? (env['AWS_ENDPOINT_URL_STS'] || undefined) ?? (env['AWS_ENDPOINT_URL'] || undefined)
  )
}

export function regionFrom(
  flag: string | undefined,
  env: Env,
  ...fallbacks: (string | undefined)[]
): string | undefined {
  return (
    flag ??
    (env['AWS_REGION'] || undefined) ??
    (env['AWS_DEFAULT_REGION'] || undefined) ??
    fallbacks.find((r) => r !== undefined)
  )
}

export function missingRegion(what: string): PrivateLinkError {
  return new PrivateLinkError('ERR_USAGE', `No region for ${what}: no --region, no AWS_REGION`, {
    hint: 'Pass --region (e.g. --region us-west-2) or set AWS_REGION.',
    details: { option: '--region' },
  })
}

/** Static AWS credentials, as the SDK's `credentials` options take them. */
export interface EnvCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/**
 * The credentials in the CLI's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), read from `io.env` like every other setting, so an in-process run uses the
 * environment it was given. They come first in the SDK's default chain too, unless AWS_PROFILE is
 * set; then (and without them) undefined leaves the choice to the SDK's chain.
 */
export function credentialsFrom(env: Env): EnvCredentials | undefined {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'] ?? ''
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'] ?? ''
  if (accessKeyId === '' || secretAccessKey === '' || (env['AWS_PROFILE'] ?? '') !== '')
    return undefined
  const sessionToken = env['AWS_SESSION_TOKEN'] ?? ''
  return { accessKeyId, secretAccessKey, ...(sessionToken !== '' ? { sessionToken } : {}) }
}

export interface Ec2Client extends Ec2ClientLike {
  destroy(): void
}

/** An EC2 client on the SDK's default credential chain (AWS_ACCESS_KEY_ID, profiles, roles). */
export async function createEc2Client(
  region: string,
  endpoint: string | undefined,
  env: Env,
): Promise<Ec2Client> {
  const { EC2Client } = await import('@aws-sdk/client-ec2')
  const credentials = credentialsFrom(env)
  return new EC2Client({
    region,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    // A doctor must answer quickly: one retry, not the SDK's three with backoff.
    maxAttempts: 2,
  })
}

/**
 * The Route 53 endpoint: AWS_ENDPOINT_URL_ROUTE_53, then AWS_ENDPOINT_URL; undefined means the
 * SDK's global default. `null` when the EC2 API is somewhere custom (an emulator) and Route 53 is
 * not: asking the real Route 53 about an emulated VPC would only fail, or reach the Internet.
 */
export function route53EndpointUrl(
  env: Env,
  ec2Endpoint: string | undefined,
): string | undefined | null {
  const named =
    (env['AWS_ENDPOINT_URL_ROUTE_53'] || undefined) ?? (env['AWS_ENDPOINT_URL'] || undefined)
  if (named !== undefined) return named
  return ec2Endpoint === undefined ? undefined : null
}

/** The part of a Route 53 client doctor uses. */
export interface Route53Client {
  send(command: unknown): Promise<unknown>
  destroy(): void
}

/**
 * A Route 53 client, loaded on first use (doctor's hosted-zone check is its only user). The region
 * only picks the partition: Route 53 is global and the SDK signs for its home region.
 */
export async function createRoute53Client(
  region: string,
  endpoint: string | undefined,
  env: Env,
): Promise<{ client: Route53Client; commands: typeof import('@aws-sdk/client-route-53') }> {
  const sdk = await import('@aws-sdk/client-route-53')
  const credentials = credentialsFrom(env)
  const client = new sdk.Route53Client({
    region,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    maxAttempts: 2,
  })
  return { client: client as unknown as Route53Client, commands: sdk }
}

/** Loads the SDK's command classes the CLI sends itself (DescribeVpcEndpoints, DescribeVpcAttribute). */
export async function ec2Commands() {
  const sdk = await import('@aws-sdk/client-ec2')
  return {
    DescribeVpcEndpointsCommand: sdk.DescribeVpcEndpointsCommand,
    DescribeVpcAttributeCommand: sdk.DescribeVpcAttributeCommand,
  }
}
