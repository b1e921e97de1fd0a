import type { Endpoint } from '@privatelink/core'
import type { Ec2Client } from '../aws-client.js'
import type { CallerSource } from './caller-source.js'
import type { CheckLog } from './check.js'
import { parseIpv4Range, rangeContains, rangesOverlap } from './ipv4-range.js'

interface RawEntry {
  RuleNumber?: number
  Protocol?: string
  RuleAction?: string
  Egress?: boolean
  CidrBlock?: string
  PortRange?: { From?: number; To?: number }
}
interface RawAcl {
  NetworkAclId?: string
  Associations?: { SubnetId?: string }[]
  Entries?: RawEntry[]
}

/** The ports a client's side of the connection uses: AWS advises ACLs allow 1024-65535 back. */
const EPHEMERAL = { from: 1024, to: 65535 }

type Ports = { from: number; to: number }
type AclDecision = { allowed: true; rule: number } | { allowed: false; rule?: number }

function subtract(remaining: Ports[], cut: Ports): Ports[] {
  return remaining.flatMap((r) => {
    if (cut.to < r.from || cut.from > r.to) return [r]
    const parts: Ports[] = []
    if (cut.from > r.from) parts.push({ from: r.from, to: cut.from - 1 })
    if (cut.to < r.to) parts.push({ from: cut.to + 1, to: r.to })
    return parts
  })
}

/**
 * ACLs are evaluated lowest rule number first and the first match decides, per packet. For a range
 * of ports and a source range: an allow takes the ports it covers out of the question; a deny that
 * meets any port still in question, or any part of the source, decides against.
 */
function evaluate(entries: RawEntry[], egress: boolean, ports: Ports, source: string): AclDecision {
  const sourceRange = parseIpv4Range(source)
  if (sourceRange === undefined) return { allowed: true, rule: 0 }
  let remaining: Ports[] = [ports]
  const ordered = entries
    .filter((e) => e.Egress === egress)
    .sort((a, b) => (a.RuleNumber ?? 0) - (b.RuleNumber ?? 0))
  for (const entry of ordered) {
    if (entry.Protocol !== '-1' && entry.Protocol !== '6') continue
    const range = entry.CidrBlock === undefined ? undefined : parseIpv4Range(entry.CidrBlock)
    if (range === undefined || !rangesOverlap(range, sourceRange)) continue
    const entryPorts =
      entry.Protocol === '-1'
        ? { from: 0, to: 65535 }
        : { from: entry.PortRange?.From ?? 0, to: entry.PortRange?.To ?? 65535 }
    const meets = remaining.some((r) => entryPorts.from <= r.to && entryPorts.to >= r.from)
    if (!meets) continue
    if (entry.RuleAction === 'deny') return { allowed: false, rule: entry.RuleNumber ?? 0 }
    // An allow for part of the source leaves the rest of it to later entries.
    if (!rangeContains(range, sourceRange)) continue
    remaining = subtract(remaining, entryPorts)
    if (remaining.length === 0) return { allowed: true, rule: entry.RuleNumber ?? 0 }
  }
  return { allowed: false }
}

/** A rule number below `before` that the ACL does not use yet, for the allow entry to add. */
function freeRuleNumber(entries: RawEntry[], egress: boolean, before: number): number {
  const used = new Set(entries.filter((e) => e.Egress === egress).map((e) => e.RuleNumber))
  for (let number = Math.min(before - 1, 100); number >= 1; number--)
    if (!used.has(number)) return number
  return 1
}

/** Per zone: why the ACL drops traffic, with the commands that fix it. */
export type AclFindings = Map<string, { explanation: string; commands: string[] }>

/**
 * `network acl <zone>`: the ACL of each zone's subnet must let TCP to the port in from the caller,
 * and the answers out to the caller's ephemeral ports (ACLs are stateless).
 */
