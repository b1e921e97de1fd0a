import { PrivateLinkError, sanitizedCause } from '@privatelink/core'

/**
 * Settings for the EC2 client that reads managed prefix lists (`@aws-sdk/client-ec2`'s
 * EC2ClientConfig: `region`, `credentials`, `endpoint`, `requestHandler`, ...). Its calls need
 * `ec2:DescribeManagedPrefixLists` and `ec2:GetManagedPrefixListEntries`.
 */
export type PrefixListEc2Config = Record<string, unknown>

/** The address ranges of an AWS service's managed prefix list: what its gateway endpoint routes. */
export interface PrefixListSource {
  /**
   * `com.amazonaws.<region>.<service>`'s list ID and CIDRs: fetched on the first call for that
   * list, then kept (concurrent calls share one fetch; a failure is not kept).
   */
  ranges(service: string, region: string): Promise<{ prefixListId: string; cidrs: string[] }>
}

type Ec2Module = typeof import('@aws-sdk/client-ec2')

// Loaded on the first gateway call only, never at import (a Lambda cold start pays nothing for
// it); not a literal, so bundlers leave the client out, as core's discovery does.
const EC2_CLIENT = '@aws-sdk/client-ec2'

function unavailable(listName: string, message: string, cause?: unknown): PrivateLinkError {
  return new PrivateLinkError('ERR_PREFIX_LIST_UNAVAILABLE', message, {
    hint: `A gateway endpoint's addresses are the managed prefix list ${listName}: the handler reads it with EC2 DescribeManagedPrefixLists and GetManagedPrefixListEntries. Check that @aws-sdk/client-ec2 is installed, that the credentials allow ec2:DescribeManagedPrefixLists and ec2:GetManagedPrefixListEntries, and that the EC2 API is reachable from here (an interface endpoint for com.amazonaws.<region>.ec2, or gateway.ec2.endpoint).`,
    details: { prefixListName: listName },
    ...(cause === undefined ? {} : { cause: sanitizedCause(cause) }),
  })
}

async function fetchRanges(
  sdk: Ec2Module,
  config: PrefixListEc2Config,
  listName: string,
  region: string,
): Promise<{ prefixListId: string; cidrs: string[] }> {
  const client = new sdk.EC2Client({ region, ...config })
  // destroy() would also destroy a request handler it was given (this handler, or the caller's).
  const owned = config['requestHandler'] === undefined
  try {
    const { PrefixLists = [] } = await client.send(
      new sdk.DescribeManagedPrefixListsCommand({
        Filters: [{ Name: 'prefix-list-name', Values: [listName] }],
      }),
    )
    const prefixListId = PrefixLists[0]?.PrefixListId
    if (prefixListId === undefined)
      throw unavailable(listName, `EC2 has no managed prefix list ${listName}`)
    const cidrs: string[] = []
    let NextToken: string | undefined
    do {
      const page = await client.send(
        new sdk.GetManagedPrefixListEntriesCommand({ PrefixListId: prefixListId, NextToken }),
      )
      for (const entry of page.Entries ?? []) if (entry.Cidr !== undefined) cidrs.push(entry.Cidr)
      NextToken = page.NextToken
    } while (NextToken !== undefined)
    if (cidrs.length === 0)
      throw unavailable(listName, `The managed prefix list ${prefixListId} has no entries`)
    return { prefixListId, cidrs }
  } finally {
    if (owned) client.destroy()
  }
}

/**
 * The managed prefix lists a handler's gateway routes allow, read through `@aws-sdk/client-ec2`
 * (imported on first use) with `ec2` as the client's settings, each list once.
 */
export function createPrefixListSource(ec2: PrefixListEc2Config = {}): PrefixListSource {
  const lists = new Map<string, Promise<{ prefixListId: string; cidrs: string[] }>>()
  return {
    ranges(service, region) {
      const listName = `com.amazonaws.${region}.${service}`
      let pending = lists.get(listName)
      if (pending === undefined) {
        pending = (async () => {
          let sdk: Ec2Module
          try {
            sdk = (await import(/* @vite-ignore */ EC2_CLIENT)) as Ec2Module
          } catch (cause) {
            throw unavailable(
              listName,
              `Reading ${listName} needs @aws-sdk/client-ec2, which is not installed`,
              cause,
            )
          }
          try {
            return await fetchRanges(sdk, ec2, listName, region)
          } catch (error) {
            if (PrivateLinkError.isInstance(error)) throw error
            throw unavailable(listName, `Reading the managed prefix list ${listName} failed`, error)
          }
        })()
        lists.set(listName, pending)
        // A failure is not kept: the next call asks again.
        pending.catch(() => lists.delete(listName))
      }
      return pending
    },
  }
}
