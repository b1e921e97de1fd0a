import { Ec2Error, matches } from './ec2-error.js'
import type { Ec2Inventory, LabPrefixList } from './ec2-inventory.js'
import { filterParams, listParam, page, type QueryParams, type XmlNode } from './query-protocol.js'

const FILTERS = new Set(['prefix-list-id', 'prefix-list-name', 'owner-id'])

/** The IDs the lab gives S3's and DynamoDB's lists (us-west-2's real ones; `labNetwork` routes to them). */
export const PREFIX_LIST_IDS = { s3: 'pl-68a54001', dynamodb: 'pl-00a54069' } as const

/** The AWS-managed prefix lists of the lab's region: S3's and DynamoDB's, with public ranges. */
export function managedPrefixLists(region: string): LabPrefixList[] {
  // Ranges shaped like the real lists (public AWS space); they appear only in answers, never dialled.
  return [
    {
      prefixListId: PREFIX_LIST_IDS.s3,
      prefixListName: `com.amazonaws.${region}.s3`,
      addressFamily: 'IPv4',
      cidrs: ['3.5.76.0/22', '18.34.48.0/20', '52.92.128.0/17', '52.218.128.0/17'],
      version: 1,
    },
    {
      prefixListId: PREFIX_LIST_IDS.dynamodb,
      prefixListName: `com.amazonaws.${region}.dynamodb`,
      addressFamily: 'IPv4',
      cidrs: ['3.218.182.0/24', '35.71.72.0/22', '52.94.0.0/22'],
      version: 1,
    },
  ]
}

function find(inventory: Ec2Inventory, id: string): LabPrefixList {
  const list = (inventory.prefixLists ?? []).find((p) => p.prefixListId === id)
  if (list === undefined)
    throw new Ec2Error('InvalidPrefixListID.NotFound', `The prefix list ID '${id}' does not exist`)
  return list
}

function describeManagedPrefixLists(inventory: Ec2Inventory, params: QueryParams): XmlNode {
  const ids = listParam(params, 'PrefixListId')
  for (const id of ids) find(inventory, id)
  const filters = filterParams(params)
  for (const name of filters.keys())
    if (!FILTERS.has(name))
      throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`)
  const selected = (inventory.prefixLists ?? []).filter(
    (p) =>
      (ids.length === 0 || ids.includes(p.prefixListId)) &&
      matches(filters, 'prefix-list-id', p.prefixListId) &&
      matches(filters, 'prefix-list-name', p.prefixListName) &&
      matches(filters, 'owner-id', 'AWS'),
  )
  const { items, nextToken } = page(selected, params)
  return {
    prefixListSet: items.map((p) => ({
      prefixListId: p.prefixListId,
      addressFamily: p.addressFamily,
      state: 'create-complete',
      prefixListArn: `arn:aws:ec2:${inventory.region}:aws:prefix-list/${p.prefixListId}`,
      prefixListName: p.prefixListName,
      version: p.version,
      ownerId: 'AWS',
    })),
    nextToken,
  }
}

function getManagedPrefixListEntries(inventory: Ec2Inventory, params: QueryParams): XmlNode {
  const id = params.get('PrefixListId')
  if (id === undefined)
    throw new Ec2Error('MissingParameter', "The request must contain the parameter 'PrefixListId'")
  const list = find(inventory, id)
  const { items, nextToken } = page(list.cidrs, params)
  return { entrySet: items.map((cidr) => ({ cidr })), nextToken }
}

/** The EC2 actions of managed prefix lists (what a gateway endpoint's routes point at). */
export const prefixListHandlers: Record<
  string,
  (inventory: Ec2Inventory, params: QueryParams) => XmlNode
> = {
  DescribeManagedPrefixLists: describeManagedPrefixLists,
  GetManagedPrefixListEntries: getManagedPrefixListEntries,
}
