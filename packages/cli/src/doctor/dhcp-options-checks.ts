import type { Ec2Client } from '../aws-client.js'
import type { CheckLog } from './check.js'
import { parseIpv4Range } from './ipv4-range.js'

// The seed's DNS flow starts here: a VPC's instances ask the DNS servers its DHCP options set
// names. Private DNS names (and the endpoint's own records) are answered only by the VPC
// resolver (AmazonProvidedDNS: the VPC CIDR's base +2, or 169.254.169.253) or what forwards to it.

const AMAZON = 'AmazonProvidedDNS'
const LINK_LOCAL_RESOLVER = '169.254.169.253'

/** The VPC resolver's address: the VPC CIDR's base +2 (`10.0.0.2` for `10.0.0.0/16`). */
function vpcResolver(cidr: string | undefined): string | undefined {
  const range = cidr === undefined ? undefined : parseIpv4Range(cidr)
  if (range === undefined) return undefined
  const address = range.base + 2
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.')
}

interface VpcDhcp {
  dhcpOptionsId: string | undefined
  cidr: string | undefined
  servers: string[] | undefined
}

async function readDhcp(client: Ec2Client, vpcId: string): Promise<VpcDhcp> {
  const { DescribeVpcsCommand, DescribeDhcpOptionsCommand } = await import('@aws-sdk/client-ec2')
  const vpcs = (await client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))) as {
    Vpcs?: { DhcpOptionsId?: string; CidrBlock?: string }[]
  }
  const dhcpOptionsId = vpcs.Vpcs?.[0]?.DhcpOptionsId
  const cidr = vpcs.Vpcs?.[0]?.CidrBlock
  // `default` is no set at all: DHCP hands out no DNS server.
  if (dhcpOptionsId === undefined || dhcpOptionsId === 'default')
    return { dhcpOptionsId, cidr, servers: undefined }
  const sets = (await client.send(
    new DescribeDhcpOptionsCommand({ DhcpOptionsIds: [dhcpOptionsId] }),
  )) as {
    DhcpOptions?: { DhcpConfigurations?: { Key?: string; Values?: { Value?: string }[] }[] }[]
  }
  const servers = (sets.DhcpOptions?.[0]?.DhcpConfigurations ?? [])
    .find((c) => c.Key === 'domain-name-servers')
    ?.Values?.map((v) => v.Value ?? '')
  return { dhcpOptionsId, cidr, servers }
}

/** Creating a set with AmazonProvidedDNS and associating it with the VPC. */
function amazonDnsCommands(vpcId: string, region: string): string[] {
  const domain = region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`
  return [
    `aws ec2 create-dhcp-options --dhcp-configurations "Key=domain-name-servers,Values=${AMAZON}" "Key=domain-name,Values=${domain}"`,
    `aws ec2 associate-dhcp-options --dhcp-options-id <DhcpOptionsId from the command above> --vpc-id ${vpcId}`,
  ]
}

/** `dns dhcp options`: the DNS servers the VPC hands its instances answer private DNS names. */
export async function checkDhcpOptions(
  log: CheckLog,
  client: Ec2Client,
  vpcId: string | undefined,
  region: string,
): Promise<void> {
  const started = performance.now()
  const base = { id: 'dns.dhcpOptions', title: 'dns dhcp options' }
  if (vpcId === undefined) {
    log.add({ ...base, status: 'skip', seen: 'the endpoint names no VPC' }, started)
    return
  }
  let dhcp: VpcDhcp
  try {
    dhcp = await readDhcp(client, vpcId)
  } catch (error) {
    log.add(
      {
        ...base,
        status: 'warn',
        seen: `DescribeVpcs/DescribeDhcpOptions failed: ${(error as { name?: string } | null)?.name ?? 'Error'}`,
        fix: `Check that the credentials may call ec2:DescribeVpcs and ec2:DescribeDhcpOptions, or by hand: aws ec2 describe-dhcp-options --filters Name=dhcp-options-id,Values=$(aws ec2 describe-vpcs --vpc-ids ${vpcId} --query 'Vpcs[0].DhcpOptionsId' --output text)`,
      },
      started,
    )
    return
  }
  const resolver = vpcResolver(dhcp.cidr)
  const servers = dhcp.servers ?? []
  const toResolver = (s: string) => s === AMAZON || s === LINK_LOCAL_RESOLVER || s === resolver
  const where = `${dhcp.dhcpOptionsId ?? 'no DHCP options set'} on ${vpcId}`
  if (servers.length > 0 && servers.every(toResolver)) {
    log.add(
      { ...base, status: 'pass', seen: `${where}: domain-name-servers ${servers.join(', ')}` },
      started,
    )
    return
  }
  const custom = servers.filter((s) => !toResolver(s))
  log.add(
    {
      ...base,
      status: 'warn',
      seen:
        servers.length === 0
          ? `${where}: no domain-name-servers, so instances get no DNS server from DHCP`
          : `${where}: domain-name-servers ${servers.join(', ')} (custom: ${custom.join(', ')})`,
      fix:
        `Private DNS names answer only from the VPC resolver (${resolver ?? 'the VPC CIDR base +2'}, or ${LINK_LOCAL_RESOLVER}) or a Route 53 Resolver endpoint: ` +
        `${servers.length === 0 ? 'associate a DHCP options set with AmazonProvidedDNS' : `make ${custom.join(', ')} forward the endpoint's names (and amazonaws.com) to ${resolver ?? 'the VPC resolver'}, e.g. a Route 53 Resolver inbound endpoint as their conditional forwarder target, or associate a DHCP options set with AmazonProvidedDNS`}.`,
      commands: amazonDnsCommands(vpcId, region),
    },
    started,
  )
}
