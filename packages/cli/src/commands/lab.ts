import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Command, Option } from 'commander'
import { parseHostname, parsePositiveInteger, parseRegion } from '../arguments.js'
import { type CommandContext, printJson, usageError } from '../context.js'
import { endpointLines } from './describe.js'
import {
  type CacheSpec,
  labZones,
  parseElastiCache,
  parseMysqlUpstream,
  parseService,
  parseUpstream,
  type ServiceSpec,
  shellQuote,
  type UpstreamSpec,
} from './lab-plan.js'

interface LabFlags {
  service?: ServiceSpec[]
  rdsProxy?: UpstreamSpec
  rdsProxyMysql?: UpstreamSpec
  elasticache?: CacheSpec
  zones: number
  region: string
  privateDnsName?: string
  json?: boolean
}

/** `privatelink lab --json`: see schema/lab.schema.json. */
export interface LabReport {
  /** Names the document's format and version, described by schema/lab.schema.json. */
  schema: 'privatelink.lab/1'
  /** The lab's AWS region (`--region`). */
  region: string
  /** The lab's own loopback block, `127.X.0.0/16`: pass it to `--allow` / `allowedRanges`. */
  addressBlock: string
  /** The endpoint model (see schema/endpoint.schema.json), as `describe --json` prints it. */
  endpoint: unknown
  /** Credentials the lab's AWS APIs accept; they work nowhere else. */
  credentials: {
    /** Access key ID for AWS_ACCESS_KEY_ID. */
    accessKeyId: string
    /** Secret access key for AWS_SECRET_ACCESS_KEY. */
    secretAccessKey: string
  }
  /** IAM roles the lab's STS lets these credentials assume. */
  roles: {
    /** The role's ARN. */
    arn: string
    /** The ExternalId its trust policy requires, if any. */
    externalId?: string
  }[]
  /** `host:port` of the lab's DNS server: pass it as `--dns` or a resolver's `servers`. */
  dns: string
  /** Path of the lab CA's PEM, removed when the lab stops. */
  caFile: string
  /** The RDS Proxy front (`--rds-proxy`), else null. */
  rdsProxy: {
    /** The proxy endpoint name: sign tokens for it and verify TLS against it. */
    host: string
    /** The proxy's port. */
    port: number
    /** The database user it was started for. */
    user: string
  } | null
  /** The ElastiCache IAM front (`--elasticache`), else null. */
  elastiCache: {
    /** The replication group ID: IAM tokens are signed for it (`auth.iam.cacheName`). */
    cacheName: string
    /** A user ID to sign tokens for and AUTH as (`auth.iam.userId`); the lab accepts any. */
    user: string
    /** The cache's endpoint name: TLS is verified against it (`servername`). */
    host: string
    /** The cache's port on the endpoint. */
    port: number
    /** The signing name of its tokens. */
    service: 'elasticache'
  } | null
  /** Environment variables that point an app at the lab (PRIVATELINK_ENDPOINTS, AWS_*, NODE_EXTRA_CA_CERTS). */
  env: Record<string, string>
  /** Ready-to-paste commands to try against the lab (doctor, resolve, describe, token, psql). */
  commands: string[]
}

/**
 * Resolves on the first SIGINT or SIGTERM. The handlers stay until `release()` (after the lab has
 * closed): a second Ctrl-C while closing exits at once, with the shell's 128 + signal number.
 */
