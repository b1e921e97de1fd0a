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

/** Loads the SDK's command classes the CLI sends itself (DescribeVpcEndpoints, DescribeVpcAttribute). */
export async function ec2Commands() {
  const sdk = await import('@aws-sdk/client-ec2')
  return {
    DescribeVpcEndpointsCommand: sdk.DescribeVpcEndpointsCommand,
    DescribeVpcAttributeCommand: sdk.DescribeVpcAttributeCommand,
  }
}
