import { type Ipv4Range, parseIpv4Range } from './ipv4-range.js'

/** Where the caller's traffic comes from, as security groups and ACLs see it. */
export type CallerSource =
  | {
      kind: 'cidr'
      /** As written in rules and commands, e.g. `10.0.0.0/16` or `10.0.3.7/32`. */
      cidr: string
      range: Ipv4Range
      /** How the report names it, e.g. `the VPC (10.0.0.0/16)`. */
      label: string
    }
  | {
      kind: 'group'
      /** A security group the caller's interface is in. */
      groupId: string
      label: string
    }
  | {
      /** This machine, from instance metadata: its address (a /32) and its own security groups. */
      kind: 'instance'
      cidr: string
      range: Ipv4Range
      groupIds: string[]
      label: string
    }

/** `--source` values (an address, a CIDR or an sg- ID) -> sources; undefined for a bad one. */
export function sourceFromFlag(value: string): CallerSource | undefined {
  if (/^sg-[0-9a-f]{8,17}$/.test(value)) return { kind: 'group', groupId: value, label: value }
  const range = parseIpv4Range(value)
  if (range === undefined) return undefined
  const cidr = value.includes('/') ? value : `${value}/32`
  return { kind: 'cidr', cidr, range, label: cidr }
}

/** The whole VPC as the caller, when the user named none: any client in the VPC must get in. */
export function vpcSource(vpcCidr: string): CallerSource | undefined {
  const range = parseIpv4Range(vpcCidr)
  if (range === undefined) return undefined
  return { kind: 'cidr', cidr: vpcCidr, range, label: `the VPC (${vpcCidr})` }
}

/** This machine as IMDS describes it: `this instance (10.0.0.10, sg-...)`. */
export function instanceSource(privateIp: string, groupIds: string[]): CallerSource | undefined {
  const range = parseIpv4Range(privateIp)
  if (range === undefined) return undefined
  const groups = groupIds.length > 0 ? `, ${groupIds.join(', ')}` : ''
  return {
    kind: 'instance',
    cidr: `${privateIp}/32`,
    range,
    groupIds,
    label: `this instance (${privateIp}${groups})`,
  }
}

/**
 * The AWS CLI flag naming a source in a rule: `--cidr 10.0.0.0/16` or `--source-group sg-...`.
 * For this instance, its first security group: a rule that follows it, whatever its address.
 */
export function sourceFlag(source: CallerSource): string {
  if (source.kind === 'group') return `--source-group ${source.groupId}`
  if (source.kind === 'instance' && source.groupIds[0] !== undefined)
    return `--source-group ${source.groupIds[0]}`
  return `--cidr ${source.cidr}`
}
