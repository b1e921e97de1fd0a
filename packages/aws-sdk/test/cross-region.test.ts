import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { type AwsRequestHandler, createAwsRequestHandler } from '@privatelink/aws-sdk'
import type { Endpoint, PrivateLinkError } from '@privatelink/core'
import { type Lab, type SecretsManagerFront, secretsManagerFront, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { OWN_ZONE } from './aws-lab.js'

// Issue 24 item 4: a consumer in us-west-2 with an interface endpoint for Secrets Manager in
// us-east-1 (cross-region PrivateLink). The lab's front lives in the service's region: it serves
// TLS for secretsmanager.us-east-1.amazonaws.com and verifies signatures scoped to us-east-1.

const CONSUMER = 'us-west-2'
const SERVICE = 'us-east-1'
const SECRET = { username: 'app_user', password: 'cross-region-9b2c' }

let lab: Lab
let front: SecretsManagerFront
/** As discovery returns it for an AWS service's cross-region endpoint. */
let endpoint: Endpoint
const handlers: AwsRequestHandler[] = []

beforeAll(async () => {
  front = secretsManagerFront({ secrets: { 'prod/db': SECRET } })
  lab = await startLab({
    region: CONSUMER,
    serviceRegion: SERVICE,
    fronts: [front],
    services: [{ name: 'secretsmanager', port: 443, target: { front: front.name } }],
  })
  endpoint = { ...lab.endpoint, serviceName: `com.amazonaws.${SERVICE}.secretsmanager` }
  expect(endpoint.serviceRegion).toBe(SERVICE)
})
afterEach(async () => {
  for (const handler of handlers.splice(0)) await handler.close().catch(() => {})
})
afterAll(() => lab?.close())

const handlerFor = (options: Partial<Parameters<typeof createAwsRequestHandler>[0]>) => {
  const handler = createAwsRequestHandler({
    ca: lab.ca.certificatePem,
    locality: OWN_ZONE,
    ...options,
  })
  handlers.push(handler)
  return handler
}
const get = (requestHandler: AwsRequestHandler, region: string) =>
  new SecretsManagerClient({ region, credentials: lab.aws.credentials, requestHandler }).send(
    new GetSecretValueCommand({ SecretId: 'prod/db' }),
  )

describe('a cross-region endpoint through createAwsRequestHandler', () => {
  it.each([
    ['endpoint', () => ({ endpoint })],
    ['endpoints', () => ({ endpoints: { secretsmanager: endpoint } })],
  ])(
    "with %s and region: the consumer's, it serves and signs for the service's region",
    async (_path, routes) => {
      // The consumer passes its own region (for its 'private-dns' routes, say); the endpoint
      // knows where its service lives, and that wins.
      const handler = handlerFor({ ...routes(), region: CONSUMER })
      expect(handler.hostnames).toContain(`secretsmanager.${SERVICE}.amazonaws.com`)
      expect(handler.hostnames).not.toContain(`secretsmanager.${CONSUMER}.amazonaws.com`)
      const requests = front.requests.length
      const got = await get(handler, SERVICE)
      expect(JSON.parse(got.SecretString!)).toEqual(SECRET)
      expect(front.requests.slice(requests)).toMatchObject([
        { operation: 'GetSecretValue', status: 200 },
      ])
    },
  )

  it("'private-dns' routes beside it use the consumer's region, not the service's", () => {
    const handler = handlerFor({ endpoints: { secretsmanager: endpoint, sts: 'private-dns' } })
    expect(handler.hostnames).toContain(`sts.${CONSUMER}.amazonaws.com`)
    expect(handler.hostnames).not.toContain(`sts.${SERVICE}.amazonaws.com`)
  })

  it("a client left in the consumer's region is refused at once, with a hint naming the service's region", async () => {
    const handler = handlerFor({ endpoint })
    const requests = front.requests.length
    const error = (await get(handler, CONSUMER).catch((e: unknown) => e)) as PrivateLinkError
    expect(error.code).toBe('ERR_ORIGIN_NOT_PINNED')
    expect(error.hint).toContain(`region '${SERVICE}'`)
    expect(error.hint).not.toContain('Create an interface endpoint')
    expect(front.requests.length).toBe(requests)
  })
})
