import type { Endpoint } from '@privatelink/core'
import { createRoute53Client, type Route53Client, route53EndpointUrl } from '../aws-client.js'
import type { RawEndpoint } from '../target.js'
import type { CheckLog } from './check.js'
import type { NameExplanation, NameOutcome } from './dns-checks.js'

/** A private hosted zone associated with the VPC, as ListHostedZonesByVPC lists it. */
interface HostedZone {
  id: string
  /** Lowercase, no trailing dot. */
  name: string
  /** From GetHostedZone, for the zones that matter. */
  recordCount?: number
}

/** What the checks before the `dns` lines learnt about the VPC's DNS. */
export interface DnsFacts {
  raw: RawEndpoint
  endpoint: Endpoint
  region: string
  /** DescribeVpcAttribute's answers; undefined when unknown. */
  enableDnsSupport?: boolean | undefined
  enableDnsHostnames?: boolean | undefined
  /** The VPC's private hosted zones; undefined when Route 53 could not be asked. */
  zones?: HostedZone[] | undefined
}

const bare = (name: string) => name.replace(/\.$/, '').toLowerCase()
const covers = (zone: string, name: string) => name === zone || name.endsWith(`.${zone}`)
const isVpceName = (name: string) => /\.vpce\.amazonaws\.com(\.cn)?$/.test(name)

/**
 * The endpoint's private DNS name, on or off: the model carries it while on; DescribeVpcEndpoints'
 * DNS entries list it besides the vpce- names.
 */
function privateName(facts: DnsFacts): string | undefined {
  const listed = (facts.raw.DnsEntries ?? [])
    .map((entry) => entry.DnsName?.toLowerCase() ?? '')
    .find((name) => name !== '' && !isVpceName(name))
  return (facts.endpoint.privateDnsName ?? listed)?.toLowerCase()
}

const isPrivateNameOf = (facts: DnsFacts, name: string) => {
  const own = privateName(facts)
  return own !== undefined && (own.startsWith('*.') ? covers(own.slice(2), name) : own === name)
}

/** The endpoint's private DNS name while it answers in the VPC (on, and both VPC attributes). */
function activePrivateName(facts: DnsFacts): string | undefined {
  if (facts.raw.PrivateDnsEnabled !== true) return undefined
  if (facts.enableDnsSupport === false || facts.enableDnsHostnames === false) return undefined
  return privateName(facts)
}

/**
 * The zone the VPC resolver answers `name` from: the most specific associated zone covering it,
 * unless the endpoint's own private DNS (a zone of the private name AWS manages) is more specific.
 */
export function shadowingZone(facts: DnsFacts, name: string): HostedZone | undefined {
  const lower = name.toLowerCase()
  const covering = (facts.zones ?? [])
    .filter((zone) => covers(zone.name, lower))
    .sort((a, b) => b.name.length - a.name.length)[0]
  if (covering === undefined) return undefined
  const own = activePrivateName(facts)
  if (own !== undefined) {
    const ownCovers = own.startsWith('*.') ? covers(own.slice(2), lower) : own === lower
    if (ownCovers && covering.name.length < own.replace(/^\*\./, '').length) return undefined
  }
  return covering
}

const vpcFlag = (facts: DnsFacts) => `VPCRegion=${facts.region},VPCId=${facts.raw.VpcId}`

/** The commands that stop `zone` shadowing `name`: an alias to the endpoint, or (AWS's own names) none. */
function zoneCommands(facts: DnsFacts, zone: HostedZone, name: string): string[] {
  // Private DNS off and the zone above the name: turned on, its zone of the name itself is more
  // specific and wins (for a zone of the name itself, AWS refuses private DNS: the alias it is).
  if (facts.raw.PrivateDnsEnabled !== true && isPrivateNameOf(facts, name) && zone.name !== name)
    return [
      `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${facts.raw.VpcEndpointId} --private-dns-enabled`,
    ]
  // A zone over AWS's own names (amazonaws.com, a region's, the vpce names') breaks more than
  // this endpoint: it must come off the VPC, not grow a record.
  const awsZone = /^(?:(?:[a-z0-9-]+\.)*)?amazonaws\.com(?:\.cn)?$/.test(zone.name)
  if (isVpceName(name) || (awsZone && zone.name !== name))
    return [
      `aws route53 disassociate-vpc-from-hosted-zone --hosted-zone-id ${zone.id} --vpc ${vpcFlag(facts)}`,
    ]
  const regional = (facts.raw.DnsEntries ?? []).find(
    (entry) => entry.DnsName?.toLowerCase() === facts.endpoint.dnsName.toLowerCase(),
  )
  const batch = JSON.stringify({
    Changes: [
      {
        Action: 'UPSERT',
        ResourceRecordSet: {
          Name: name,
          Type: 'A',
          AliasTarget: {
            HostedZoneId: regional?.HostedZoneId ?? 'ENDPOINT-HOSTED-ZONE-ID',
            DNSName: facts.endpoint.dnsName,
            EvaluateTargetHealth: false,
          },
        },
      },
    ],
  })
  return [
    `aws route53 change-resource-record-sets --hosted-zone-id ${zone.id} --change-batch '${batch}'`,
  ]
}

