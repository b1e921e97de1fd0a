import type { Endpoint, EndpointZone } from '@privatelink/core'
import type { Ec2Client } from '../aws-client.js'
import type { RawEndpoint } from '../target.js'
import { type CallerSource, instanceSource, sourceFromFlag, vpcSource } from './caller-source.js'
import type { CheckLog } from './check.js'
import { checkClientEgress } from './client-egress-checks.js'
import { readInstanceNetwork } from './instance-metadata.js'
import { checkNetworkAcls } from './network-acl-checks.js'
import type { ZoneExplanation } from './network-checks.js'
import { checkSecurityGroups } from './security-group-checks.js'

/** The VPC's primary CIDR from DescribeVpcs; undefined when it cannot be read. */
async function vpcCidr(client: Ec2Client, vpcId: string | undefined): Promise<string | undefined> {
  if (vpcId === undefined) return undefined
  const { DescribeVpcsCommand } = await import('@aws-sdk/client-ec2')
  try {
    const answer = (await client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))) as {
      Vpcs?: { CidrBlock?: string }[]
    }
    return answer.Vpcs?.[0]?.CidrBlock
  } catch {
    return undefined
  }
}

/**
 * The path to the endpoint's interfaces, as the seed's flow checks it after DNS: its security
 * groups, then each subnet's network ACL, for the clients given by `--source`, else this machine
 * (its address and security groups from EC2 instance metadata), else the whole VPC.
 * Returns, per zone, what would make that zone not answer, for the reach lines to cite.
 */
export async function checkNetworkPath(
  log: CheckLog,
  client: Ec2Client,
  raw: RawEndpoint,
  endpoint: Endpoint,
  port: number,
  sourceFlags: string[] | undefined,
  env: Record<string, string | undefined>,
): Promise<(zone: EndpointZone) => ZoneExplanation | undefined> {
  let sources: CallerSource[]
  const instance = sourceFlags?.length ? undefined : await readInstanceNetwork(env)
  const instanceCaller =
    instance === undefined ? undefined : instanceSource(instance.privateIp, instance.groupIds)
  if (sourceFlags !== undefined && sourceFlags.length > 0) {
    sources = sourceFlags.map((flag) => sourceFromFlag(flag)!)
  } else if (instanceCaller !== undefined) {
    // On EC2, the caller is this machine: its address and its own groups, from IMDS.
    sources = [instanceCaller]
  } else {
    const cidr = await vpcCidr(client, raw.VpcId)
    const source = cidr === undefined ? undefined : vpcSource(cidr)
    if (source === undefined) {
      const started = performance.now()
      for (const [id, title] of [
        ['sg.ingress', 'security group'],
        ['nacl.rules', 'nacl'],
      ] as const)
        log.add(
          {
            id,
            title,
            status: 'skip',
            seen: "the VPC's CIDR is unknown (DescribeVpcs) and no --source was given",
            fix: "Pass --source with the client's address, CIDR or security group.",
          },
          started,
        )
      return () => undefined
    }
    sources = [source]
  }
  const groupIds = (raw.Groups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : []))
  const groups = await checkSecurityGroups(log, client, groupIds, port, sources)
  const egress = await checkClientEgress(log, client, sources, endpoint, groupIds, port)
  const acls = await checkNetworkAcls(log, client, endpoint, port, sources)
  return (zone) => {
    const parts: ZoneExplanation[] = []
    if (groups !== undefined && groups.status !== 'pass' && groups.explanation !== undefined)
      parts.push({ explanation: groups.explanation, commands: groups.commands })
    if (egress !== undefined) parts.push(egress)
    const acl = acls.get(zone.azName)
    if (acl !== undefined) parts.push(acl)
    if (parts.length === 0) return undefined
    return {
      explanation: parts.map((p) => p.explanation).join('; and '),
      commands: parts.flatMap((p) => p.commands),
    }
  }
}
