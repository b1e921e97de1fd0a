import { type Command, Option } from 'commander'
import {
  parseDatabaseUser,
  parseExternalId,
  parseHostname,
  parsePort,
  parseRegion,
  parseRoleArn,
  parseUrl,
} from '../arguments.js'
import { credentialsFrom, missingRegion, regionFrom, stsEndpointUrl } from '../aws-client.js'
import { type CommandContext, printJson, usageError } from '../context.js'

interface TokenFlags {
  host: string
  port?: number
  engine: 'postgres' | 'mysql'
  user: string
  region?: string
  roleArn?: string
  externalId?: string
  stsEndpointUrl?: string
  json?: boolean
}

/** `privatelink token --json`: see schema/token.schema.json. */
export interface TokenReport {
  /** Names the document's format and version, described by schema/token.schema.json. */
  schema: 'privatelink.token/1'
  /** The token, the password for psql (`host:port/?Action=connect&DBUser=...&X-Amz-Signature=...`). */
  token: string
  /** The RDS Proxy (or DB) endpoint name the token is signed for (`--host`). */
  host: string
  /** The port the token is signed for (`--port`). */
  port: number
  /** The database user, the token's DBUser (`--user`). */
  user: string
  /** The region the token is signed in. */
  region: string
  /** The role assumed before signing (`--role-arn`), else null: the default credentials signed. */
  roleArn: string | null
  /** ISO time the token stops working (15 minutes, or earlier with short-lived credentials). */
  expiresAt: string
}

export function registerToken(program: Command, context: CommandContext): void {
  program
    .command('token')
    .summary('an RDS IAM auth token for psql or mysql, as aws rds generate-db-auth-token prints it')
    .description(
      "Sign an RDS IAM authentication token (valid 15 minutes) for the RDS Proxy endpoint name, with the SDK's default credentials or a role assumed first (cross-account). Only the token goes to stdout, so it can be used as PGPASSWORD or MYSQL_PWD. RDS Proxy for MySQL takes it with the cleartext plugin over TLS (--engine mysql: port 3306).",
    )
    .requiredOption(
      '--host <name>',
      'the RDS Proxy (or DB) endpoint name the token is signed for; never the vpce- name you dial',
      parseHostname,
    )
    .addOption(
      new Option('--engine <engine>', "the proxy's engine family: sets the default port")
        .choices(['postgres', 'mysql'])
        .default('postgres'),
    )
    .addOption(
      new Option(
        '--port <number>',
        'the port the token is signed for (default: 5432, or 3306 with --engine mysql)',
      ).argParser(parsePort),
    )
    .requiredOption('--user <name>', 'the database user (DBUser)', parseDatabaseUser)
    .addOption(
      new Option('--region <region>', "the proxy's region (default: AWS_REGION)").argParser(
        parseRegion,
      ),
    )
    .option(
      '--role-arn <arn>',
      'assume this role first (cross-account database access)',
      parseRoleArn,
    )
    .option('--external-id <id>', 'the ExternalId the role trust policy asks for', parseExternalId)
    .addOption(
      new Option(
        '--sts-endpoint-url <url>',
        'STS endpoint for --role-arn (default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL)',
      ).argParser(parseUrl),
    )
    .option('--json', 'print the token with its host, user, region and expiry as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  export PGPASSWORD="$(privatelink token --host db.proxy-abc.us-west-2.rds.amazonaws.com --user app --region us-west-2)"\n  psql "host=db.proxy-abc.us-west-2.rds.amazonaws.com user=app dbname=app sslmode=verify-full sslrootcert=system"\n  export MYSQL_PWD="$(privatelink token --engine mysql --host db.proxy-abc.us-west-2.rds.amazonaws.com --user app --region us-west-2)"\n  mysql --host=db.proxy-abc.us-west-2.rds.amazonaws.com --user=app --enable-cleartext-plugin --ssl-verify-server-cert',
    )
    .action(async (flags: TokenFlags) => {
      const env = context.io.env
      const port = flags.port ?? (flags.engine === 'mysql' ? 3306 : 5432)
      const region = regionFrom(flags.region, env)
      if (region === undefined) throw missingRegion('the token')
      if (flags.externalId !== undefined && flags.roleArn === undefined)
        throw usageError(
          '--external-id needs --role-arn',
          'Pass the role to assume with --role-arn.',
          '--external-id',
        )
      if (/^vpce-/.test(flags.host))
        context.err(
          context.errColours.yellow(
            `warning: ${flags.host} is a vpce- name; RDS Proxy only accepts tokens signed for its own endpoint name`,
          ),
        )
      const { createIamTokenProvider } = await import('@privatelink/pg')
      let credentials: Parameters<typeof createIamTokenProvider>[0]['credentials'] =
        credentialsFrom(env)
      if (flags.roleArn !== undefined) {
        const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers')
        const endpoint = stsEndpointUrl(flags.stsEndpointUrl, env)
        credentials = fromTemporaryCredentials({
          ...(credentials !== undefined ? { masterCredentials: credentials } : {}),
          params: {
            RoleArn: flags.roleArn,
            RoleSessionName: 'privatelink-cli',
            ...(flags.externalId !== undefined ? { ExternalId: flags.externalId } : {}),
          },
          clientConfig: { region, ...(endpoint !== undefined ? { endpoint } : {}) },
        })
      }
      const provider = createIamTokenProvider({
        hostname: flags.host,
        port,
        username: flags.user,
        region,
        ...(credentials !== undefined ? { credentials } : {}),
        refreshMarginMs: 0,
      })
      const token = await provider.getToken()
      if (!flags.json) {
        context.out(token)
        return
      }
      const report: TokenReport = {
        schema: 'privatelink.token/1',
        token,
        host: flags.host,
        port,
        user: flags.user,
        region,
        roleArn: flags.roleArn ?? null,
        expiresAt: new Date(provider.expiresAt() ?? Date.now() + 900_000).toISOString(),
      }
      printJson(context, report)
    })
}
