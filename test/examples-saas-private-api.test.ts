import { once } from 'node:events'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createTestCa, type Lab, startLab, type TestCa } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInvoicesApi } from '../examples/saas-private-api/invoices-api.js'
import { createOrdersClient } from '../examples/saas-private-api/orders-client.js'

type Check = (request: {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string | string[] | undefined>
  body: string
}) => Promise<boolean>

/** The provider's service: echoes what it saw; `check` stands in for its authorizer. */
async function startService(ca: TestCa, names: string[], check?: Check): Promise<Server> {
  const issued = await ca.issue(names)
  const server = createServer(
    { cert: issued.certificatePem, key: issued.privateKeyPem },
    async (req, res) => {
      let body = ''
      for await (const chunk of req) body += chunk
      const url = new URL(req.url ?? '/', 'https://service')
      const allowed =
        check === undefined ||
        (await check({
          method: req.method ?? 'GET',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          body,
        }))
      res.writeHead(allowed ? 200 : 403, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify(
          allowed
            ? {
                id: url.pathname.split('/').pop(),
                method: req.method,
                host: req.headers.host,
                apiId: req.headers['x-apigw-api-id'] ?? null,
                body: body === '' ? null : JSON.parse(body),
              }
            : { message: 'Forbidden' },
        ),
      )
    },
  )
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return server
}

const port = (server: Server) => (server.address() as AddressInfo).port

describe('examples/saas-private-api: a provider private API through the http dispatcher', () => {
  let ca: TestCa
  let service: Server
  let lab: Lab
  beforeAll(async () => {
    ca = await createTestCa() // the provider's private CA
    service = await startService(ca, ['api.saas.example.com'])
    lab = await startLab({
      privateDnsName: 'api.saas.example.com',
      services: [{ name: 'api', port: 443, target: { host: '127.0.0.1', port: port(service) } }],
    })
  })
  afterAll(async () => {
    await lab?.close()
    service?.close()
  })

  it('GET and POST go to the own zone, checked against the API name', async () => {
    const orders = createOrdersClient({
      endpoint: lab.endpoint,
      locality: { source: 'options', azName: 'us-west-2b', azId: 'usw2-az2' },
      ca: ca.certificatePem,
    })
    try {
      expect(await orders.getOrder('o-1')).toMatchObject({
        id: 'o-1',
        method: 'GET',
        host: 'api.saas.example.com',
      })
      expect(await orders.createOrder({ sku: 'pl-1', quantity: 2 })).toMatchObject({
        method: 'POST',
        body: { sku: 'pl-1', quantity: 2 },
      })
      expect(Object.keys(orders.connectionsPerZone())).toEqual(['usw2-az2'])
    } finally {
      await orders.close()
    }
    expect(lab.zone('us-west-2b').stats()['api']!.accepted).toBeGreaterThan(0)
    expect(lab.zone('us-west-2a').stats()['api']!.accepted).toBe(0)
  })

  it('a GET survives its zone refusing connections: it goes to another zone', async () => {
    const orders = createOrdersClient({
      endpoint: lab.endpoint,
      locality: { source: 'options', azName: 'us-west-2c', azId: 'usw2-az3' },
      ca: ca.certificatePem,
    })
    await lab.zone('us-west-2c').fail('refuse')
    try {
      expect(await orders.getOrder('o-2')).toMatchObject({ id: 'o-2' })
    } finally {
      await lab.zone('us-west-2c').restore()
      await orders.close()
    }
  })

  it('refuses a certificate from another CA (no silent trust)', async () => {
    const stranger = await createTestCa()
    const orders = createOrdersClient({ endpoint: lab.endpoint, ca: stranger.certificatePem })
    try {
      await expect(orders.getOrder('o-3')).rejects.toMatchObject({ code: 'ERR_TLS_UNTRUSTED' })
    } finally {
      await orders.close()
    }
  })
})

describe('examples/saas-private-api: an API Gateway private API with SigV4', () => {
  const apiId = 'a1b2c3d4e5'
  let ca: TestCa
  let gateway: Server
  let lab: Lab
  beforeAll(async () => {
    ca = await createTestCa()
    // API Gateway's certificate for execute-api endpoints; the lab verifies signatures itself.
    gateway = await startService(
      ca,
      ['*.execute-api.us-east-1.vpce.amazonaws.com'],
      async (request) =>
        (await lab.aws.verify(request, { region: 'us-east-1', service: 'execute-api' })).ok,
    )
    lab = await startLab({
      region: 'us-east-1',
      services: [
        { name: 'execute-api', port: 443, target: { host: '127.0.0.1', port: port(gateway) } },
      ],
    })
  })
  afterAll(async () => {
    await lab?.close()
    gateway?.close()
  })

  // The lab names its endpoint like any endpoint service (vpce-svc-...); an execute-api
  // endpoint's DNS name is under execute-api instead.
  const executeApiEndpoint = () => ({
    ...lab.endpoint,
    dnsName: lab.endpoint.dnsName.replace(/\.vpce-svc-[0-9a-f]+\./, '.execute-api.'),
  })

  it('header mode: the vpce name, x-apigw-api-id, and a signature the verifier accepts', async () => {
    const invoices = createInvoicesApi({
      endpoint: executeApiEndpoint(),
      apiId,
      stage: 'prod',
      region: 'us-east-1',
      credentials: lab.aws.issueSession(3600),
      ca: ca.certificatePem,
    })
    try {
      const answer = await invoices.getInvoice('inv-9')
      expect(answer).toEqual({
        status: 200,
        body: {
          id: 'inv-9',
          method: 'GET',
          host: executeApiEndpoint().dnsName,
          apiId,
          body: null,
        },
      })
    } finally {
      await invoices.close()
    }
  })

  it('a request signed with a key the account does not know is refused (403)', async () => {
    const invoices = createInvoicesApi({
      endpoint: executeApiEndpoint(),
      apiId,
      stage: 'prod',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAEXAMPLEUNKNOWN00', secretAccessKey: 'not-a-lab-key' },
      ca: ca.certificatePem,
    })
    try {
      expect((await invoices.getInvoice('inv-9')).status).toBe(403)
    } finally {
      await invoices.close()
    }
  })
})
