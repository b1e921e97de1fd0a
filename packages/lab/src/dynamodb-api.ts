import { type JsonResponse, jsonError } from './secrets-manager-api.js'

/** A DynamoDB attribute value as the JSON protocol carries it: `{ S: 'x' }`, `{ N: '1' }`, ... */
export type AttributeValue = Record<string, unknown>
/** An item: attribute name -> value. */
export type Item = Record<string, AttributeValue>

/** A table's key schema. */
export interface LabTableKeys {
  /** The partition key's attribute name. */
  hashKey: string
  /** The sort key's attribute name, if the table has one. */
  rangeKey?: string
}

const PREFIX = 'com.amazonaws.dynamodb.v20120810#'
const fault = (type: string, message: string) => jsonError(`${PREFIX}${type}`, message)
const ok = (body: object): JsonResponse => ({ status: 200, body: JSON.stringify(body) })

// One scalar key value as a comparable string: `S:abc`, `N:12`.
const keyPart = (value: AttributeValue | undefined): string | undefined => {
  if (value === undefined || typeof value !== 'object') return undefined
  const [type, raw] = Object.entries(value)[0] ?? []
  return type === 'S' || type === 'N' || type === 'B' ? `${type}:${String(raw)}` : undefined
}

/** The lab's tables: items kept in memory, keyed by their partition (and sort) key. */
export class DynamoDbTables {
  readonly #tables = new Map<string, { keys: LabTableKeys; items: Map<string, Item> }>()

  define(name: string, keys: LabTableKeys): void {
    if (!this.#tables.has(name)) this.#tables.set(name, { keys, items: new Map() })
  }

  names(): string[] {
    return [...this.#tables.keys()].sort()
  }

  /** Answers one JSON 1.0 operation. */
  handle(operation: string, input: Record<string, unknown>): JsonResponse {
    if (operation === 'ListTables') return ok({ TableNames: this.names() })
    if (!['GetItem', 'PutItem', 'Query'].includes(operation))
      return fault('UnknownOperationException', `The lab serves no ${operation}.`)
    const tableName = input['TableName']
    const table = typeof tableName === 'string' ? this.#tables.get(tableName) : undefined
    if (table === undefined)
      return fault('ResourceNotFoundException', 'Requested resource not found')
    if (operation === 'Query') return this.#query(table, input)
    const source = (operation === 'PutItem' ? input['Item'] : input['Key']) as Item | undefined
    const id = this.#id(table.keys, source)
    if (id === undefined)
      return fault('ValidationException', 'The provided key element does not match the schema')
    if (operation === 'PutItem') {
      table.items.set(id, source!)
      return ok({})
    }
    const item = table.items.get(id)
    return ok(item === undefined ? {} : { Item: item })
  }

  #id(keys: LabTableKeys, item: Item | undefined): string | undefined {
    if (item === null || typeof item !== 'object') return undefined
    const hash = keyPart(item[keys.hashKey])
    const range = keys.rangeKey === undefined ? '' : keyPart(item[keys.rangeKey])
    return hash === undefined || range === undefined ? undefined : `${hash}\u0000${range}`
  }

  // KeyConditionExpression: `pk = :v`, optionally `AND sk = :w` or `AND begins_with(sk, :w)`,
  // names possibly through ExpressionAttributeNames (`#pk`).
  #query(
    table: { keys: LabTableKeys; items: Map<string, Item> },
    input: Record<string, unknown>,
  ): JsonResponse {
    const expression = String(input['KeyConditionExpression'] ?? '')
    const names = (input['ExpressionAttributeNames'] ?? {}) as Record<string, string>
    const values = (input['ExpressionAttributeValues'] ?? {}) as Item
    const name = (token: string) => names[token] ?? token
    const conditions: ((item: Item) => boolean)[] = []
    for (const part of expression.split(/\s+AND\s+/i)) {
      const equal = /^\s*([#\w]+)\s*=\s*(:\w+)\s*$/.exec(part)
      const prefix = /^\s*begins_with\s*\(\s*([#\w]+)\s*,\s*(:\w+)\s*\)\s*$/i.exec(part)
      const match = equal ?? prefix
      const wanted = match === null ? undefined : keyPart(values[match[2]!])
      if (match === null || wanted === undefined)
        return fault('ValidationException', `Invalid KeyConditionExpression: ${expression}`)
      const attribute = name(match[1]!)
      conditions.push((item) => {
        const have = keyPart(item[attribute])
        return have !== undefined && (equal !== null ? have === wanted : have.startsWith(wanted))
      })
    }
    const items = [...table.items.values()].filter((item) => conditions.every((c) => c(item)))
    return ok({ Items: items, Count: items.length, ScannedCount: items.length })
  }
}
