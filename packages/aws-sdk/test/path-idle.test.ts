import { DynamoDBClient, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb'
import type { AwsRequestHandler } from '@privatelink/aws-sdk'
import { type DynamoDbFront, dynamoDbFront } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { REGION } from './aws-lab.js'
import { type ServiceLab, startServiceLab } from './service-lab.js'

// The SDK handler's dispatchers keep idle sockets under the path's idle timeout (350 s through an
// interface endpoint; 3 s of real time in this lab).
let lab: ServiceLab
let front: DynamoDbFront
const handlers: AwsRequestHandler[] = []

beforeAll(async () => {
  front = dynamoDbFront({ tables: { orders: { hashKey: 'pk', rangeKey: 'sk' } } })
  lab = await startServiceLab('dynamodb', front)
  for (const zone of lab.lab.endpoint.zones)
    lab.lab.zone(zone.azName).setIdleTimeout({ idleTimeoutMs: 3_000 })
})
afterEach(async () => {
  for (const handler of handlers.splice(0)) await handler.close().catch(() => {})
})
afterAll(async () => {
  await lab?.close()
})

describe("the AWS SDK handler and the path's idle timeout", () => {
  it('refuses a keepAliveTimeoutMs near or above the path timeout, with a hint', () => {
    expect(() => lab.handler({ keepAliveTimeoutMs: 340_000 })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        details: expect.objectContaining({ option: 'keepAliveTimeoutMs', received: '340000' }),
        hint: expect.stringMatching(/forgets a connection idle for 350 s/),
      }),
    )
  })

  it('idle past the path timeout with default options: no failed call, no reset, no hang (real seconds)', async () => {
    // The connector is told the lab's 3 s, as a user with a shorter NLB listener timeout would.
    const handler = lab.handler({ connectorOptions: { pathIdleTimeoutMs: 3_000 } })
    handlers.push(handler)
    const client = new DynamoDBClient({
      region: REGION,
      requestHandler: handler,
      credentials: lab.lab.aws.credentials,
      maxAttempts: 1,
    })
    const zone = () => lab.lab.zone('us-west-2a').stats()['dynamodb']!
    await client.send(new ListTablesCommand({}))
    // Idle until the handler's dispatcher closed its socket, under the path's 3 s (bounded wait).
    const deadline = performance.now() + 15_000
    while (zone().active > 0 && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200))
    expect(zone().active).toBe(0)
    await client.send(
      new PutItemCommand({ TableName: 'orders', Item: { pk: { S: 'idle' }, sk: { S: '1' } } }),
    )
    // One attempt (maxAttempts 1): it went out on a new connection, not the idle one.
    expect(front.requests.at(-1)).toMatchObject({ operation: 'PutItem', status: 200 })
  })
})
