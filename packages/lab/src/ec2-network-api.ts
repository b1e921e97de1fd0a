import { vpcDhcpOptions } from './ec2-dhcp-options.js'
import { checkFilters, Ec2Error, matches, matchesAny } from './ec2-error.js'
import type { Ec2Inventory, LabSecurityGroupRule } from './ec2-inventory.js'
import { ensureNetwork } from './ec2-network.js'
import { filterParams, listParam, page, type QueryParams, type XmlNode } from './query-protocol.js'

/** IDs asked for by `Prefix.N` must all exist: EC2 answers `<code>` naming the first missing. */
function requireIds(ids: string[], known: string[], code: string, what: string): void {
  for (const id of ids)
    if (!known.includes(id)) throw new Ec2Error(code, `The ${what} '${id}' does not exist`)
}

function ruleXml(rule: LabSecurityGroupRule, ownerId: string): XmlNode {
  const ports = rule.ipProtocol === '-1' ? {} : { fromPort: rule.fromPort, toPort: rule.toPort }
  return {
    ipProtocol: rule.ipProtocol,
    ...ports,
    groups: rule.groupIds.map((groupId) => ({ userId: ownerId, groupId })),
    ipRanges: rule.cidrs.map((cidrIp) => ({ cidrIp, description: rule.description })),
    ipv6Ranges: [],
    prefixListIds: [],
  }
}

function describeSecurityGroups(inventory: Ec2Inventory, params: QueryParams): XmlNode {
  const network = ensureNetwork(inventory)
  const ids = listParam(params, 'GroupId')
  const groups = network.securityGroups
  requireIds(
    ids,
    groups.map((g) => g.groupId),
    'InvalidGroup.NotFound',
    'security group',
  )
  const filters = filterParams(params)
  checkFilters(filters, ['vpc-id', 'group-id', 'group-name'])
  const selected = groups.filter(
    (g) =>
      (ids.length === 0 || ids.includes(g.groupId)) &&
      matches(filters, 'vpc-id', g.vpcId) &&
      matches(filters, 'group-id', g.groupId) &&
      matches(filters, 'group-name', g.groupName),
  )
  const { items, nextToken } = page(selected, params)
  return {
    securityGroupInfo: items.map((g) => ({
      ownerId: g.ownerId,
      groupId: g.groupId,
      groupName: g.groupName,
      groupDescription: g.description,
      vpcId: g.vpcId,
      ipPermissions: g.ingress.map((rule) => ruleXml(rule, g.ownerId)),
      ipPermissionsEgress: g.egress.map((rule) => ruleXml(rule, g.ownerId)),
    })),
    nextToken,
  }
}

function describeNetworkAcls(inventory: Ec2Inventory, params: QueryParams): XmlNode {
  const network = ensureNetwork(inventory)
  const ids = listParam(params, 'NetworkAclId')
  const acls = network.networkAcls
  requireIds(
    ids,
    acls.map((a) => a.networkAclId),
    'InvalidNetworkAclID.NotFound',
    'network ACL',
  )
  const filters = filterParams(params)
  checkFilters(filters, ['vpc-id', 'network-acl-id', 'association.subnet-id', 'default'])
  const selected = acls.filter(
    (a) =>
      (ids.length === 0 || ids.includes(a.networkAclId)) &&
      matches(filters, 'vpc-id', a.vpcId) &&
      matches(filters, 'network-acl-id', a.networkAclId) &&
      matches(filters, 'default', String(a.isDefault)) &&
      matchesAny(filters, 'association.subnet-id', a.subnetIds),
  )
  const { items, nextToken } = page(selected, params)
  const ownerId = network.vpcs[0]?.ownerId
  return {
    networkAclSet: items.map((acl) => ({
      networkAclId: acl.networkAclId,
      vpcId: acl.vpcId,
      default: acl.isDefault,
      ownerId,
      // EC2 lists entries by direction, then rule number.
      entrySet: [...acl.entries]
        .sort((a, b) => Number(a.egress) - Number(b.egress) || a.ruleNumber - b.ruleNumber)
        .map((entry) => ({
          ruleNumber: entry.ruleNumber,
          protocol: entry.protocol,
          ruleAction: entry.ruleAction,
          egress: entry.egress,
          cidrBlock: entry.cidrBlock,
          portRange: entry.portRange,
        })),
      associationSet: acl.subnetIds.map((subnetId) => ({
        networkAclAssociationId: `aclassoc-${subnetId.slice('subnet-'.length)}`,
        networkAclId: acl.networkAclId,
        subnetId,
      })),
      tagSet: [],
    })),
    nextToken,
  }
}

