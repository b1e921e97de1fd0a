import { once } from 'node:events'
import { request } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { DescribeVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2'
import { createConnector, discoverEndpoint, type Endpoint } from '@privatelink/core'
import { createTestCa, type Lab, type LabOptions, startLab } from '@privatelink/lab'

export const SERVICE_NAME = 'api.saas.example.com'

export interface QuickstartResult {
  addressBlock: string
  /** The endpoint's tags, as DescribeVpcEndpoints answers them. */
  tags: { Key?: string; Value?: string }[]
  /** What discovery through the lab's EC2 API returned. */
  discovered: Endpoint
  /** The lab's own model, to compare with. */
  labEndpoint: Endpoint
  /** Where the connector's socket went. */
  dialled: { address: string; port: number }
  body: string
  /** Connections each zone's listener accepted. */
  accepted: Record<string, number>
}

/**
 * The lab README's flow, by the route a real client takes: discovery through the lab's EC2 API
 * with the real @aws-sdk/client-ec2, then a TLS connection through the discovered endpoint (own
 * zone us-west-2a) and an HTTPS request.
 */
export async function quickstartThrough(
  lab: Lab,
  caPem: string,
  port = 443,
): Promise<QuickstartResult> {
  const ec2ClientConfig = {
    endpoint: lab.aws.endpoint,
    region: lab.region,
    credentials: lab.aws.credentials,
    maxAttempts: 1,
  }
  const discovered = await discoverEndpoint({ endpointId: lab.endpoint.id, ec2ClientConfig })
  const described = await new EC2Client(ec2ClientConfig).send(
    new DescribeVpcEndpointsCommand({ VpcEndpointIds: [lab.endpoint.id] }),
  )
  const connector = createConnector({
    endpoint: discovered,
    port,
    locality: { source: 'options', azId: 'usw2-az1' },
    tls: { servername: SERVICE_NAME, ca: caPem },
    healthCheck: { intervalMs: 0 },
    probeIntervalMs: 0,
  })
  try {
    const socket = await connector.connect()
    const dialled = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }
    const body = await new Promise<string>((resolve, reject) => {
      const outgoing = request(
        { host: SERVICE_NAME, path: '/health', createConnection: () => socket },
        (response) => {
          let text = ''
          response.setEncoding('utf8')
          response.on('data', (chunk: string) => {
            text += chunk
          })
          response.on('end', () => resolve(text))
        },
      )
      outgoing.on('error', reject)
      outgoing.end()
    })
    socket.destroy()
    const stats = lab.stats()
    return {
      addressBlock: lab.addressBlock,
      tags: described.VpcEndpoints?.[0]?.Tags ?? [],
      discovered,
      labEndpoint: lab.endpoint,
      dialled,
      body,
      accepted: Object.fromEntries(
        Object.entries(stats).map(([zone, byService]) => [zone, byService['api']?.accepted ?? 0]),
      ),
    }
  } finally {
    connector.close()
  }
}

/** An HTTPS service with a lab-CA certificate, a lab in front of it on `port`, then the flow. */
export async function runQuickstart(
  options: { port?: number; lab?: Partial<LabOptions> } = {},
): Promise<QuickstartResult> {
  const port = options.port ?? 443
  const ca = await createTestCa()
  const issued = await ca.issue([SERVICE_NAME])
  const server = createServer(
    { cert: issued.certificatePem, key: issued.privateKeyPem },
    (_request, response) => response.end('ok'),
  )
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const lab = await startLab({
    ...options.lab,
    services: [
      {
        name: 'api',
        port,
        target: { host: '127.0.0.1', port: (server.address() as AddressInfo).port },
      },
    ],
  })
  try {
    return await quickstartThrough(lab, ca.certificatePem, port)
  } finally {
    await lab.close()
    server.closeAllConnections()
    server.close()
  }
}
