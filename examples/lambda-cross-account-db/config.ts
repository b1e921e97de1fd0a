import { endpointFromEnv } from '@privatelink/core'
import type { AwsCredentialsProvider, PrivateLinkPoolOptions } from '@privatelink/pg'

/** `fromTemporaryCredentials` from @aws-sdk/credential-providers, or anything shaped like it. */
export type AssumeRole = (options: {
  params: { RoleArn: string; RoleSessionName: string; ExternalId: string; DurationSeconds?: number }
}) => AwsCredentialsProvider

type Env = Record<string, string | undefined>

const required = (env: Env, name: string): string => {
  const value = env[name]
  if (value === undefined || value === '') throw new Error(`Set the ${name} environment variable`)
  return value
}

/**
 * The pool's options from the function's environment (README: "Environment variables").
 * With DB_ROLE_ARN the IAM tokens are signed by that role in the database's account, assumed
 * with DB_EXTERNAL_ID; without it, by the function's own role.
 */
export function poolOptionsFromEnv(env: Env, assumeRole: AssumeRole): PrivateLinkPoolOptions {
  const roleArn = env['DB_ROLE_ARN']
  return {
    // The JSON `privatelink describe --json` prints: no EC2 API call at cold start.
    endpoint: endpointFromEnv(env['PRIVATELINK_ENDPOINT_ID'], env),
    proxyHost: required(env, 'DB_PROXY_HOST'),
    user: required(env, 'DB_USER'),
    database: required(env, 'DB_NAME'),
    region: env['DB_REGION'] ?? required(env, 'AWS_REGION'),
    ...(roleArn === undefined || roleArn === ''
      ? {}
      : {
          credentials: assumeRole({
            params: {
              RoleArn: roleArn,
              RoleSessionName: env['AWS_LAMBDA_FUNCTION_NAME'] ?? 'privatelink-db',
              ExternalId: required(env, 'DB_EXTERNAL_ID'),
              DurationSeconds: 3600,
            },
          }),
        }),
    // One connection per sandbox, closed before RDS Proxy's idle timeout, no background work.
    profile: 'lambda',
  }
}
