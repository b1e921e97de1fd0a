import { checkFilters, Ec2Error, matches } from './ec2-error.js'
import type { Ec2Inventory, LabDhcpOptions } from './ec2-inventory.js'
import { ensureNetwork } from './ec2-network.js'
import { newId } from './identifiers.js'
import { filterParams, listParam, page, type QueryParams, type XmlNode } from './query-protocol.js'

/** The domain name AWS's default DHCP options give a region's instances. */
export function amazonDomainName(region: string): string {
  return region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`
}

/**
 * The DHCP options set of `vpcId`: the one associated with it, else the lab's AmazonProvidedDNS
 * set (made on first use and associated, as AWS does for a new VPC).
 */
export function vpcDhcpOptions(inventory: Ec2Inventory, vpcId: string): LabDhcpOptions {
  const network = ensureNetwork(inventory)
  network.dhcpOptions ??= []
  const sets = network.dhcpOptions
  const vpc = network.vpcs.find((v) => v.vpcId === vpcId)
  const associated = sets.find((set) => set.dhcpOptionsId === vpc?.dhcpOptionsId)
  if (associated !== undefined) return associated
  let amazon = sets[0]
  if (amazon === undefined) {
    amazon = {
      dhcpOptionsId: newId('dopt'),
      ownerId: vpc?.ownerId ?? inventory.endpoints[0]?.ownerId ?? '111111111111',
      domainNameServers: ['AmazonProvidedDNS'],
      domainName: amazonDomainName(inventory.region),
    }
    sets.push(amazon)
  }
  if (vpc !== undefined) vpc.dhcpOptionsId = amazon.dhcpOptionsId
  return amazon
}

/**
 * "Custom DNS servers": a new DHCP options set with `servers` as domain-name-servers, associated
 * with `vpcId` (what `aws ec2 create-dhcp-options` + `associate-dhcp-options` do). Returns its ID.
 * The servers are data only: the lab never dials them.
 */
export function associateDnsServers(
  inventory: Ec2Inventory,
  vpcId: string,
  servers: string[],
): string {
  const current = vpcDhcpOptions(inventory, vpcId)
  const set: LabDhcpOptions = {
    ...current,
    dhcpOptionsId: newId('dopt'),
    domainNameServers: servers,
  }
  ensureNetwork(inventory).dhcpOptions!.push(set)
  ensureNetwork(inventory).vpcs.find((v) => v.vpcId === vpcId)!.dhcpOptionsId = set.dhcpOptionsId
  return set.dhcpOptionsId
}

function describeDhcpOptions(inventory: Ec2Inventory, params: QueryParams): XmlNode {
  const network = ensureNetwork(inventory)
  for (const vpc of network.vpcs) vpcDhcpOptions(inventory, vpc.vpcId)
  const sets = network.dhcpOptions ?? []
  const ids = listParam(params, 'DhcpOptionsId')
  for (const id of ids)
    if (!sets.some((set) => set.dhcpOptionsId === id))
      throw new Ec2Error('InvalidDhcpOptionID.NotFound', `The dhcpOption ID '${id}' does not exist`)
  const filters = filterParams(params)
  checkFilters(filters, ['dhcp-options-id'])
  const selected = sets.filter(
    (set) =>
      (ids.length === 0 || ids.includes(set.dhcpOptionsId)) &&
      matches(filters, 'dhcp-options-id', set.dhcpOptionsId),
  )
  const { items, nextToken } = page(selected, params)
  return {
    dhcpOptionsSet: items.map((set) => ({
      dhcpOptionsId: set.dhcpOptionsId,
      ownerId: set.ownerId,
      dhcpConfigurationSet: [
        { key: 'domain-name', valueSet: [{ value: set.domainName }] },
        { key: 'domain-name-servers', valueSet: set.domainNameServers.map((value) => ({ value })) },
      ],
      tagSet: [],
    })),
    nextToken,
  }
}

/** The EC2 actions on DHCP options, by action name. */
export const dhcpOptionsHandlers: Record<
  string,
  (inventory: Ec2Inventory, params: QueryParams) => XmlNode
> = { DescribeDhcpOptions: describeDhcpOptions }