function zoneText(zone: HostedZone): string {
  const records =
    zone.recordCount === undefined
      ? ''
      : zone.recordCount <= 2
        ? ', no record besides SOA and NS'
        : `, ${zone.recordCount} records`
  return `private hosted zone ${zone.id} (${zone.name}${records})`
}

function zoneExplanation(facts: DnsFacts, zone: HostedZone, name: string): NameExplanation {
  const off =
    facts.raw.PrivateDnsEnabled !== true && isPrivateNameOf(facts, name.toLowerCase())
      ? ` (private DNS is off on ${facts.raw.VpcEndpointId})`
      : ''
  return {
    explanation: `${zoneText(zone)} associated with ${facts.raw.VpcId}: it answers every name under ${zone.name} in this VPC, ${name} included${off}`,
    commands: zoneCommands(facts, zone, name.toLowerCase()),
  }
}

/**
 * Why a name did not resolve to the endpoint, most decisive first: the VPC resolver is off
 * (enableDnsSupport), a private hosted zone answers the name, private DNS is off on the endpoint,
 * or the VPC does not let private DNS answer (enableDnsHostnames). Undefined: nothing found.
 */
export function explainName(facts: DnsFacts, outcome: NameOutcome): NameExplanation | undefined {
  const name = outcome.name.toLowerCase()
  const vpc = facts.raw.VpcId
  if (
    facts.enableDnsSupport === false &&
    (outcome.kind === 'error' || outcome.kind === 'not-found')
  )
    return {
      explanation: `enableDnsSupport false on ${vpc}: the VPC resolver (the VPC CIDR base +2) answers nothing`,
      commands: [`aws ec2 modify-vpc-attribute --vpc-id ${vpc} --enable-dns-support`],
    }
  const zone = shadowingZone(facts, name)
  if (zone !== undefined) return zoneExplanation(facts, zone, name)
  if (!isPrivateNameOf(facts, name)) return undefined
  if (facts.raw.PrivateDnsEnabled !== true)
    return {
      explanation: `private DNS disabled on ${facts.raw.VpcEndpointId}: ${name} answers as outside the VPC`,
      commands: [
        `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${facts.raw.VpcEndpointId} --private-dns-enabled`,
      ],
    }
  if (facts.enableDnsHostnames === false)
    return {
      explanation: `enableDnsHostnames false on ${vpc}: private DNS does not answer in this VPC`,
      commands: [`aws ec2 modify-vpc-attribute --vpc-id ${vpc} --enable-dns-hostnames`],
    }
  return undefined
}

/** ListHostedZonesByVPC, every page (at most 20: a VPC with more than 2000 zones is not ours to page). */
export async function listZones(
  client: Route53Client,
  sdk: typeof import('@aws-sdk/client-route-53'),
  vpcId: string,
  region: string,
): Promise<HostedZone[]> {
  const zones: HostedZone[] = []
  let token: string | undefined
  for (let page = 0; page < 20; page++) {
    const answer = (await client.send(
      new sdk.ListHostedZonesByVPCCommand({
        VPCId: vpcId,
        VPCRegion: region as never,
        ...(token !== undefined ? { NextToken: token } : {}),
      }),
    )) as { HostedZoneSummaries?: { HostedZoneId?: string; Name?: string }[]; NextToken?: string }
    for (const zone of answer.HostedZoneSummaries ?? [])
      if (zone.HostedZoneId && zone.Name)
        zones.push({ id: zone.HostedZoneId, name: bare(zone.Name) })
    if (!answer.NextToken || answer.NextToken === token) break
    token = answer.NextToken
  }
  return zones
}

/** GetHostedZone for the zones that answer a name: how many records they hold. */
export async function countRecords(
  client: Route53Client,
  sdk: typeof import('@aws-sdk/client-route-53'),
  zones: HostedZone[],
): Promise<void> {
  await Promise.all(
    zones.map(async (zone) => {
      try {
        const answer = (await client.send(new sdk.GetHostedZoneCommand({ Id: zone.id }))) as {
          HostedZone?: { ResourceRecordSetCount?: number }
        }
        const count = answer.HostedZone?.ResourceRecordSetCount
        if (count !== undefined) zone.recordCount = count
      } catch {
        // The count only adds detail: without route53:GetHostedZone the zone is still named.
      }
    }),
  )
}

