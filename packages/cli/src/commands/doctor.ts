import { readFile } from 'node:fs/promises'
import { redactUrlCredentials } from '@privatelink/dns'
import { type Command, Option } from 'commander'
import {
  collect,
  parseDnsServer,
  parseHostname,
  parsePort,
  parsePositiveInteger,
  parseRegion,
  parseSource,
  parseUrl,
  parseVpcId,
} from '../arguments.js'
import { missingRegion, regionFrom } from '../aws-client.js'
import { type CommandContext, printJson, usageError } from '../context.js'
import {
  addCallAndIdleOptions,
  type CallAndIdleFlags,
  idleSettingsFrom,
  policyCallFrom,
} from '../doctor/call-and-idle-flags.js'
import { renderCheck, renderSummary } from '../doctor/render.js'
import { renderMarkdown } from '../doctor/render-markdown.js'
import { runDoctor } from '../doctor/run-doctor.js'
import { progressLine } from '../io.js'
import { parseTarget, type Target, targetRegion } from '../target.js'

interface DoctorFlags extends CallAndIdleFlags {
  port?: number
  servername?: string
  region?: string
  vpcId?: string
  dns?: string[]
  ca?: string
  starttls?: 'postgres' | 'mysql' | 'none'
  timeout: number
  endpointUrl?: string
  source?: string[]
  format?: 'text' | 'markdown' | 'json'
  json?: boolean
}

