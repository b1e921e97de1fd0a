import { connect } from 'node:tls'
import {
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb'
import { type AwsRequestHandler, awsServiceEndpoint } from '@privatelink/aws-sdk'
import { PrivateLinkError } from '@privatelink/core'
import { type DynamoDbFront, dynamoDbFront } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { REGION } from './aws-lab.js'
import { type ServiceLab, startServiceLab } from './service-lab.js'

let lab: ServiceLab
let front: DynamoDbFront
const handlers: AwsRequestHandler[] = []
const track = (handler: AwsRequestHandler) => {
  handlers.push(handler)
  return handler
}

beforeAll(async () => {
  front = dynamoDbFront({ tables: { orders: { hashKey: 'pk', rangeKey: 'sk' } } })
  lab = await startServiceLab('dynamodb', front)
})
afterEach(async () => {
  for (const handler of handlers.splice(0)) await handler.close().catch(() => {})
})
afterAll(async () => {
  await lab?.close()
})

const vpceName = () => lab.endpoint.dnsName

/** PutItem, GetItem, Query and ListTables through `client`; the front's log of those calls. */
async function roundTrip(client: DynamoDBClient, pk: string) {
  const before = front.requests.length
  await client.send(
    new PutItemCommand({
      TableName: 'orders',
      Item: { pk: { S: pk }, sk: { S: 'line#1' }, total: { N: '42' } },
    }),
  )
  const got = await client.send(
    new GetItemCommand({ TableName: 'orders', Key: { pk: { S: pk }, sk: { S: 'line#1' } } }),
  )
  const queried = await client.send(
    new QueryCommand({
      TableName: 'orders',
      KeyConditionExpression: '#pk = :pk AND begins_with(sk, :line)',
      ExpressionAttributeNames: { '#pk': 'pk' },
      ExpressionAttributeValues: { ':pk': { S: pk }, ':line': { S: 'line#' } },
    }),
  )
  const tables = await client.send(new ListTablesCommand({}))
  expect(got.Item?.['total']).toEqual({ N: '42' })
  expect(queried.Items?.map((item) => item['sk'])).toEqual([{ S: 'line#1' }])
  expect(tables.TableNames).toEqual(['orders'])
  return front.requests.slice(before)
}

describe('DynamoDB through its interface endpoint, with the names the current SDK computes', () => {
  it("account-based endpoint ('preferred', the default) with cross-account credentials", async () => {
    const handler = track(lab.handler())
    const client = new DynamoDBClient({
      region: REGION,
      requestHandler: handler,
      credentials: lab.assumedRole(handler),
    })
    const calls = await roundTrip(client, 'cross-account')
    expect(calls.map((c) => c.operation)).toEqual(['PutItem', 'GetItem', 'Query', 'ListTables'])
    for (const call of calls) {
      // The role's account (AssumeRole's answer), as the SDK put it in the name.
      expect(call.host).toBe('222222222222.ddb.us-west-2.amazonaws.com')
      // TLS for the endpoint's own name, which its certificate carries; SigV4 verified.
      expect(call.servername).toBe(vpceName())
      expect(call.status).toBe(200)
      expect(call.principal).toMatch(/^arn:aws:sts::222222222222:assumed-role\//)
    }
  })

  it('fromTemporaryCredentials (no account ID in 3.1175): the regional name, through the endpoint', async () => {
    const handler = track(lab.handler())
    const client = new DynamoDBClient({
      region: REGION,
      requestHandler: handler,
      credentials: lab.crossAccount(handler),
    })
    const calls = await roundTrip(client, 'temporary')
    expect(new Set(calls.map((c) => c.host))).toEqual(new Set(['dynamodb.us-west-2.amazonaws.com']))
    expect(calls[0]!.principal).toMatch(/^arn:aws:sts::222222222222:assumed-role\//)
  })

  it.each([
    ['required', '111111111111.ddb.us-west-2.amazonaws.com'],
    ['preferred', '111111111111.ddb.us-west-2.amazonaws.com'],
    ['disabled', 'dynamodb.us-west-2.amazonaws.com'],
  ] as const)("accountIdEndpointMode '%s' calls %s, served", async (mode, host) => {
    const handler = track(lab.handler())
    const client = new DynamoDBClient({
      region: REGION,
      requestHandler: handler,
      accountIdEndpointMode: mode,
      credentials: { ...lab.lab.aws.credentials, accountId: lab.lab.aws.accountId },
    })
    const calls = await roundTrip(client, `mode-${mode}`)
    expect(new Set(calls.map((c) => c.host))).toEqual(new Set([host]))
    expect(new Set(calls.map((c) => c.servername))).toEqual(new Set([vpceName()]))
  })

  it('credentials without an account ID call the regional name; the vpce name as endpoint works too', async () => {
    const handler = track(lab.handler())
    const plain = new DynamoDBClient({
      region: REGION,
      requestHandler: handler,
      credentials: lab.lab.aws.credentials,
    })
    const calls = await roundTrip(plain, 'no-account')
    expect(new Set(calls.map((c) => c.host))).toEqual(new Set(['dynamodb.us-west-2.amazonaws.com']))
    const endpoint = awsServiceEndpoint({ service: 'dynamodb', endpoint: lab.endpoint })
    expect(endpoint).toBe(`https://${vpceName()}`)
    const viaVpce = new DynamoDBClient({
      region: REGION,
      endpoint,
      requestHandler: handler,
      credentials: { ...lab.lab.aws.credentials, accountId: lab.lab.aws.accountId },
    })
    const vpceCalls = await roundTrip(viaVpce, 'vpce-name')
    expect(new Set(vpceCalls.map((c) => c.host))).toEqual(new Set([vpceName()]))
  })

  it("the front presents what AWS's endpoint presents: the service's names fail the TLS check", async () => {
    expect(front.certificateNames).not.toContain('dynamodb.us-west-2.amazonaws.com')
    const zone = lab.endpoint.zones[0]!
    const port = zone.portMap?.[443] ?? 443
    const handshake = (servername: string) =>
      new Promise<string>((resolve) => {
        const socket = connect({
          host: zone.addresses[0]!,
          port,
          servername,
          ca: lab.lab.ca.certificatePem,
        })
        socket.once('secureConnect', () => {
          socket.destroy()
          resolve('ok')
        })
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
      })
    expect(await handshake(vpceName())).toBe('ok')
    expect(await handshake('dynamodb.us-west-2.amazonaws.com')).toBe('ERR_TLS_CERT_ALTNAME_INVALID')
    expect(await handshake('111111111111.ddb.us-west-2.amazonaws.com')).toBe(
      'ERR_TLS_CERT_ALTNAME_INVALID',
    )
  })

  it('the front verifies: an unknown key, and an account-based name of another account, are refused', async () => {
    const handler = track(lab.handler())
    const unknown = await new DynamoDBClient({
      region: REGION,
      requestHandler: handler,
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'not-the-lab-key' },
    })
      .send(new ListTablesCommand({}))
      .catch((e: unknown) => e)
    expect((unknown as Error).name).toBe('UnrecognizedClientException')
    const other = await new DynamoDBClient({
      region: REGION,
      requestHandler: handler,
      maxAttempts: 1,
      accountIdEndpointMode: 'required',
      credentials: { ...lab.lab.aws.credentials, accountId: '333333333333' },
    })
      .send(new ListTablesCommand({}))
      .catch((e: unknown) => e)
    expect((other as Error).name).toBe('AccessDeniedException')
    expect(front.requests.at(-1)).toMatchObject({
      host: '333333333333.ddb.us-west-2.amazonaws.com',
      status: 400,
    })
  })

  it('without a dynamodb endpoint the account name fails closed, naming the endpoint and the setting', async () => {
    const handler = track(lab.handler({ endpoints: { sts: lab.stsEndpoint } }))
    const requests = front.requests.length
    const error = await new DynamoDBClient({
      region: REGION,
      requestHandler: handler,
      credentials: { ...lab.lab.aws.credentials, accountId: lab.lab.aws.accountId },
    })
      .send(new ListTablesCommand({}))
      .catch((e: unknown) => e)
    expect(PrivateLinkError.isInstance(error)).toBe(true)
    const typed = error as PrivateLinkError
    expect(typed.code).toBe('ERR_ORIGIN_NOT_PINNED')
    expect(typed.message).toContain('111111111111.ddb.us-west-2.amazonaws.com')
    expect(typed.hint).toContain('com.amazonaws.us-west-2.dynamodb')
    expect(typed.hint).toContain('accountIdEndpointMode')
    expect(front.requests.length).toBe(requests)
  })
})
