/** An EC2 API error answer: its code (e.g. `InvalidVpcID.NotFound`), message and HTTP status. */
export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message)
  }
}

/** A Describe filter: absent, or one of its values equals the resource's. */
export function matches(
  filters: Map<string, string[]>,
  name: string,
  value: string | undefined,
): boolean {
  const wanted = filters.get(name)
  return wanted === undefined || (value !== undefined && wanted.includes(value))
}

/** Like `matches`, for a resource that has several values (e.g. the subnets an ACL holds). */
export function matchesAny(
  filters: Map<string, string[]>,
  name: string,
  values: readonly string[],
): boolean {
  const wanted = filters.get(name)
  return wanted === undefined || values.some((value) => wanted.includes(value))
}

/** Refuses a filter the lab does not implement, as EC2 does, rather than ignoring it. */
export function checkFilters(filters: Map<string, string[]>, known: readonly string[]): void {
  for (const name of filters.keys())
    if (!known.includes(name))
      throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`)
}