function describeRouteTables(inventory: Ec2Inventory, params: QueryParams): XmlNode {
  const network = ensureNetwork(inventory)
  const ids = listParam(params, 'RouteTableId')
  const tables = network.routeTables
  requireIds(
    ids,
    tables.map((t) => t.routeTableId),
    'InvalidRouteTableID.NotFound',
    'route table ID',
  )
  const filters = filterParams(params)
  checkFilters(filters, ['vpc-id', 'route-table-id', 'association.subnet-id', 'association.main'])
  const selected = tables.filter(
    (t) =>
      (ids.length === 0 || ids.includes(t.routeTableId)) &&
      matches(filters, 'vpc-id', t.vpcId) &&
      matches(filters, 'route-table-id', t.routeTableId) &&
      matchesAny(filters, 'association.subnet-id', t.subnetIds) &&
      // A table that is not main has no main association: the filter on false matches nothing.
      (filters.get('association.main') === undefined ||
        (t.main && filters.get('association.main')!.includes('true'))),
  )
  const { items, nextToken } = page(selected, params)
  return {
    routeTableSet: items.map((table) => ({
      routeTableId: table.routeTableId,
      vpcId: table.vpcId,
      ownerId: network.vpcs.find((v) => v.vpcId === table.vpcId)?.ownerId,
      routeSet: table.routes.map((route) => ({
        destinationCidrBlock: route.destinationCidrBlock,
        destinationPrefixListId: route.destinationPrefixListId,
        gatewayId: route.gatewayId,
        state: 'active',
        origin: route.gatewayId === 'local' ? 'CreateRouteTable' : 'CreateRoute',
      })),
      associationSet: [
        ...(table.main
          ? [
              {
                routeTableAssociationId: `rtbassoc-${table.routeTableId.slice('rtb-'.length)}`,
                routeTableId: table.routeTableId,
                main: true,
                associationState: { state: 'associated' },
              },
            ]
          : []),
        ...table.subnetIds.map((subnetId) => ({
          routeTableAssociationId: `rtbassoc-${subnetId.slice('subnet-'.length)}`,
          routeTableId: table.routeTableId,
          subnetId,
          main: false,
          associationState: { state: 'associated' },
        })),
      ],
      tagSet: [],
    })),
    nextToken,
  }
}

function describeVpcs(inventory: Ec2Inventory, params: QueryParams): XmlNode {
  const network = ensureNetwork(inventory)
  const ids = listParam(params, 'VpcId')
  requireIds(
    ids,
    network.vpcs.map((v) => v.vpcId),
    'InvalidVpcID.NotFound',
    'vpc ID',
  )
  const filters = filterParams(params)
  checkFilters(filters, ['vpc-id'])
  const selected = network.vpcs.filter(
    (v) => (ids.length === 0 || ids.includes(v.vpcId)) && matches(filters, 'vpc-id', v.vpcId),
  )
  const { items, nextToken } = page(selected, params)
  return {
    vpcSet: items.map((vpc) => ({
      vpcId: vpc.vpcId,
      ownerId: vpc.ownerId,
      state: 'available',
      cidrBlock: vpc.cidrBlock,
      dhcpOptionsId: vpcDhcpOptions(inventory, vpc.vpcId).dhcpOptionsId,
      instanceTenancy: 'default',
      isDefault: false,
    })),
    nextToken,
  }
}

/** The EC2 actions on the network around the endpoints, by action name. */
export const networkHandlers: Record<
  string,
  (inventory: Ec2Inventory, params: QueryParams) => XmlNode
> = {
  DescribeSecurityGroups: describeSecurityGroups,
  DescribeNetworkAcls: describeNetworkAcls,
  DescribeRouteTables: describeRouteTables,
  DescribeVpcs: describeVpcs,
}
