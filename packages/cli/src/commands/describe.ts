import { discoverEndpoint, type Endpoint, PrivateLinkError } from '@privatelink/core'
import { type Command, Option } from 'commander'
import { parseRegion, parseUrl, parseVpcId } from '../arguments.js'
import { createEc2Client, ec2EndpointUrl, missingRegion, regionFrom } from '../aws-client.js'
import { type CommandContext, printJson } from '../context.js'
import { lookupEndpoint, parseTarget, type Target, targetRegion } from '../target.js'

interface DescribeFlags {
  region?: string
  vpcId?: string
  endpointUrl?: string
  json?: boolean
}

export function endpointLines(endpoint: Endpoint, colours: CommandContext['outColours']): string[] {
  const lines = [
    `${colours.bold(endpoint.id)}  ${endpoint.state ?? ''}`.trimEnd(),
    `  service       ${endpoint.serviceName ?? '-'}`,
    `  region        ${endpoint.region}${endpoint.serviceRegion ? ` (service in ${endpoint.serviceRegion})` : ''}`,
    `  vpc           ${endpoint.vpcId ?? '-'}`,
    `  regional name ${endpoint.dnsName}`,
    `  private name  ${endpoint.privateDnsName ?? '- (private DNS off)'}`,
    '  zones',
  ]
  for (const zone of endpoint.zones) {
    const ports = zone.portMap
      ? `  ports ${Object.entries(zone.portMap)
          .map(([from, to]) => `${from}->${to}`)
          .join(', ')}`
      : ''
    lines.push(
      `    ${zone.azName.padEnd(14)} ${(zone.azId ?? '-').padEnd(10)} ${zone.addresses.join(', ').padEnd(16)} ${zone.dnsName ?? ''}${ports}`,
    )
  }
  return lines
}

export function registerDescribe(program: Command, context: CommandContext): void {
  program
    .command('describe')
    .summary('print the endpoint model: zones, AZ names and IDs, addresses, DNS names')
    .description(
      'Describe a VPC interface endpoint through the EC2 API. With --json it prints the JSON that PRIVATELINK_ENDPOINTS and endpointFromConfig accept, so a Lambda can start without calling EC2.',
    )
    .argument(
      '<endpoint>',
      'endpoint ID (vpce-...), service name (com.amazonaws...) or DNS name',
      parseTarget,
    )
    .addOption(
      new Option(
        '--region <region>',
        'AWS region (default: AWS_REGION, or the one in the name)',
      ).argParser(parseRegion),
    )
    .option('--vpc-id <vpc>', 'pick the endpoint in this VPC when several match', parseVpcId)
    .addOption(
      new Option(
        '--endpoint-url <url>',
        'EC2 API endpoint (default: AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL)',
      ).argParser(parseUrl),
    )
    .option('--json', 'print the endpoint as JSON (for PRIVATELINK_ENDPOINTS)')
    .addHelpText(
      'after',
      '\nExamples:\n  privatelink describe vpce-0123456789abcdef0\n  export PRIVATELINK_ENDPOINTS="$(privatelink describe vpce-0123456789abcdef0 --json)"',
    )
    .action(async (target: Target, flags: DescribeFlags) => {
      const endpoint = await describeTarget(target, flags, context.io.env)
      if (flags.json) printJson(context, endpoint)
      else for (const line of endpointLines(endpoint, context.outColours)) context.out(line)
    })
}

async function describeTarget(
  target: Target,
  flags: DescribeFlags,
  env: Record<string, string | undefined>,
): Promise<Endpoint> {
  const region = regionFrom(flags.region, env, targetRegion(target))
  if (region === undefined) throw missingRegion('the EC2 API')
  const client = await createEc2Client(region, ec2EndpointUrl(flags.endpointUrl, env), env)
  try {
    let endpointId = 'endpointId' in target ? target.endpointId : undefined
    if (target.kind === 'dns-name') {
      const lookup = await lookupEndpoint(client, target, flags.vpcId)
      if (!('found' in lookup))
        throw new PrivateLinkError(
          'ERR_ENDPOINT_NOT_FOUND',
          `No single VPC endpoint lists ${target.name} among its DNS names`,
          {
            hint: 'Pass the endpoint ID (vpce-...), or run privatelink doctor with the name to see why.',
            details: { name: target.name },
          },
        )
      endpointId = lookup.found.VpcEndpointId
    }
    return await discoverEndpoint({
      client,
      ...(endpointId !== undefined ? { endpointId } : {}),
      ...(target.kind === 'service-name' ? { serviceName: target.serviceName } : {}),
      ...(flags.vpcId !== undefined ? { vpcId: flags.vpcId } : {}),
    })
  } finally {
    client.destroy()
  }
}
