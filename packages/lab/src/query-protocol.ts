/** Parsing and writing for the AWS Query and EC2 Query protocols (form bodies in, XML out). */

export type QueryParams = Map<string, string>

export function parseForm(body: string): QueryParams {
  return new Map(new URLSearchParams(body))
}

/**
 * A request target's query as SigV4 reads it: `&`-separated, split at the first `=`, each side
 * percent-decoded once, repeats and order kept. Unlike URLSearchParams (form decoding), `+` stays
 * a `+`: a client that sent a literal `+` signed `%2B`, not a space. Undefined when a `%` escape
 * is broken (such a request cannot be verified).
 */
export function parseRawQuery(target: string): [string, string][] | undefined {
  const start = target.indexOf('?')
  if (start < 0) return []
  const pairs: [string, string][] = []
  for (const part of target.slice(start + 1).split('&')) {
    if (part === '') continue
    const equals = part.indexOf('=')
    const name = equals < 0 ? part : part.slice(0, equals)
    const value = equals < 0 ? '' : part.slice(equals + 1)
    try {
      pairs.push([decodeURIComponent(name), decodeURIComponent(value)])
    } catch {
      return undefined
    }
  }
  return pairs
}

/** Pairs -> the verifier's query shape: a name sent more than once keeps every value. */
export function groupQuery(pairs: readonly [string, string][]): Record<string, string | string[]> {
  const grouped: Record<string, string | string[]> = Object.create(null)
  for (const [name, value] of pairs) {
    const seen = grouped[name]
    grouped[name] =
      seen === undefined ? value : [...(typeof seen === 'string' ? [seen] : seen), value]
  }
  return grouped
}

/** `Prefix.1`, `Prefix.2`, ... -> values in order. */
export function listParam(params: QueryParams, prefix: string): string[] {
  const values: string[] = []
  for (let index = 1; params.has(`${prefix}.${index}`); index++)
    values.push(params.get(`${prefix}.${index}`)!)
  return values
}

/** `Filter.N.Name` / `Filter.N.Value.M` -> name -> values. */
export function filterParams(params: QueryParams): Map<string, string[]> {
  const filters = new Map<string, string[]>()
  for (let index = 1; params.has(`Filter.${index}.Name`); index++) {
    filters.set(params.get(`Filter.${index}.Name`)!, listParam(params, `Filter.${index}.Value`))
  }
  return filters
}

export function escapeXml(value: string): string {
  return value.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  )
}

export type XmlValue = string | number | boolean | undefined | XmlNode | XmlValue[]
export interface XmlNode {
  [element: string]: XmlValue
}

/** Objects become elements; arrays become `<item>` lists (EC2 style) unless `itemName` says otherwise. */
export function toXml(node: XmlNode, itemName = 'item'): string {
  let out = ''
  for (const [name, value] of Object.entries(node)) {
    if (value === undefined) continue
    out += `<${name}>${valueXml(value, itemName)}</${name}>`
  }
  return out
}

function valueXml(value: XmlValue, itemName: string): string {
  if (Array.isArray(value))
    return value.map((item) => `<${itemName}>${valueXml(item, itemName)}</${itemName}>`).join('')
  if (typeof value === 'object' && value !== null) return toXml(value, itemName)
  return escapeXml(String(value))
}

/** Paging with opaque tokens over a sorted list. */
export function page<T>(
  items: T[],
  params: QueryParams,
  defaultSize = 1000,
): { items: T[]; nextToken?: string } {
  const size = Number(params.get('MaxResults') ?? defaultSize)
  const token = params.get('NextToken')
  const start = token === undefined ? 0 : Number(Buffer.from(token, 'base64url').toString())
  const slice = items.slice(start, start + size)
  const next =
    start + size < items.length
      ? Buffer.from(String(start + size)).toString('base64url')
      : undefined
  return next === undefined ? { items: slice } : { items: slice, nextToken: next }
}
