import type { CredentialsStore } from './credentials-store.js'
import type { DnsBehaviour, LabDnsServer } from './dns-server.js'
import { associateDnsServers } from './ec2-dhcp-options.js'
import type {
  Ec2Inventory,
  LabInstance,
  LabNetworkAcl,
  LabNetworkAclEntry,
  LabNetworkState,
  LabSecurityGroupRule,
  LabVpcEndpoint,
} from './ec2-inventory.js'
import { newId } from './identifiers.js'

/** The lab's endpoint policy: everything, for principals of the account only (not full access). */
export function accountPolicy(accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'LabAccountOnly',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: '*',
        Resource: '*',
      },
    ],
  })
}

/** The policy AWS gives an endpoint created without one: full access, what the seed warns about. */
export const FULL_ACCESS_POLICY = JSON.stringify({
  Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
})

/** A default network ACL as AWS creates it: allow all, then the final deny, both directions. */
function defaultEntries(): LabNetworkAclEntry[] {
  return [false, true].flatMap((egress) => [
    {
      ruleNumber: 100,
      protocol: '-1',
      ruleAction: 'allow' as const,
      egress,
      cidrBlock: '0.0.0.0/0',
    },
    {
      ruleNumber: 32767,
      protocol: '-1',
      ruleAction: 'deny' as const,
      egress,
      cidrBlock: '0.0.0.0/0',
    },
  ])
}

/** The VPC's CIDR the lab's subnets are cut from: `10.0.0.0/16` for the first VPC, then 10.1... */
function vpcCidr(inventory: Ec2Inventory, vpcId: string, index: number): string {
  const subnet = inventory.subnets.find((s) => s.vpcId === vpcId)
  const second = subnet?.cidrBlock.split('.')[1] ?? String(index)
  return `10.${second}.0.0/16`
}

/**
 * The network around the endpoints, built healthy on first use: per VPC one security group on its
 * interface endpoints admitting TCP from the VPC, the default ACL (allow all) on every subnet, the
 * main route table with the local route; the lab's policy on every interface endpoint. Built here
 * rather than by startLab so the inventory stays the one place tests edit.
 */
export function ensureNetwork(inventory: Ec2Inventory): LabNetworkState {
  if (inventory.network !== undefined) return inventory.network
  const ownerId = inventory.endpoints[0]?.ownerId ?? '111111111111'
  const vpcIds = [
    ...new Set([...inventory.vpcAttributes.keys(), ...inventory.endpoints.map((e) => e.vpcId)]),
  ]
  const network: LabNetworkState = {
    vpcs: [],
    securityGroups: [],
    networkAcls: [],
    routeTables: [],
    hostedZones: [],
  }
  const clientVpc = inventory.endpoints[0]?.vpcId ?? vpcIds[0]
  for (const [index, vpcId] of vpcIds.entries()) {
    const cidrBlock = vpcCidr(inventory, vpcId, index)
    network.vpcs.push({ vpcId, cidrBlock, ownerId })
    const groupId = newId('sg')
    network.securityGroups.push({
      groupId,
      groupName: 'privatelink-lab-endpoint',
      description: 'lab: the endpoint interfaces, TCP from the VPC',
      vpcId,
      ownerId,
      // The lab does not know its services' ports here: every TCP port from the VPC.
      ingress: [
        {
          ipProtocol: 'tcp',
          fromPort: 0,
          toPort: 65535,
          cidrs: [cidrBlock],
          groupIds: [],
          description: 'lab: TCP from the VPC',
        },
      ],
      egress: [{ ipProtocol: '-1', cidrs: ['0.0.0.0/0'], groupIds: [] }],
    })
    network.networkAcls.push({
      networkAclId: newId('acl'),
      vpcId,
      isDefault: true,
      subnetIds: inventory.subnets.filter((s) => s.vpcId === vpcId).map((s) => s.subnetId),
      entries: defaultEntries(),
    })
    network.routeTables.push({
      routeTableId: newId('rtb'),
      vpcId,
      main: true,
      subnetIds: [],
      routes: [{ destinationCidrBlock: cidrBlock, gatewayId: 'local' }],
    })
    if (vpcId === clientVpc) {
      // The instance IMDS describes sits in this group; the endpoint's group admits the VPC's
      // CIDR, so it gets in by address, and a rule naming this group admits it too.
      network.clientGroupId = newId('sg')
      network.securityGroups.push({
        groupId: network.clientGroupId,
        groupName: 'privatelink-lab-client',
        description: 'lab: this machine (IMDS)',
        vpcId,
        ownerId,
        ingress: [],
        egress: [{ ipProtocol: '-1', cidrs: ['0.0.0.0/0'], groupIds: [] }],
      })
    }
    for (const endpoint of inventory.endpoints.filter((e) => e.vpcId === vpcId)) {
      if (endpoint.vpcEndpointType !== 'Interface') continue
      endpoint.groupIds ??= [groupId]
      endpoint.policyDocument ??= accountPolicy(endpoint.ownerId)
    }
  }
  inventory.network = network
  return network
}