function signalWaiter(): { signal: Promise<string>; release(): void } {
  let first: string | undefined
  let resolveSignal!: (signal: string) => void
  const signal = new Promise<string>((resolve) => {
    resolveSignal = resolve
  })
  const onSignal = (name: NodeJS.Signals) => {
    if (first !== undefined) process.exit(128 + (name === 'SIGINT' ? 2 : 15))
    first = name
    resolveSignal(name)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    signal,
    release() {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}

/** The lab service the ElastiCache front is reached on, and the user ID the lab suggests. */
const CACHE_SERVICE = { name: 'elasticache', port: 6379, user: 'app-user' } as const
/** The lab service the RDS Proxy for MySQL is reached on. */
const MYSQL_SERVICE = { name: 'rds-proxy-mysql', port: 3306 } as const

/** A --service on a front's port or name would be served in its place (or it in the service's). */
function checkClashes(services: ServiceSpec[], flags: LabFlags): void {
  // The proxy is the lab service 'rds-proxy' on 5432: a --service there would be served in its
  // place (or the proxy in the service's), without a word.
  const clash = services.find((s) => s.port === 5432 || s.name === 'rds-proxy')
  if (flags.rdsProxy !== undefined && clash !== undefined)
    throw usageError(
      `--service ${clash.name}:${clash.port} clashes with --rds-proxy, which is the service rds-proxy on port 5432`,
      'Give the --service another name and port.',
      '--service',
    )
  // The same for the ElastiCache front, the service elasticache on 6379.
  const cacheClash = services.find(
    (s) => s.port === CACHE_SERVICE.port || s.name === CACHE_SERVICE.name,
  )
  if (flags.elasticache !== undefined && cacheClash !== undefined)
    throw usageError(
      `--service ${cacheClash.name}:${cacheClash.port} clashes with --elasticache, which is the service ${CACHE_SERVICE.name} on port ${CACHE_SERVICE.port}`,
      'Give the --service another name and port.',
      '--service',
    )
  const mysqlClash = services.find(
    (s) => s.port === MYSQL_SERVICE.port || s.name === MYSQL_SERVICE.name,
  )
  if (flags.rdsProxyMysql !== undefined && mysqlClash !== undefined)
    throw usageError(
      `--service ${mysqlClash.name}:${mysqlClash.port} clashes with --rds-proxy-mysql, which is the service ${MYSQL_SERVICE.name} on port ${MYSQL_SERVICE.port}`,
      'Give the --service another name and port.',
      '--service',
    )
}

export function registerLab(program: Command, context: CommandContext): void {
  program
    .command('lab')
    .summary('run a local PrivateLink lab in the foreground until Ctrl-C')
    .description(
      'Run a PrivateLink endpoint on loopback: zonal "ENIs" relaying to your services, a DNS server, the EC2/STS APIs and instance metadata, a test CA, and optionally an RDS Proxy in front of a PostgreSQL and an ElastiCache (IAM auth, TLS) in front of a Redis. Prints the credentials, endpoint JSON, environment variables and commands to point an app at it. Ctrl-C (SIGINT) or SIGTERM stops it cleanly.',
    )
    .option(
      '--service <name:port=host:port>',
      'a service the zones listen for, relayed to host:port; repeatable',
      parseService,
    )
    .option(
      '--rds-proxy <[user@]host:port>',
      'front this PostgreSQL with an RDS Proxy (IAM auth, TLS) on port 5432; the upstream password comes from PRIVATELINK_LAB_PG_PASSWORD',
      parseUpstream,
    )
    .option(
      '--rds-proxy-mysql <user@host:port>',
      'front this MySQL or MariaDB with an RDS Proxy for MySQL (IAM auth with the cleartext plugin, TLS) on port 3306; the upstream password comes from PRIVATELINK_LAB_MYSQL_PASSWORD',
      parseMysqlUpstream,
    )
    .option(
      '--elasticache <[name@]host:port>',
      'front this Redis with an ElastiCache endpoint (IAM auth, TLS) on port 6379, for the cache name (default: lab-cache)',
      parseElastiCache,
    )
    .addOption(
      new Option('--zones <count>', 'number of zones')
        .argParser(parsePositiveInteger(6))
        .default(3),
    )
    .addOption(
      new Option('--region <region>', 'the lab region').argParser(parseRegion).default('us-west-2'),
    )
    .option('--private-dns-name <name>', "the service's private DNS name", parseHostname)
    .option('--json', 'print the lab description as one JSON document, then keep running')
    .addHelpText(
      'after',
      '\nExamples:\n  privatelink lab --service web:8443=127.0.0.1:8443\n  privatelink lab --rds-proxy postgres@127.0.0.1:5432 --zones 2\n  privatelink lab --rds-proxy-mysql root@127.0.0.1:3306\n  privatelink lab --elasticache lab-cache@127.0.0.1:6379',
    )
    .action(async (flags: LabFlags) => {
      const services = flags.service ?? []
      checkClashes(services, flags)
      const { elastiCacheFront, rdsProxyFront, rdsProxyMysqlFront, startLab } = await import(
        '@privatelink/lab'
      )
      const fronts = []
      let proxy: ReturnType<typeof rdsProxyFront> | undefined
      if (flags.rdsProxy !== undefined) {
        const password = context.io.env['PRIVATELINK_LAB_PG_PASSWORD']
        proxy = rdsProxyFront({
          upstream: {
            host: flags.rdsProxy.host,
            port: flags.rdsProxy.port,
            user: flags.rdsProxy.user,
            ...(password ? { password } : {}),
          },
        })
        fronts.push(proxy)
      }
      let mysqlProxy: ReturnType<typeof rdsProxyMysqlFront> | undefined
      if (flags.rdsProxyMysql !== undefined) {
        const { host, port, user } = flags.rdsProxyMysql
        const password = context.io.env['PRIVATELINK_LAB_MYSQL_PASSWORD']
        mysqlProxy = rdsProxyMysqlFront({
          upstream: { host, port, user, ...(password ? { password } : {}) },
        })
        fronts.push(mysqlProxy)
      }
      let cache: ReturnType<typeof elastiCacheFront> | undefined
      if (flags.elasticache !== undefined) {
        cache = elastiCacheFront({
          name: CACHE_SERVICE.name,
          cacheName: flags.elasticache.cacheName,
          upstream: { host: flags.elasticache.host, port: flags.elasticache.port },
        })
        fronts.push(cache)
      }
      const lab = await startLab({
        region: flags.region,
        zones: labZones(flags.region, flags.zones),
        fronts,
        services: [
          ...services.map((s) => ({ name: s.name, port: s.port, target: s.target })),
          ...(proxy
            ? [{ name: 'rds-proxy', port: proxy.port, target: { front: proxy.name } }]
            : []),
          ...(mysqlProxy
            ? [
                {
                  name: MYSQL_SERVICE.name,
                  port: mysqlProxy.port,
                  target: { front: mysqlProxy.name },
                },
              ]
            : []),
          ...(cache
            ? [
                {
                  name: CACHE_SERVICE.name,
                  port: CACHE_SERVICE.port,
                  target: { front: cache.name },
                },
              ]
            : []),
        ],
        ...(flags.privateDnsName !== undefined ? { privateDnsName: flags.privateDnsName } : {}),
      })
      // Installed before anything is printed: a signal after "lab running" always stops cleanly.
      const waiter = context.io.stopSignal ? undefined : signalWaiter()
      const folder = await mkdtemp(join(tmpdir(), 'privatelink-lab-'))
      try {
        const caFile = join(folder, 'ca.pem')
        await writeFile(caFile, lab.ca.certificatePem)
        const report = describeLab(lab, caFile, proxy, cache, flags)
        if (flags.json) printJson(context, report)
        else printLab(context, lab, report, mysqlProxy)
        context.err('lab running; Ctrl-C stops it')
        const signal = await (waiter?.signal ?? context.io.stopSignal!())
        context.err(`${signal}: stopping the lab`)
      } finally {
        await lab.close()
        await rm(folder, { recursive: true, force: true })
        waiter?.release()
      }
      context.err('lab stopped')
    })
}

type StartedLab = Awaited<ReturnType<typeof import('@privatelink/lab').startLab>>

function describeLab(
  lab: StartedLab,
  caFile: string,
  proxy: { proxyHost: string; port: number } | undefined,
  cache: { cacheName: string; hostname: string } | undefined,
  flags: LabFlags,
): LabReport {
  const env: Record<string, string> = {
    PRIVATELINK_ENDPOINTS: lab.endpointJson(),
    AWS_REGION: lab.region,
    AWS_ENDPOINT_URL_EC2: lab.aws.endpoint,
    AWS_ENDPOINT_URL_STS: lab.aws.endpoint,
    AWS_ENDPOINT_URL_ROUTE_53: lab.aws.endpoint,
    AWS_ACCESS_KEY_ID: lab.aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: lab.aws.credentials.secretAccessKey,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: lab.metadata.imdsEndpoint,
    NODE_EXTRA_CA_CERTS: caFile,
  }
  const firstZone = lab.endpoint.zones[0]!
  const commands: string[] = []
  const port =
    proxy?.port ??
    (cache !== undefined ? CACHE_SERVICE.port : undefined) ??
    flags.service?.[0]?.port
  const doctor = [`privatelink doctor ${lab.endpoint.id}`, `--dns ${lab.dns.address}`]
  if (port !== undefined) doctor.push(`--port ${port}`)
  if (proxy !== undefined) doctor.push(`--servername ${proxy.proxyHost}`, `--ca ${caFile}`)
  else if (cache !== undefined) doctor.push(`--servername ${cache.hostname}`, `--ca ${caFile}`)
  commands.push(doctor.join(' '))
  commands.push(
    `privatelink resolve ${lab.endpoint.privateDnsName ?? lab.endpoint.dnsName} --dns ${lab.dns.address} --allow ${lab.addressBlock}`,
  )
  commands.push(`privatelink describe ${lab.endpoint.id} --json`)
  if (proxy !== undefined) {
    const dialled = firstZone.portMap?.[String(proxy.port)] ?? proxy.port
    const user = flags.rdsProxy!.user
    commands.push(
      `export PGPASSWORD="$(privatelink token --host ${proxy.proxyHost} --port ${proxy.port} --user ${user})"`,
    )
    commands.push(
      `psql "host=${proxy.proxyHost} hostaddr=${firstZone.addresses[0]} port=${dialled} user=${user} dbname=postgres sslmode=verify-full sslrootcert=${caFile}"`,
    )
  }
  return {
    schema: 'privatelink.lab/1',
    region: lab.region,
    addressBlock: lab.addressBlock,
    endpoint: lab.endpoint,
    credentials: { ...lab.aws.credentials },
    roles: lab.aws.roles.map((r) => ({
      arn: r.arn,
      ...(r.externalId !== undefined ? { externalId: r.externalId } : {}),
    })),
    dns: lab.dns.address,
    caFile,
    rdsProxy: proxy
      ? { host: proxy.proxyHost, port: proxy.port, user: flags.rdsProxy!.user }
      : null,
    elastiCache: cache
      ? {
          cacheName: cache.cacheName,
          user: CACHE_SERVICE.user,
          host: cache.hostname,
          port: CACHE_SERVICE.port,
          service: 'elasticache',
        }
      : null,
    env,
    commands,
  }
}

/**
 * The code that reaches the lab's ElastiCache with `createRedis` and nothing but the printed
 * environment: the endpoint from PRIVATELINK_ENDPOINTS, the lab CA from NODE_EXTRA_CA_CERTS (TLS
 * is on by default), credentials and region from AWS_*, the zone from the lab's instance metadata.
 * The CLI's tests run it.
 */
export function redisSnippet(report: LabReport): string[] {
  const cache = report.elastiCache
  if (cache === null) return []
  return [
    "import { endpointFromEnv } from '@privatelink/core'",
    "import { createRedis } from '@privatelink/redis'",
    'const redis = createRedis({',
    '  endpoint: endpointFromEnv(),',
    `  servername: '${cache.host}',`,
    `  auth: { iam: { userId: '${cache.user}', cacheName: '${cache.cacheName}', region: '${report.region}' } },`,
    '})',
  ]
}

function printLab(
  context: CommandContext,
  lab: StartedLab,
  report: LabReport,
  mysqlProxy: { proxyHost: string; port: number } | undefined,
): void {
  const c = context.outColours
  const section = (title: string) => {
    context.out()
    context.out(c.bold(title))
  }
  context.out(
    `privatelink lab: region ${report.region}, ${lab.endpoint.zones.length} zones on ${report.addressBlock}`,
  )
  section('Endpoint')
  for (const line of endpointLines(lab.endpoint, c)) context.out(`  ${line}`)
  context.out(`  dns server    ${report.dns} (pass as --dns, or as the resolver's servers)`)
  if (report.rdsProxy)
    context.out(
      `  rds proxy     ${report.rdsProxy.host}:${report.rdsProxy.port} (IAM auth, TLS with the lab CA)`,
    )
  if (mysqlProxy)
    context.out(
      `  rds proxy mysql ${mysqlProxy.proxyHost}:${mysqlProxy.port} (IAM auth with the cleartext plugin, TLS with the lab CA)`,
    )
  if (report.elastiCache) {
    const cache = report.elastiCache
    context.out(
      `  elasticache   ${cache.host}:${cache.port} (IAM auth, TLS with the lab CA for this name)`,
    )
    context.out(
      `                cache name ${cache.cacheName}, user ${cache.user} (the lab accepts any user ID)`,
    )
  }
  section('Credentials (accepted by the lab only)')
  context.out(`  access key id      ${report.credentials.accessKeyId}`)
  context.out(`  secret access key  ${report.credentials.secretAccessKey}`)
  for (const role of report.roles)
    context.out(
      `  role               ${role.arn}${role.externalId ? ` (ExternalId ${role.externalId})` : ''}`,
    )
  context.out(`  CA certificate     ${report.caFile}`)
  section('Environment (paste into the shell that runs your app)')
  for (const [name, value] of Object.entries(report.env))
    context.out(`  export ${name}=${shellQuote(value)}`)
  section('Endpoint JSON (PRIVATELINK_ENDPOINTS, endpointFromConfig)')
  context.out(`  ${lab.endpointJson()}`)
  if (report.elastiCache) {
    section('ElastiCache with IAM and TLS (createRedis, with the environment above)')
    for (const line of redisSnippet(report)) context.out(`  ${line}`)
  }
  section('Try')
  for (const command of report.commands) context.out(`  ${command}`)
  context.out()
}
