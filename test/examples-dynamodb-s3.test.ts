import type { Endpoint } from '@privatelink/core'
import {
  type DynamoDbFront,
  dynamoDbFront,
  type Lab,
  type LabGatewayOptions,
  type S3Front,
  s3Front,
  startLab,
} from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDataClients } from '../examples/dynamodb-s3/clients.js'
import { loadOrder, orderIds, saveOrder } from '../examples/dynamodb-s3/orders.js'
import { awsTlsFront } from '../packages/aws-sdk/test/aws-lab.js'
import { stsEndpointBeside } from '../packages/aws-sdk/test/service-lab.js'
import { freePort } from './support/free-port.js'

const REGION = 'us-west-2'
const STS_HOST = 'sts.us-west-2.amazonaws.com'
const BUCKET = 'orders-archive'

interface DataLab {
  lab: Lab
  dynamodb: DynamoDbFront
  s3: S3Front
  sts: Endpoint
  stsUrl: string
}

/**
 * One VPC: `interfaceFor`'s interface endpoint (the lab's), the other service behind a gateway
 * endpoint, and STS's interface endpoint on the same zones (its own port and TLS name).
 */
async function startDataLab(interfaceFor: 'dynamodb' | 's3'): Promise<DataLab> {
  const dynamodb = dynamoDbFront({ tables: { orders: { hashKey: 'customer', rangeKey: 'id' } } })
  const s3 = s3Front({ buckets: [BUCKET] })
  const gateway: LabGatewayOptions =
    interfaceFor === 'dynamodb'
      ? { service: 's3', front: 's3' }
      : { service: 'dynamodb', front: 'dynamodb' }
  let awsPort = 0
  const stsPort = await freePort()
  const lab = await startLab({
    region: REGION,
    awsService: interfaceFor,
    ...(interfaceFor === 's3' ? { privateDnsName: 's3.us-west-2.amazonaws.com' } : {}),
    fronts: [dynamodb, s3, awsTlsFront([STS_HOST], new Map(), () => awsPort, 'sts-tls')],
    services: [
      { name: interfaceFor, port: 443, target: { front: interfaceFor } },
      { name: 'sts', port: stsPort, target: { front: 'sts-tls' } },
    ],
    gateway,
  })
  awsPort = Number(new URL(lab.aws.endpoint).port)
  const sts = stsEndpointBeside(lab.endpoint, interfaceFor)
  return { lab, dynamodb, s3, sts, stsUrl: `https://${STS_HOST}:${stsPort}` }
}

function clientsFor(data: DataLab, interfaceFor: 'dynamodb' | 's3') {
  const { lab } = data
  const gatewayService = interfaceFor === 'dynamodb' ? 's3' : 'dynamodb'
  const port = lab.gateway!.port === 443 ? '' : `:${lab.gateway!.port}`
  const role = lab.aws.roles[0]!
  return openDataClients({
    region: REGION,
    dynamodb: interfaceFor === 'dynamodb' ? lab.endpoint : 'gateway',
    s3: interfaceFor === 's3' ? lab.endpoint : 'gateway',
    sts: data.sts,
    role: { arn: role.arn, externalId: role.externalId! },
    masterCredentials: lab.aws.credentials,
    gateway: {
      ec2: { endpoint: lab.aws.endpoint, credentials: lab.aws.credentials },
      servers: [lab.dns.address],
    },
    urls: {
      sts: data.stsUrl,
      [gatewayService]: `https://${gatewayService}.us-west-2.amazonaws.com${port}`,
    },
    locality: { source: 'options', azId: 'usw2-az1' },
    ca: lab.ca.certificatePem,
  })
}

describe.each(['dynamodb', 's3'] as const)(
  'examples/dynamodb-s3 (%s through its interface endpoint)',
  (interfaceFor) => {
    let data: DataLab
    beforeAll(async () => {
      data = await startDataLab(interfaceFor)
    })
    afterAll(() => data?.lab.close())

    it('saves and loads an order with a cross-account role: the table, the archive, AssumeRole through the endpoints', async () => {
      const clients = clientsFor(data, interfaceFor)
      try {
        const order = { customer: 'c-42', id: 'o-1001', total: 129 }
        const key = await saveOrder(clients, BUCKET, order)
        expect(key).toBe('orders/c-42/o-1001.json')
        expect(await loadOrder(clients, BUCKET, 'c-42', 'o-1001')).toEqual({
          total: 129,
          archived: order,
        })
        expect(await orderIds(clients, 'c-42')).toEqual(['o-1001'])
      } finally {
        await clients.close()
      }
      const roleSession = /^arn:aws:sts::222222222222:assumed-role\/privatelink-cross-account\//
      // Every call verified (SigV4) for the role's session, AssumeRole went to the lab's STS.
      expect(data.dynamodb.requests.map((r) => [r.operation, r.status])).toEqual([
        ['PutItem', 200],
        ['GetItem', 200],
        ['Query', 200],
      ])
      for (const call of data.dynamodb.requests) expect(call.principal).toMatch(roleSession)
      expect(data.s3.requests.map((r) => [r.operation, r.status])).toEqual([
        ['PutObject', 200],
        ['GetObject', 200],
      ])
      // One AssumeRole per client: each SDK client caches the credentials it resolved.
      expect(data.lab.aws.requests.filter((r) => r.action === 'AssumeRole')).toEqual([
        { service: 'sts', action: 'AssumeRole', status: 200 },
        { service: 'sts', action: 'AssumeRole', status: 200 },
      ])
      // The interface endpoint's service came through the zones; the gateway's at its prefix list.
      const viaZones = Object.values(data.lab.stats()).reduce(
        (sum, services) => sum + (services[interfaceFor]?.accepted ?? 0),
        0,
      )
      expect(viaZones).toBeGreaterThan(0)
      if (interfaceFor === 'dynamodb')
        expect(new Set(data.dynamodb.requests.map((r) => r.servername))).toEqual(
          new Set([data.lab.endpoint.dnsName]),
        )
      else
        expect(new Set(data.s3.requests.map((r) => r.servername))).toEqual(
          new Set([`${BUCKET}.s3.us-west-2.amazonaws.com`]),
        )
      expect(
        data.lab.aws.requests.filter((r) => r.action.includes('ManagedPrefixList')).length,
      ).toBe(2)
    })
  },
)
