import { type Endpoint, endpointsFromEnv, parseEndpointDnsName } from '@privatelink/core'
import { createAddressMatcher, createResolver, DEFAULT_ALLOWED_RANGES } from '@privatelink/dns'
import type { Command } from 'commander'
import { collect, parseCidr, parseDnsServer, parseHostname } from '../arguments.js'
import { type CommandContext, printJson } from '../context.js'

interface ResolveFlags {
  dns?: string[]
  allow?: string[]
  json?: boolean
}

/** `privatelink resolve --json`: see schema/resolve.schema.json. */
export interface ResolveReport {
  /** Names the document's format and version, described by schema/resolve.schema.json. */
  schema: 'privatelink.resolve/1'
  /** The name resolved, as given. */
  name: string
  /** DNS servers asked (`--dns`); empty: the system resolver. */
  servers: string[]
  /** Every address answered, allowed or not. */
  addresses: {
    /** IP literal. */
    address: string
    /** IP version. */
    family: 4 | 6
    /** TTL left on the answer, in seconds (rounded). */
    ttlSeconds: number
    /** The AZ from PRIVATELINK_ENDPOINTS or a zonal vpce name (`us-west-2a (usw2-az1)`), else null. */
    zone: string | null
    /** Whether the address is inside `guard.allowedRanges`. */
    allowed: boolean
  }[]
  /** What the SDK's private-address guard would do with this answer. */
  guard: {
    /** CIDRs checked (`--allow`, else the defaults). */
    allowedRanges: string[]
    /** True when any address is outside the ranges: the SDK would refuse to connect (exit code 1). */
    wouldBlock: boolean
  }
}

/** Zone of each address, from PRIVATELINK_ENDPOINTS or a zonal vpce name. */
function zoneOf(
  name: string,
  env: Record<string, string | undefined>,
): (address: string) => string | null {
  let endpoints: Endpoint[] = []
  try {
    endpoints = endpointsFromEnv(env)
  } catch {
    // A broken PRIVATELINK_ENDPOINTS must not stop a DNS lookup; the zone column stays empty.
  }
  let zonal: string | undefined
  try {
    const parsed = parseEndpointDnsName(name)
    if (parsed.kind === 'zonal') zonal = parsed.azName
  } catch {}
  return (address) => {
    for (const endpoint of endpoints)
      for (const zone of endpoint.zones)
        if (zone.addresses.includes(address))
          return zone.azId ? `${zone.azName} (${zone.azId})` : zone.azName
    return zonal ?? null
  }
}

export function registerResolve(program: Command, context: CommandContext): void {
  program
    .command('resolve')
    .summary('what the private resolver answers, TTLs, zones, and whether the guard would block it')
    .description(
      "Resolve a name the way the SDK's private-only resolver does, and say whether its guard would refuse the answer (an address outside the allowed ranges: traffic would leave the VPC). Exit code 1 when the name does not resolve or the guard would block it.",
    )
    .argument('<name>', 'the DNS name to resolve', parseHostname)
    .option(
      '--dns <ip:port>',
      'DNS server address to ask (port 53 unless given), repeatable (default: the system resolver)',
      collect(parseDnsServer),
    )
    .option(
      '--allow <cidr>',
      `a range the guard allows, repeatable (default: ${DEFAULT_ALLOWED_RANGES.join(', ')})`,
      parseCidr,
    )
    .option('--json', 'print the answer as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  privatelink resolve api.saas.example.com\n  privatelink resolve api.saas.example.com --dns 10.0.0.2 --allow 10.0.0.0/16',
    )
    .action(async (name: string, flags: ResolveFlags) => {
      const allowedRanges = flags.allow ?? [...DEFAULT_ALLOWED_RANGES]
      const resolver = createResolver({
        ...(flags.dns ? { servers: flags.dns } : {}),
        privateOnly: false,
      })
      const allowed = createAddressMatcher(allowedRanges)
      const resolution = await resolver.resolve(name)
      const zone = zoneOf(name, context.io.env)
      const report: ResolveReport = {
        schema: 'privatelink.resolve/1',
        name,
        servers: flags.dns ?? [],
        addresses: resolution.addresses.map((a) => ({
          address: a.address,
          family: a.family,
          ttlSeconds: Math.round(a.ttlMs / 1000),
          zone: zone(a.address),
          allowed: allowed(a.address, a.family),
        })),
        guard: { allowedRanges, wouldBlock: false },
      }
      report.guard.wouldBlock = report.addresses.some((a) => !a.allowed)
      context.exitCode = report.guard.wouldBlock || report.addresses.length === 0 ? 1 : 0
      if (flags.json) {
        printJson(context, report)
        return
      }
      const c = context.outColours
      context.out(`${c.bold(name)} via ${flags.dns?.join(', ') ?? 'the system resolver'}`)
      for (const a of report.addresses)
        context.out(
          `  ${a.address.padEnd(16)} ${a.family === 4 ? 'A   ' : 'AAAA'} ttl ${String(a.ttlSeconds).padStart(4)} s  ${(a.zone ?? '-').padEnd(24)} ${a.allowed ? c.green('allowed') : c.red('blocked')}`,
        )
      if (report.addresses.length === 0) context.out('  no address')
      context.out(
        report.guard.wouldBlock
          ? c.red(
              `guard: would block ${name}: ${report.addresses
                .filter((a) => !a.allowed)
                .map((a) => a.address)
                .join(', ')} outside ${allowedRanges.join(', ')}`,
            )
          : `guard: allows every answer (${allowedRanges.join(', ')})`,
      )
    })
}
