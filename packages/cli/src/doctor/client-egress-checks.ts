import type { Endpoint } from '@privatelink/core'
import type { Ec2Client } from '../aws-client.js'
import type { CallerSource } from './caller-source.js'
import type { CheckLog } from './check.js'
import { parseIpv4Range, rangeContains } from './ipv4-range.js'
import type { ZoneExplanation } from './network-checks.js'
import { coversPort, type RawRule, ruleText } from './security-group-checks.js'

interface RawGroup {
  GroupId?: string
  GroupName?: string
  IpPermissionsEgress?: RawRule[]
}

/** The client's own security groups: this instance's (IMDS), or the sg- sources named. */
const clientGroups = (sources: CallerSource[]) => [
  ...new Set(
    sources.flatMap((s) =>
      s.kind === 'group' ? [s.groupId] : s.kind === 'instance' ? s.groupIds : [],
    ),
  ),
]

/** The rule of any group that lets TCP on the port out to this subnet, if one does. */
function allowing(
  groups: RawGroup[],
  port: number,
  cidr: string,
  endpointGroupIds: string[],
): { group: RawGroup; rule: RawRule } | undefined {
  const subnet = parseIpv4Range(cidr)
  for (const group of groups)
    for (const rule of group.IpPermissionsEgress ?? []) {
      if (!coversPort(rule, port)) continue
      // Out to a security group: to the interfaces in it, the endpoint's included.
      if ((rule.UserIdGroupPairs ?? []).some((p) => endpointGroupIds.includes(p.GroupId ?? '')))
        return { group, rule }
      for (const { CidrIp } of rule.IpRanges ?? []) {
        const range = CidrIp === undefined ? undefined : parseIpv4Range(CidrIp)
        if (range !== undefined && subnet !== undefined && rangeContains(range, subnet))
          return { group, rule }
      }
    }
  return undefined
}

/**
 * `client egress`: security groups are stateful, but a client's own group must still let the
 * connection out. For the client's groups (this instance's from IMDS, or `--source sg-...`), each
 * of the endpoint's subnets must be reachable on TCP `port`. No line when the clients are only
 * addresses (there is no group to read). Traffic to the Amazon DNS server is not filtered by
 * security groups, so port 53 is not checked.
 */
export async function checkClientEgress(
  log: CheckLog,
  client: Ec2Client,
  sources: CallerSource[],
  endpoint: Endpoint,
  endpointGroupIds: string[],
  port: number,
): Promise<ZoneExplanation | undefined> {
  const groupIds = clientGroups(sources)
  if (groupIds.length === 0) return undefined
  const started = performance.now()
  const base = { id: 'sg.egress', title: 'client egress' }
  const subnets = endpoint.zones.flatMap((zone) =>
    (zone.cidrs ?? [])
      .filter((cidr) => !cidr.includes(':'))
      .map((cidr) => ({ zone: zone.azName, cidr })),
  )
  if (subnets.length === 0) {
    log.add({ ...base, status: 'skip', seen: "the endpoint's subnet ranges are unknown" }, started)
    return undefined
  }
  const { DescribeSecurityGroupsCommand } = await import('@aws-sdk/client-ec2')
  let groups: RawGroup[]
  try {
    const answer = (await client.send(
      new DescribeSecurityGroupsCommand({ GroupIds: groupIds }),
    )) as { SecurityGroups?: RawGroup[] }
    groups = answer.SecurityGroups ?? []
  } catch (error) {
    log.add(
      {
        ...base,
        status: 'warn',
        seen: `DescribeSecurityGroups (${groupIds.join(', ')}) failed: ${(error as { name?: string }).name ?? 'Error'}`,
        fix: `Check their outbound rules by hand: aws ec2 describe-security-groups --group-ids ${groupIds.join(' ')}`,
      },
      started,
    )
    return undefined
  }
  const names = groups.map((g) => `${g.GroupId} (${g.GroupName})`).join(', ')
  const verdicts = subnets.map((s) => ({
    ...s,
    by: allowing(groups, port, s.cidr, endpointGroupIds),
  }))
  const blocked = verdicts.filter((v) => v.by === undefined)
  if (blocked.length === 0) {
    const rules = [
      ...new Set(verdicts.map((v) => `${v.by!.group.GroupId} (${ruleText(v.by!.rule, 'to')})`)),
    ]
    log.add(
      {
        ...base,
        status: 'pass',
        seen: `TCP ${port} out to the endpoint's subnets (${subnets.map((s) => s.cidr).join(', ')}) allowed by ${rules.join('; ')}`,
      },
      started,
    )
    return undefined
  }
  const target = endpointGroupIds[0]
  const explanation = `${names} let${groups.length === 1 ? 's' : ''} no TCP ${port} out to ${blocked.map((b) => `${b.cidr} (${b.zone})`).join(', ')}`
  const commands = [
    target !== undefined
      ? `aws ec2 authorize-security-group-egress --group-id ${groupIds[0]} --ip-permissions 'IpProtocol=tcp,FromPort=${port},ToPort=${port},UserIdGroupPairs=[{GroupId=${target}}]'`
      : `aws ec2 authorize-security-group-egress --group-id ${groupIds[0]} --ip-permissions 'IpProtocol=tcp,FromPort=${port},ToPort=${port},IpRanges=[{CidrIp=${blocked[0]!.cidr}}]'`,
  ]
  log.add(
    {
      ...base,
      status: 'fail',
      seen: `${explanation}: connects from the client are dropped before they leave it (a timeout)`,
      fix: `Add an outbound rule for TCP ${port} to the endpoint's security group (or its subnets) to ${groupIds[0]}.`,
      commands,
    },
    started,
  )
  return { explanation, commands }
}