/** The part of the lab's DNS server a DNS fault drives (`lab.dns`). */
export type LabDnsFaults = Pick<LabDnsServer, 'override' | 'restore'>

/** Options of {@link LabNetwork.addHostedZone}. */
export interface HostedZoneOptions {
  /** The endpoint whose VPC the zone is associated with. @default the lab's endpoint */
  endpointId?: string
  /** A records the zone holds, by name: e.g. a stale address for the service's name. @default none */
  records?: Record<string, string[]>
  /** The lab's DNS server (`lab.dns`): it then answers as the VPC resolver would. @default unchanged */
  dns?: LabDnsFaults
}

/** Options of {@link LabNetwork.disablePrivateDns} and {@link LabNetwork.disableVpcDns}. */
export interface PrivateDnsFaultOptions {
  /** @default the lab's endpoint */
  endpointId?: string
  /** The lab's DNS server (`lab.dns`): it then answers as the VPC resolver would. @default unchanged */
  dns?: LabDnsFaults
  /** What the private name answers outside the VPC. @default none: NXDOMAIN */
  publicAddresses?: string[]
}

/** Lowercase, no trailing dot: how Route 53 and the lab's DNS compare names. */
const bare = (name: string) => name.replace(/\.$/, '').toLowerCase()

/** Where an ACL fault applies, and what it denies. */
export interface AclDenyOptions {
  /** The subnet whose ACL gets the entry: the zone's subnet of the endpoint. */
  subnetId: string
  /** The port denied (inbound), or the first of the ports denied (outbound). */
  port: number
  /** Last port denied. @default port */
  toPort?: number
  /** Outbound instead of inbound. @default false */
  egress?: boolean
  /** Its rule number: below the allow-all's 100 so it decides. @default 90 */
  ruleNumber?: number
  /** @default '0.0.0.0/0' */
  cidrBlock?: string
}

/**
 * Faults for the network around the lab's endpoint, each as it would be in a real account: a
 * security group without the service's port, an ACL entry that denies it in one subnet, a
 * restrictive or full-access endpoint policy, a private hosted zone that shadows a name, a gateway
 * endpoint in the route tables. `reset()` makes the network healthy again.
 */
export class LabNetwork {
  constructor(private readonly inventory: Ec2Inventory) {}

  /** The network, built healthy if no call has built it yet. */
  get state(): LabNetworkState {
    return ensureNetwork(this.inventory)
  }

  private endpoint(endpointId?: string): LabVpcEndpoint {
    this.state
    const endpoint =
      endpointId === undefined
        ? this.inventory.endpoints[0]
        : this.inventory.endpoints.find((e) => e.vpcEndpointId === endpointId)
    if (endpoint === undefined) throw new Error(`lab has no endpoint ${endpointId ?? ''}`)
    return endpoint
  }

  /** The CIDR of the endpoint's VPC, e.g. `10.0.0.0/16`. */
  vpcCidr(endpointId?: string): string {
    const vpcId = this.endpoint(endpointId).vpcId
    return this.state.vpcs.find((v) => v.vpcId === vpcId)!.cidrBlock
  }

  /** "This machine" as the lab's IMDS describes it when it runs in `azName`. */
  instance(azName: string): LabInstance {
    const instance = labInstance(this.inventory, azName)
    if (instance === undefined) throw new Error(`lab has no subnet in ${azName}`)
    return instance
  }

  /**
   * "Custom DNS servers": the endpoint's VPC gets a DHCP options set whose domain-name-servers are
   * `servers` (e.g. `['10.0.0.2']`, data only, never dialled) instead of AmazonProvidedDNS.
   * Returns the set's `dopt-` ID; `reset()` brings back the AmazonProvidedDNS set.
   */
  setDhcpDnsServers(servers: string[], endpointId?: string): string {
    return associateDnsServers(this.inventory, this.endpoint(endpointId).vpcId, servers)
  }

