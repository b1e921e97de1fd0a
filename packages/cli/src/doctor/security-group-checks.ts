import type { Ec2Client } from '../aws-client.js'
import { type CallerSource, sourceFlag } from './caller-source.js'
import type { CheckLog, CheckResult } from './check.js'
import { parseIpv4Range, rangeContains, rangesOverlap } from './ipv4-range.js'

/** The parts of DescribeSecurityGroups' answer doctor reads. */
export interface RawRule {
  IpProtocol?: string
  FromPort?: number
  ToPort?: number
  IpRanges?: { CidrIp?: string }[]
  UserIdGroupPairs?: { GroupId?: string }[]
}
interface RawGroup {
  GroupId?: string
  GroupName?: string
  IpPermissions?: RawRule[]
}

/** Whether a rule takes TCP on the port (all traffic, or TCP with the port in its range). */
export const coversPort = (rule: RawRule, port: number) =>
  rule.IpProtocol === '-1' ||
  ((rule.IpProtocol === 'tcp' || rule.IpProtocol === '6') &&
    (rule.FromPort ?? 0) <= port &&
    port <= (rule.ToPort ?? 65535))

/** `tcp 8443 from 10.0.0.0/16`; `to` for an outbound rule. */
export const ruleText = (rule: RawRule, direction: 'from' | 'to' = 'from') => {
  const ports =
    rule.IpProtocol === '-1'
      ? 'all traffic'
      : rule.FromPort === rule.ToPort
        ? `tcp ${rule.FromPort}`
        : `tcp ${rule.FromPort}-${rule.ToPort}`
  const from = [
    ...(rule.IpRanges ?? []).map((r) => r.CidrIp),
    ...(rule.UserIdGroupPairs ?? []).map((g) => g.GroupId),
  ].join(', ')
  return `${ports} ${direction} ${from || 'nowhere'}`
}

type Verdict =
  | { kind: 'admitted'; group: RawGroup; rule: RawRule }
  | { kind: 'partly'; cidrs: string[] }
  | { kind: 'dropped' }

/** Security groups are allow lists: any rule of any group on the interface admitting it decides. */
function admits(groups: RawGroup[], port: number, source: CallerSource): Verdict {
  const partial: string[] = []
  for (const group of groups)
    for (const rule of group.IpPermissions ?? []) {
      if (!coversPort(rule, port)) continue
      if (source.kind === 'group') {
        if ((rule.UserIdGroupPairs ?? []).some((pair) => pair.GroupId === source.groupId))
          return { kind: 'admitted', group, rule }
        continue
      }
      // This instance gets in by its address or by any of its own groups.
      if (
        source.kind === 'instance' &&
        (rule.UserIdGroupPairs ?? []).some((pair) => source.groupIds.includes(pair.GroupId ?? ''))
      )
        return { kind: 'admitted', group, rule }
      for (const { CidrIp } of rule.IpRanges ?? []) {
        const range = CidrIp === undefined ? undefined : parseIpv4Range(CidrIp)
        if (range === undefined) continue
        if (rangeContains(range, source.range)) return { kind: 'admitted', group, rule }
        if (rangesOverlap(range, source.range)) partial.push(CidrIp!)
      }
    }
  return partial.length > 0 ? { kind: 'partly', cidrs: partial } : { kind: 'dropped' }
}

/** What the security-group check found, for the reach lines to cite. */
export interface SecurityGroupFinding {
  status: CheckResult['status']
  /** One sentence: which source the groups drop. */
  explanation?: string
  commands: string[]
}

/**
 * `security group`: the endpoint's groups must admit TCP on the port from the caller. A packet
 * they do not admit is dropped, so the client sees a connect timeout, never a refusal.
 */
export async function checkSecurityGroups(
  log: CheckLog,
  client: Ec2Client,
  groupIds: string[],
  port: number,
  sources: CallerSource[],
): Promise<SecurityGroupFinding | undefined> {
  const started = performance.now()
  const base = { id: 'sg.ingress', title: 'security group' }
  if (groupIds.length === 0) {
    log.add({ ...base, status: 'skip', seen: 'the endpoint reports no security group' }, started)
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
        seen: `DescribeSecurityGroups failed: ${(error as { name?: string }).name ?? 'Error'}`,
        fix: 'Allow ec2:DescribeSecurityGroups to check the rules, or check by hand: aws ec2 describe-security-groups --group-ids ...',
      },
      started,
    )
    return undefined
  }
  const names = groups.map((g) => `${g.GroupId} (${g.GroupName})`).join(', ')
  const first = groupIds[0]!
  const add = (source: CallerSource) =>
    `aws ec2 authorize-security-group-ingress --group-id ${first} --protocol tcp --port ${port} ${sourceFlag(source)}`
  const verdicts = sources.map((source) => ({ source, verdict: admits(groups, port, source) }))
  const dropped = verdicts.filter((v) => v.verdict.kind === 'dropped')
  const partly = verdicts.filter((v) => v.verdict.kind === 'partly')
  if (dropped.length > 0) {
    const explanation = `${names} admit${groups.length === 1 ? 's' : ''} no TCP ${port} from ${dropped.map((d) => d.source.label).join(', ')}`
    const commands = dropped.map((d) => add(d.source))
    log.add(
      {
        ...base,
        status: 'fail',
        seen: `${explanation}: connects are dropped (a timeout, not a refusal)`,
        fix: `Add an inbound rule for TCP ${port} from the clients to ${first}.`,
        commands,
      },
      started,
    )
    return { status: 'fail', explanation, commands }
  }
  if (partly.length > 0) {
    const [{ source, verdict }] = partly as [
      { source: CallerSource; verdict: Extract<Verdict, { kind: 'partly' }> },
    ]
    const explanation = `${names} admit TCP ${port} only from ${verdict.cidrs.join(', ')} within ${source.label}`
    const commands = [add(source)]
    log.add(
      {
        ...base,
        status: 'warn',
        seen: `${explanation}: clients elsewhere in it are dropped`,
        fix: `Pass --source with the client's address to check it exactly, or widen the rule to every client.`,
        commands,
      },
      started,
    )
    return { status: 'warn', explanation, commands }
  }
  const how = verdicts
    .map((v) => {
      const admitted = v.verdict as Extract<Verdict, { kind: 'admitted' }>
      return `${v.source.label} by ${admitted.group.GroupId} (${ruleText(admitted.rule)})`
    })
    .join('; ')
  log.add({ ...base, status: 'pass', seen: `TCP ${port} admitted from ${how}` }, started)
  return { status: 'pass', commands: [] }
}
