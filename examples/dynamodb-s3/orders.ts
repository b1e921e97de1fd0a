import { GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb'
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import type { DataClients } from './clients.js'

export interface Order {
  customer: string
  id: string
  total: number
}

/** Writes the order's row (table `orders`, keys customer/id) and archives its JSON in the bucket. */
export async function saveOrder(
  clients: DataClients,
  bucket: string,
  order: Order,
): Promise<string> {
  const key = `orders/${order.customer}/${order.id}.json`
  await clients.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: JSON.stringify(order),
      ContentType: 'application/json',
    }),
  )
  await clients.dynamodb.send(
    new PutItemCommand({
      TableName: 'orders',
      Item: {
        customer: { S: order.customer },
        id: { S: order.id },
        total: { N: String(order.total) },
        archive: { S: `s3://${bucket}/${key}` },
      },
    }),
  )
  return key
}

/** The order's row and its archived JSON. */
export async function loadOrder(
  clients: DataClients,
  bucket: string,
  customer: string,
  id: string,
): Promise<{ total: number; archived: Order } | undefined> {
  const { Item } = await clients.dynamodb.send(
    new GetItemCommand({ TableName: 'orders', Key: { customer: { S: customer }, id: { S: id } } }),
  )
  if (Item === undefined) return undefined
  const object = await clients.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: `orders/${customer}/${id}.json` }),
  )
  const archived = JSON.parse((await object.Body?.transformToString()) ?? '{}') as Order
  return { total: Number(Item['total']?.N), archived }
}

/** A customer's order IDs (Query on the partition key). */
export async function orderIds(clients: DataClients, customer: string): Promise<string[]> {
  const { Items = [] } = await clients.dynamodb.send(
    new QueryCommand({
      TableName: 'orders',
      KeyConditionExpression: 'customer = :customer',
      ExpressionAttributeValues: { ':customer': { S: customer } },
    }),
  )
  return Items.map((item) => item['id']?.S ?? '')
}