  /** Replaces the inbound rules of the endpoint's (first) security group. */
  setIngress(rules: LabSecurityGroupRule[], endpointId?: string): void {
    const groupId = this.endpoint(endpointId).groupIds?.[0]
    const group = this.state.securityGroups.find((g) => g.groupId === groupId)
    if (group === undefined) throw new Error('the endpoint has no security group')
    group.ingress = rules
  }

  /** Replaces the outbound rules of "this machine's" security group (the IMDS instance's). */
  setClientEgress(rules: LabSecurityGroupRule[]): void {
    const group = this.state.securityGroups.find((g) => g.groupId === this.state.clientGroupId)
    if (group === undefined) throw new Error('the lab has no client security group')
    group.egress = rules
  }

  /** "A missing rule": the endpoint's group admits only these TCP ports, from the VPC. */
  allowOnlyPorts(ports: number[], endpointId?: string): void {
    const cidr = this.vpcCidr(endpointId)
    this.setIngress(
      ports.map((port) => ({
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        cidrs: [cidr],
        groupIds: [],
      })),
      endpointId,
    )
  }

  /**
   * "A deny ACL entry": moves the subnet to an ACL of its own (a copy of its current one) with a
   * deny entry for the port, as someone tightening one subnet would. Returns the ACL's ID.
   */
  denyAclEntry(options: AclDenyOptions): string {
    const acls = this.state.networkAcls
    const current = acls.find((a) => a.subnetIds.includes(options.subnetId))
    if (current === undefined) throw new Error(`no network ACL holds ${options.subnetId}`)
    let acl: LabNetworkAcl = current
    if (current.subnetIds.length > 1) {
      current.subnetIds = current.subnetIds.filter((s) => s !== options.subnetId)
      acl = {
        networkAclId: newId('acl'),
        vpcId: current.vpcId,
        isDefault: false,
        subnetIds: [options.subnetId],
        entries: current.entries.map((e) => ({ ...e })),
      }
      acls.push(acl)
    }
    const ruleNumber = options.ruleNumber ?? 90
    const egress = options.egress ?? false
    acl.entries = acl.entries.filter((e) => !(e.egress === egress && e.ruleNumber === ruleNumber))
    acl.entries.push({
      ruleNumber,
      protocol: '6',
      ruleAction: 'deny',
      egress,
      cidrBlock: options.cidrBlock ?? '0.0.0.0/0',
      portRange: { from: options.port, to: options.toPort ?? options.port },
    })
    return acl.networkAclId
  }

  /** Sets the endpoint policy (JSON text or an object); `FULL_ACCESS_POLICY` is AWS's default. */
  setPolicy(policy: string | object, endpointId?: string): void {
    this.endpoint(endpointId).policyDocument =
      typeof policy === 'string' ? policy : JSON.stringify(policy)
  }

  /**
   * "A shadowing zone": a private hosted zone for `name` associated with the endpoint's VPC, which
   * answers every name under it in the VPC (Route 53 ListHostedZonesByVPC and GetHostedZone list
   * it). With `dns`, the lab's DNS server answers as the VPC resolver then would: each of the
   * endpoint's names under the zone gets the zone's record, else NXDOMAIN; the private DNS name
   * too unless private DNS is on (its own zone is more specific: disable it first to shadow it).
   * Returns the zone's ID.
   */
  addHostedZone(name: string, options: HostedZoneOptions | string = {}): string {
    const {
      endpointId,
      records = {},
      dns,
    } = typeof options === 'string' ? { endpointId: options } : options
    const endpoint = this.endpoint(endpointId)
    const zoneName = bare(name)
    const id = `Z${newId('hz').slice(3, 20).toUpperCase()}`
    const zoneRecords = Object.fromEntries(
      Object.entries(records).map(([record, addresses]) => [bare(record), addresses]),
    )
    this.state.hostedZones.push({
      id,
      name: zoneName,
      ownerAccount: endpoint.ownerId,
      vpcIds: [endpoint.vpcId],
      records: zoneRecords,
    })
    if (dns !== undefined)
      for (const served of this.servedNames(endpoint)) {
        if (served !== zoneName && !served.endsWith(`.${zoneName}`)) continue
        // While private DNS is on, its own (AWS-managed) zone is the private name itself: the
        // resolver picks the most specific zone, so a parent zone does not shadow it.
        if (this.privateDnsAnswers(endpoint, served) && served !== zoneName) continue
        this.override(dns, served, zoneRecords[served] ? { a: zoneRecords[served] } : 'nxdomain')
      }
    return id
  }