export async function checkNetworkAcls(
  log: CheckLog,
  client: Ec2Client,
  endpoint: Endpoint,
  port: number,
  sources: CallerSource[],
): Promise<AclFindings> {
  const started = performance.now()
  const findings: AclFindings = new Map()
  const zones = endpoint.zones.filter((z) => z.subnetId !== undefined)
  // ACLs match addresses: an instance counts by its own.
  const cidrs = sources.flatMap((s) => (s.kind === 'group' ? [] : [s]))
  if (zones.length === 0 || cidrs.length === 0) {
    log.add(
      {
        id: 'nacl.rules',
        title: 'nacl',
        status: 'skip',
        seen:
          zones.length === 0
            ? 'no subnet known for the endpoint'
            : 'ACLs match addresses, not security groups: pass --source with an address or CIDR',
      },
      started,
    )
    return findings
  }
  const { DescribeNetworkAclsCommand } = await import('@aws-sdk/client-ec2')
  let acls: RawAcl[]
  try {
    const answer = (await client.send(
      new DescribeNetworkAclsCommand({
        Filters: [{ Name: 'association.subnet-id', Values: zones.map((z) => z.subnetId!) }],
      }),
    )) as { NetworkAcls?: RawAcl[] }
    acls = answer.NetworkAcls ?? []
  } catch (error) {
    log.add(
      {
        id: 'nacl.rules',
        title: 'nacl',
        status: 'warn',
        seen: `DescribeNetworkAcls failed: ${(error as { name?: string }).name ?? 'Error'}`,
        fix: 'Allow ec2:DescribeNetworkAcls to check the ACLs, or check by hand: aws ec2 describe-network-acls --filters Name=association.subnet-id,Values=...',
      },
      started,
    )
    return findings
  }
  for (const zone of zones) {
    const base = { id: 'nacl.rules', title: 'nacl', zone: zone.azName }
    const acl = acls.find((a) => (a.Associations ?? []).some((s) => s.SubnetId === zone.subnetId))
    if (acl === undefined) {
      log.add({ ...base, status: 'skip', seen: `no ACL listed for ${zone.subnetId}` }, started)
      continue
    }
    const entries = acl.Entries ?? []
    const where = `${acl.NetworkAclId} on ${zone.subnetId}`
    const problems: string[] = []
    const commands: string[] = []
    const passes: string[] = []
    for (const source of cidrs) {
      const inbound = evaluate(entries, false, { from: port, to: port }, source.cidr)
      const outbound = evaluate(entries, true, EPHEMERAL, source.cidr)
      const by = (d: AclDecision) =>
        d.rule === undefined ? 'no rule (the final *)' : `rule ${d.rule}`
      if (inbound.allowed && outbound.allowed) {
        passes.push(
          `inbound TCP ${port} from ${source.label} by rule ${inbound.rule}, return traffic (TCP 1024-65535) by rule ${outbound.rule}`,
        )
        continue
      }
      if (!inbound.allowed) {
        problems.push(`inbound TCP ${port} from ${source.label} denied by ${by(inbound)}`)
        commands.push(
          `aws ec2 create-network-acl-entry --network-acl-id ${acl.NetworkAclId} --ingress --rule-number ${freeRuleNumber(entries, false, inbound.rule ?? 32767)} --protocol tcp --port-range From=${port},To=${port} --cidr-block ${source.cidr} --rule-action allow`,
        )
      }
      if (!outbound.allowed) {
        problems.push(
          `return traffic (TCP 1024-65535) to ${source.label} denied by ${by(outbound)}`,
        )
        commands.push(
          `aws ec2 create-network-acl-entry --network-acl-id ${acl.NetworkAclId} --egress --rule-number ${freeRuleNumber(entries, true, outbound.rule ?? 32767)} --protocol tcp --port-range From=1024,To=65535 --cidr-block ${source.cidr} --rule-action allow`,
        )
      }
    }
    if (problems.length === 0) {
      log.add({ ...base, status: 'pass', seen: `${where}: ${passes.join('; ')}` }, started)
      continue
    }
    const explanation = `${where}: ${problems.join('; ')}`
    findings.set(zone.azName, { explanation, commands })
    log.add(
      {
        ...base,
        status: 'fail',
        seen: explanation,
        fix: 'ACLs are stateless and evaluated lowest rule first: add an allow entry numbered below the deny (or remove the deny).',
        commands,
      },
      started,
    )
  }
  return findings
}