/**
 * `hosted zones`: the private hosted zones associated with the endpoint's VPC that answer one of
 * the names checked (the seed: a zone for the service's name, or a parent of it, shadows it).
 * Passes when none does, or when the names it answers resolve to the endpoint; fails, with the
 * commands that fix it, when a name under it did not.
 */
export function checkHostedZones(
  log: CheckLog,
  facts: DnsFacts,
  outcomes: NameOutcome[],
  started: number,
  unavailable: { status: 'skip' | 'warn'; seen: string; fix: string } | undefined,
): void {
  const base = { id: 'dns.hostedZones', title: 'hosted zones' }
  if (unavailable !== undefined || facts.zones === undefined) {
    log.add({ ...base, ...(unavailable ?? { status: 'skip', seen: 'not asked' }) }, started)
    return
  }
  const vpc = facts.raw.VpcId
  const answering = outcomes.flatMap((outcome) => {
    const zone = shadowingZone(facts, outcome.name)
    return zone === undefined ? [] : [{ outcome, zone }]
  })
  if (answering.length === 0) {
    const listed = facts.zones.map((z) => z.name).join(', ')
    log.add(
      {
        ...base,
        status: 'pass',
        seen:
          facts.zones.length === 0
            ? `no private hosted zone is associated with ${vpc}`
            : `${facts.zones.length} associated with ${vpc} (${listed}), none answers the endpoint's names`,
      },
      started,
    )
    return
  }
  const failing = answering.filter(({ outcome }) => outcome.kind !== 'ok')
  if (failing.length === 0) {
    log.add(
      {
        ...base,
        status: 'pass',
        seen: answering
          .map(
            ({ outcome, zone }) =>
              `${zoneText(zone)} answers ${outcome.name} with the endpoint's addresses`,
          )
          .join('; '),
      },
      started,
    )
    return
  }
  const explained = failing.map(({ outcome, zone }) => ({
    outcome,
    why: zoneExplanation(facts, zone, outcome.name),
  }))
  log.add(
    {
      ...base,
      status: 'fail',
      seen: explained
        .map(
          ({ outcome, why }) =>
            `${why.explanation}: ${outcome.name} did not resolve to the endpoint`,
        )
        .join('; '),
      fix: 'Turn private DNS on (its zone of the name is more specific), or give the zone a record for the name that points at the endpoint (an alias to its regional vpce name); a zone over AWS names comes off the VPC.',
      commands: [...new Set(explained.flatMap(({ why }) => why.commands))],
    },
    started,
  )
}

const errorName = (error: unknown) => (error as { name?: string } | null)?.name ?? 'Error'

/**
 * Reads the VPC's private hosted zones into `facts.zones` (and the record counts of the zones that
 * answer a checked name). Returns why the hosted-zone line cannot say more, when it cannot.
 */
export async function readHostedZones(
  facts: DnsFacts,
  region: string,
  ec2Endpoint: string | undefined,
  env: Record<string, string | undefined>,
  names: string[],
): Promise<{ status: 'skip' | 'warn'; seen: string; fix: string } | undefined> {
  const vpcId = facts.raw.VpcId
  if (vpcId === undefined)
    return { status: 'skip', seen: 'the endpoint names no VPC', fix: 'Pass the endpoint ID.' }
  const endpoint = route53EndpointUrl(env, ec2Endpoint)
  if (endpoint === null)
    return {
      status: 'skip',
      seen: `the EC2 API is at ${ec2Endpoint} and no Route 53 endpoint is set: private hosted zones not checked`,
      fix: 'Set AWS_ENDPOINT_URL_ROUTE_53 (or AWS_ENDPOINT_URL) to the Route 53 API to check them (`privatelink lab` prints it).',
    }
  const { client, commands } = await createRoute53Client(region, endpoint, env)
  try {
    facts.zones = await listZones(client, commands, vpcId, region)
    const answering = new Map<string, HostedZone>()
    for (const name of names) {
      const zone = shadowingZone(facts, name)
      if (zone !== undefined) answering.set(zone.id, zone)
    }
    await countRecords(client, commands, [...answering.values()])
    return undefined
  } catch (error) {
    facts.zones = undefined
    return {
      status: 'warn',
      seen: `ListHostedZonesByVPC failed: ${errorName(error)}`,
      fix: `Allow route53:ListHostedZonesByVPC to check them, or check by hand: aws route53 list-hosted-zones-by-vpc --vpc-id ${vpcId} --vpc-region ${region}`,
    }
  } finally {
    client.destroy()
  }
}