  /**
   * "Private DNS disabled": the endpoint's private DNS goes off, as `modify-vpc-endpoint
   * --no-private-dns-enabled` does. With `dns`, the private name answers what it answers outside
   * the VPC: `publicAddresses`, else NXDOMAIN (a private service's name often has no public record).
   */
  disablePrivateDns(options: PrivateDnsFaultOptions = {}): void {
    const endpoint = this.endpoint(options.endpointId)
    const was = endpoint.privateDnsEnabled
    endpoint.privateDnsEnabled = false
    this.onReset(() => {
      endpoint.privateDnsEnabled = was
    })
    if (options.dns !== undefined) this.answerPublicly(endpoint, options)
  }

  /**
   * A VPC DNS attribute turned off, as DescribeVpcAttribute then reports it. With `dns`, the lab's
   * DNS answers as the VPC resolver then would: without enableDnsHostnames the private name
   * answers publicly (`publicAddresses`, else NXDOMAIN); without enableDnsSupport the resolver
   * answers nothing at all.
   */
  disableVpcDns(
    attribute: 'enableDnsSupport' | 'enableDnsHostnames',
    options: PrivateDnsFaultOptions = {},
  ): void {
    const endpoint = this.endpoint(options.endpointId)
    const attributes = this.inventory.vpcAttributes.get(endpoint.vpcId)
    if (attributes === undefined) throw new Error(`lab has no VPC ${endpoint.vpcId}`)
    const was = attributes[attribute]
    attributes[attribute] = false
    this.onReset(() => {
      attributes[attribute] = was
    })
    if (options.dns === undefined) return
    if (attribute === 'enableDnsHostnames') this.answerPublicly(endpoint, options)
    else this.override(options.dns, '*', 'silent')
  }

  /** Whether `name` is the endpoint's private DNS name and private DNS answers it in the VPC. */
  private privateDnsAnswers(endpoint: LabVpcEndpoint, name: string): boolean {
    const attributes = this.inventory.vpcAttributes.get(endpoint.vpcId)
    return (
      endpoint.privateDnsEnabled &&
      attributes?.enableDnsSupport !== false &&
      attributes?.enableDnsHostnames !== false &&
      !/\.vpce\.amazonaws\.com(\.cn)?$/.test(name)
    )
  }

  /** The names the lab's DNS serves for the endpoint: its DNS entries (private name included). */
  private servedNames(endpoint: LabVpcEndpoint): string[] {
    return endpoint.dnsEntries.map((entry) => bare(entry.dnsName))
  }

  private answerPublicly(endpoint: LabVpcEndpoint, options: PrivateDnsFaultOptions): void {
    const privateName = endpoint.dnsEntries.find(
      (entry) => !/\.vpce\.amazonaws\.com(\.cn)?$/.test(entry.dnsName),
    )?.dnsName
    if (privateName === undefined) throw new Error('the endpoint has no private DNS name')
    const answer = options.publicAddresses?.length ? { a: options.publicAddresses } : 'nxdomain'
    this.override(options.dns!, bare(privateName), answer)
  }

  private override(dns: LabDnsFaults, name: string, behaviour: DnsBehaviour): void {
    dns.override(name, behaviour)
    this.onReset(() => dns.restore(name))
  }

  /** Undo steps live in the inventory: every `labNetwork(...)` handle sees the same faults. */
  private onReset(undo: () => void): void {
    this.state.undo ??= []
    this.state.undo.push(undo)
  }