export function registerDoctor(program: Command, context: CommandContext): void {
  const command = program
    .command('doctor')
    .summary(
      'check why an endpoint does not connect: state, VPC DNS, private DNS, policy, answers, security groups, ACLs, reach, TLS, zone',
    )
    .description(
      "Run the checks people do by hand when \"it doesn't connect\", in order: the endpoint exists and is available (pendingAcceptance: the provider must accept), the VPC has enableDnsSupport and enableDnsHostnames, private DNS is on, the endpoint policy is not full access (and, with --action, lets your call through, naming the statement that decides), for S3 and DynamoDB whether a gateway endpoint and its route tables (this machine's included) take the traffic, the names resolve only to the endpoint's ENI addresses (else why: a private hosted zone, private DNS, a VPC attribute), the endpoint's security groups and each zone's network ACL let --port in from the clients (--source, else this machine's address and security groups from instance metadata, else the VPC) and the answers out, the clients' own security groups let it out, every zone accepts TCP on --port, the TLS certificate carries --servername, which zone this host is in and the connector dials first, and whether a setting you pass (--pool-idle-timeout-ms, --keep-alive, --keep-alive-timeout-ms, --adapter-options) lets a connection sit idle across the path's 350 s idle timeout. One line per check: pass, warn, fail or skip, what was seen, the fix and the AWS CLI commands to run. Exit code 0 when no check failed (warnings allowed), 1 otherwise.",
    )
    .argument(
      '<endpoint>',
      'endpoint ID (vpce-...), service name (com.amazonaws...) or DNS name',
      parseTarget,
    )
    .option('--port <number>', 'the service port to check TCP reach (and TLS) on', parsePort)
    .option(
      '--servername <name>',
      'the name the TLS certificate must carry (RDS Proxy: the proxy endpoint name)',
      parseHostname,
    )
    .addOption(
      new Option(
        '--region <region>',
        'AWS region (default: AWS_REGION, or the one in the name)',
      ).argParser(parseRegion),
    )
    .option('--vpc-id <vpc>', 'pick the endpoint in this VPC when several match', parseVpcId)
    .option(
      '--dns <ip:port>',
      'DNS server address to ask (port 53 unless given), repeatable (default: the system resolver, the VPC one inside a VPC)',
      collect(parseDnsServer),
    )
    .option('--ca <file>', 'PEM file of CAs to trust for the TLS check, besides the system ones')
    .addOption(
      new Option(
        '--starttls <protocol>',
        'protocol to speak before TLS (default: postgres on port 5432, mysql on 3306)',
      ).choices(['postgres', 'mysql', 'none']),
    )
    .addOption(
      new Option('--timeout <ms>', 'per connect and handshake')
        .argParser(parsePositiveInteger(120_000))
        .default(3000),
    )
    .addOption(
      new Option(
        '--endpoint-url <url>',
        'EC2 API endpoint (default: AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL)',
      ).argParser(parseUrl),
    )
    .option(
      '--source <client>',
      "a client to check the security groups and network ACLs for: its IPv4 address, a CIDR or its security group (sg-...), repeatable (default: this machine from instance metadata, else the VPC's CIDR)",
      collect(parseSource),
    )
    .addOption(
      new Option('--format <format>', 'text lines, a Markdown report for a ticket, or JSON')
        .choices(['text', 'markdown', 'json'])
        .default('text'),
    )
    .option('--json', 'print one JSON report (schema privatelink.doctor/1): --format json')
  addCallAndIdleOptions(command)
    .addHelpText(
      'after',
      '\nExamples:\n  privatelink doctor vpce-0123456789abcdef0 --port 443\n  privatelink doctor db.example.internal --port 5432 --servername app.proxy-abc.us-west-2.rds.amazonaws.com\n  privatelink doctor vpce-0123456789abcdef0 --action s3:GetObject --resource arn:aws:s3:::my-bucket/key --principal arn:aws:iam::123456789012:role/app\n  privatelink doctor vpce-0123456789abcdef0 --port 5432 --adapter-options pool-options.json',
    )
    .action(async (target: Target, flags: DoctorFlags) => {
      if (
        flags.json &&
        flags.format !== undefined &&
        flags.format !== 'text' &&
        flags.format !== 'json'
      )
        throw usageError(
          `--json and --format ${flags.format} do not go together`,
          'Pass one of them: --json is --format json.',
          '--format',
        )
      const format = flags.json ? 'json' : (flags.format ?? 'text')
      // Markdown and JSON are whole documents, printed at the end; text streams line by line.
      const streaming = format === 'text'
      let ca: string | undefined
      if (flags.ca !== undefined) {
        try {
          ca = await readFile(flags.ca, 'utf8')
        } catch (error) {
          throw usageError(
            `--ca ${redactUrlCredentials(flags.ca)}: ${(error as { code?: string }).code ?? 'unreadable'}`,
            'Pass a readable PEM file.',
            '--ca',
          )
        }
        if (!ca.includes('-----BEGIN CERTIFICATE-----'))
          throw usageError(
            `--ca ${redactUrlCredentials(flags.ca)} holds no PEM certificate`,
            'Pass a PEM file (-----BEGIN CERTIFICATE-----).',
            '--ca',
          )
      }
      const policyCall = policyCallFrom(flags)
      const idleSettings = await idleSettingsFrom(flags)
      // A usage error comes before any output: a script reading stdout sees nothing or a report.
      if (regionFrom(flags.region, context.io.env, targetRegion(target)) === undefined)
        throw missingRegion('the EC2 API')
      const c = context.outColours
      const progress = streaming
        ? progressLine(context.io.stderr, context.io.env)
        : { update() {}, clear() {} }
      const commandLine = `privatelink doctor ${target.input}${flags.port !== undefined ? ` --port ${flags.port}` : ''}${flags.servername ? ` --servername ${flags.servername}` : ''}`
      if (streaming) context.out(c.bold(commandLine))
      const report = await runDoctor(
        {
          target,
          timeoutMs: flags.timeout,
          env: context.io.env,
          ...(flags.port !== undefined ? { port: flags.port } : {}),
          ...(flags.servername !== undefined ? { servername: flags.servername } : {}),
          ...(flags.region !== undefined ? { region: flags.region } : {}),
          ...(flags.vpcId !== undefined ? { vpcId: flags.vpcId } : {}),
          ...(flags.dns !== undefined ? { dns: flags.dns } : {}),
          ...(ca !== undefined ? { ca } : {}),
          ...(flags.starttls !== undefined ? { starttls: flags.starttls } : {}),
          ...(flags.endpointUrl !== undefined ? { endpointUrl: flags.endpointUrl } : {}),
          ...(flags.source !== undefined ? { sources: flags.source } : {}),
          ...(policyCall !== undefined ? { policyCall } : {}),
          idleSettings,
          pathIdleTimeoutMs: flags.pathIdleTimeoutMs,
        },
        (result) => {
          if (!streaming) return
          progress.clear()
          for (const line of renderCheck(result, c)) context.out(line)
        },
        progress,
      )
      context.exitCode = report.ok ? 0 : 1
      if (format === 'json') printJson(context, report)
      else if (format === 'markdown') context.out(renderMarkdown(report, commandLine))
      else context.out(renderSummary(report, c))
    })
}