  /**
   * A gateway endpoint for S3 or DynamoDB in the endpoint's VPC, routed from the main route table
   * through the service's prefix list. Returns its ID.
   */
  addGatewayEndpoint(service: 's3' | 'dynamodb', endpointId?: string): string {
    const base = this.endpoint(endpointId)
    const table = this.state.routeTables.find((t) => t.vpcId === base.vpcId && t.main)!
    const id = newId('vpce')
    const prefixList = `pl-${service === 's3' ? '68a54001' : '00a54069'}`
    table.routes.push({ destinationPrefixListId: prefixList, gatewayId: id })
    this.inventory.endpoints.push({
      vpcEndpointId: id,
      vpcEndpointType: 'Gateway',
      vpcId: base.vpcId,
      serviceName: `com.amazonaws.${this.inventory.region}.${service}`,
      state: 'available',
      subnetIds: [],
      networkInterfaceIds: [],
      dnsEntries: [],
      privateDnsEnabled: false,
      ownerId: base.ownerId,
      creationTimestamp: base.creationTimestamp,
      tags: [],
      routeTableIds: [table.routeTableId],
      policyDocument: FULL_ACCESS_POLICY,
    })
    return id
  }

  /**
   * "A subnet on its own route table": the subnet (e.g. this machine's, `instance(az).subnetId`)
   * leaves the main table for a new one holding only the local route, as a team that gives a
   * subnet its own routes does; a gateway endpoint routed from the main table then no longer
   * takes its traffic. Returns the table's ID.
   */
  addSubnetRouteTable(subnetId: string): string {
    const subnet = this.inventory.subnets.find((s) => s.subnetId === subnetId)
    if (subnet === undefined) throw new Error(`lab has no subnet ${subnetId}`)
    const tables = this.state.routeTables
    for (const table of tables) table.subnetIds = table.subnetIds.filter((s) => s !== subnetId)
    const routeTableId = newId('rtb')
    const local = tables.find((t) => t.vpcId === subnet.vpcId && t.main)?.routes[0]
    tables.push({
      routeTableId,
      vpcId: subnet.vpcId,
      main: false,
      subnetIds: [subnetId],
      routes: local === undefined ? [] : [{ ...local }],
    })
    return routeTableId
  }

  /**
   * Back to healthy: the network is rebuilt on next use, interface endpoints get the lab's policy
   * and group again, gateway endpoints go.
   */
  reset(): void {
    for (const undo of (this.inventory.network?.undo ?? []).reverse()) undo()
    const endpoints = this.inventory.endpoints
    for (let index = endpoints.length - 1; index >= 0; index--)
      if (endpoints[index]!.vpcEndpointType === 'Gateway') endpoints.splice(index, 1)
    for (const endpoint of this.inventory.endpoints) {
      delete endpoint.groupIds
      delete endpoint.policyDocument
    }
    delete this.inventory.network
  }
}

/** The fault handle on an inventory's network: `labNetwork(lab.aws.inventory).allowOnlyPorts([443])`. */
export function labNetwork(inventory: Ec2Inventory): LabNetwork {
  return new LabNetwork(inventory)
}

/**
 * "This machine" in `azName`: an instance in the endpoint VPC's subnet of that zone (address .10
 * of it), in the lab's client security group. Undefined when the lab has no subnet there.
 */
export function labInstance(inventory: Ec2Inventory, azName: string): LabInstance | undefined {
  const network = ensureNetwork(inventory)
  const vpcId = inventory.endpoints[0]?.vpcId
  const subnet = inventory.subnets.find((s) => s.vpcId === vpcId && s.availabilityZone === azName)
  if (subnet === undefined || network.clientGroupId === undefined) return undefined
  const base = subnet.cidrBlock.split('/')[0]!.split('.')
  const index = inventory.subnets.indexOf(subnet)
  return {
    instanceId: `i-0${vpcId!.slice(4, 20)}`,
    mac: `0e:1a:b0:00:00:${(index + 1).toString(16).padStart(2, '0')}`,
    privateIp: `${base[0]}.${base[1]}.${base[2]}.10`,
    subnetId: subnet.subnetId,
    vpcId: subnet.vpcId,
    groupIds: [network.clientGroupId],
  }
}

// The lab's IMDS and its EC2 API are started separately and share only the account's credential
// store: this map lets the metadata server describe the instance from the same inventory.
const inventories = new WeakMap<CredentialsStore, Ec2Inventory>()

/** Ties an inventory to the account's store (the AWS server does, at start). */
export function registerInventory(store: CredentialsStore, inventory: Ec2Inventory): void {
  inventories.set(store, inventory)
}

/** The inventory of the account whose store this is, if its AWS server started. */
export function inventoryOf(store: CredentialsStore): Ec2Inventory | undefined {
  return inventories.get(store)
}
