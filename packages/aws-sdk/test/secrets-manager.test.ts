import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import { type AwsRequestHandler, createAwsRequestHandler } from '@privatelink/aws-sdk'
import type { PrivateLinkError } from '@privatelink/core'
import { createResolver } from '@privatelink/dns'
import { type Lab, type SecretsManagerFront, secretsManagerFront, startLab } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../../test/support/free-port.js'
import { OWN_ZONE, REGION } from './aws-lab.js'

const HOST = `secretsmanager.${REGION}.amazonaws.com`
const DB_SECRET = { username: 'app_user', password: 'through-the-endpoint-4d1e' }

let lab: Lab
let front: SecretsManagerFront
/** A second listener port on every zone ENI, bound as is (no port map): for `'private-dns'` routes. */
let altPort: number
const handlers: AwsRequestHandler[] = []

/**
 * The main case: a lab interface endpoint for Secrets Manager. Its zones relay to the
 * lab's Secrets Manager emulator, which serves TLS for secretsmanager.us-west-2.amazonaws.com
 * (lab CA) and verifies every SigV4 signature with the lab's own verifier.
 */
beforeAll(async () => {
  front = secretsManagerFront({ secrets: { 'prod/db': DB_SECRET } })
  altPort = await freePort()
  lab = await startLab({
    region: REGION,
    fronts: [front],
    services: [
      { name: 'secretsmanager', port: 443, target: { front: front.name } },
      { name: 'secretsmanager-alt', port: altPort, target: { front: front.name } },
    ],
  })
})
afterEach(async () => {
  for (const handler of handlers.splice(0)) await handler.close().catch(() => {})
  for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).restore()
  lab.dns.restore()
})
afterAll(() => lab?.close())

const handlerFor = (options: Partial<Parameters<typeof createAwsRequestHandler>[0]> = {}) => {
  const handler = createAwsRequestHandler({
    endpoints: { secretsmanager: lab.endpoint },
    ca: lab.ca.certificatePem,
    locality: OWN_ZONE,
    ...options,
  })
  handlers.push(handler)
  return handler
}
const clientFor = (requestHandler: AwsRequestHandler, endpoint?: string) =>
  new SecretsManagerClient({
    region: REGION,
    credentials: lab.aws.credentials,
    requestHandler,
    ...(endpoint === undefined ? {} : { endpoint }),
  })
const accepted = () =>
  Object.fromEntries(
    lab.endpoint.zones.map((z) => [
      z.azName,
      lab.zone(z.azName).stats()['secretsmanager']!.accepted,
    ]),
  )
const delta = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(Object.keys(after).map((zone) => [zone, after[zone]! - before[zone]!]))

describe('SecretsManagerClient through the interface endpoint', () => {
  it('GetSecretValue goes to the own zone ENI over TLS for secretsmanager.<region>.amazonaws.com', async () => {
    const before = accepted()
    const requests = front.requests.length
    const handler = handlerFor()
    const secrets = clientFor(handler)
    for (let i = 0; i < 5; i++) {
      const got = await secrets.send(new GetSecretValueCommand({ SecretId: 'prod/db' }))
      expect(JSON.parse(got.SecretString!)).toEqual(DB_SECRET)
    }
    // The own zone only, on kept-alive connections (a back-to-back call may open a second one
    // while the first is being handed back to the pool; never one per call).
    const opened = delta(before, accepted())
    expect(opened['us-west-2a']).toBeGreaterThanOrEqual(1)
    expect(opened['us-west-2a']).toBeLessThanOrEqual(2)
    expect(opened).toMatchObject({ 'us-west-2b': 0, 'us-west-2c': 0 })
    expect(front.requests.slice(requests)).toHaveLength(5)
    for (const request of front.requests.slice(requests))
      expect(request).toMatchObject({ operation: 'GetSecretValue', status: 200, via: 'tls' })
    expect(Object.keys(handler.dispatcherFor(HOST)!.connectionsPerZone())).toEqual(['usw2-az1'])
  })

  it('a fully-qualified name (trailing dot) routes as the name without it, through the own zone', async () => {
    const before = accepted()
    const requests = front.requests.length
    const handler = handlerFor()
    const secrets = clientFor(handler, `https://${HOST}.`)
    const got = await secrets.send(new GetSecretValueCommand({ SecretId: 'prod/db' }))
    expect(JSON.parse(got.SecretString!)).toEqual(DB_SECRET)
    expect(front.requests.slice(requests)).toMatchObject([
      { operation: 'GetSecretValue', status: 200 },
    ])
    expect(delta(before, accepted())).toMatchObject({ 'us-west-2b': 0, 'us-west-2c': 0 })
    expect(handler.dispatcherFor(`${HOST.toUpperCase()}.`)).toBe(handler.dispatcherFor(HOST))
  })

  it('with the own zone blackholed, 40 calls (8 in flight) succeed through other zones: 0 failures', async () => {
    await lab.zone('us-west-2a').fail('blackhole')
    const before = accepted()
    const secrets = clientFor(handlerFor())
    let failures = 0
    let succeeded = 0
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 5; i++) {
          try {
            const got = await secrets.send(new GetSecretValueCommand({ SecretId: 'prod/db' }))
            if (JSON.parse(got.SecretString!).password === DB_SECRET.password) succeeded++
          } catch {
            failures++
          }
        }
      }),
    )
    expect({ failures, succeeded }).toEqual({ failures: 0, succeeded: 40 })
    const moved = delta(before, accepted())
    expect(moved['us-west-2a']).toBe(0)
    expect(moved['us-west-2b']! + moved['us-west-2c']!).toBeGreaterThanOrEqual(1)
  })

  it('a rotation through PutSecretValue is what the next GetSecretValue reads', async () => {
    const secrets = clientFor(handlerFor())
    const rotated = { ...DB_SECRET, password: 'rotated-through-the-endpoint' }
    const put = await secrets.send(
      new PutSecretValueCommand({ SecretId: 'prod/db', SecretString: JSON.stringify(rotated) }),
    )
    expect(put.VersionStages).toEqual(['AWSCURRENT'])
    const current = await secrets.send(new GetSecretValueCommand({ SecretId: 'prod/db' }))
    expect(JSON.parse(current.SecretString!)).toEqual(rotated)
    expect(current.VersionId).toBe(put.VersionId)
    const previous = await secrets.send(
      new GetSecretValueCommand({ SecretId: 'prod/db', VersionStage: 'AWSPREVIOUS' }),
    )
    expect(JSON.parse(previous.SecretString!)).toEqual(DB_SECRET)
    expect(front.requests.slice(-3).map((r) => [r.operation, r.status, r.via])).toEqual([
      ['PutSecretValue', 200, 'tls'],
      ['GetSecretValue', 200, 'tls'],
      ['GetSecretValue', 200, 'tls'],
    ])
    front.put('prod/db', DB_SECRET)
  })

  it("the emulator's refusals reach the caller as the SDK's typed errors, through the endpoint", async () => {
    const secrets = clientFor(handlerFor())
    const error = (await secrets
      .send(new GetSecretValueCommand({ SecretId: 'prod/missing' }))
      .catch((e: unknown) => e)) as { name: string; $metadata: { httpStatusCode?: number } }
    expect(error.name).toBe('ResourceNotFoundException')
    expect(error.$metadata.httpStatusCode).toBe(400)
  })
})

describe('no silent public egress for Secrets Manager', () => {
  it('without a secretsmanager endpoint: ERR_ORIGIN_NOT_PINNED at once, naming the endpoint to create', async () => {
    const handler = handlerFor({ endpoints: { sts: lab.endpoint } })
    const before = accepted()
    const requests = front.requests.length
    const error = (await clientFor(handler)
      .send(new GetSecretValueCommand({ SecretId: 'prod/db' }))
      .catch((e: unknown) => e)) as PrivateLinkError & { $metadata?: { attempts?: number } }
    expect(error.code).toBe('ERR_ORIGIN_NOT_PINNED')
    expect(error.message).toContain(HOST)
    expect(error.hint).toContain(`com.amazonaws.${REGION}.secretsmanager`)
    expect(error.$metadata?.attempts).toBe(1)
    expect(accepted()).toEqual(before)
    expect(front.requests.length).toBe(requests)
  })

  it("'private-dns': works while the name resolves to the ENIs, ERR_DNS_NOT_PRIVATE when it answers public", async () => {
    const resolver = () =>
      createResolver({ servers: [lab.dns.address], allowedRanges: lab.allowedRanges })
    const endpoint = `https://${HOST}:${altPort}`
    lab.dns.set(HOST, { a: lab.endpoint.zones.map((z) => z.addresses[0]!) })
    const on = handlerFor({
      endpoints: { secretsmanager: 'private-dns' },
      region: REGION,
      resolver: resolver(),
    })
    const got = await clientFor(on, endpoint).send(
      new GetSecretValueCommand({ SecretId: 'prod/db' }),
    )
    expect(JSON.parse(got.SecretString!)).toEqual(DB_SECRET)

    // Private DNS "off": the service's name answers with its public address.
    lab.dns.override(HOST, { a: ['52.46.145.14'] })
    const requests = front.requests.length
    const off = handlerFor({
      endpoints: { secretsmanager: 'private-dns' },
      region: REGION,
      resolver: resolver(),
    })
    const started = performance.now()
    const error = (await clientFor(off, endpoint)
      .send(new GetSecretValueCommand({ SecretId: 'prod/db' }))
      .catch((e: unknown) => e)) as PrivateLinkError & { $metadata?: { attempts?: number } }
    expect(error.code).toBe('ERR_DNS_NOT_PRIVATE')
    expect(error.hint).toContain(`com.amazonaws.${REGION}.secretsmanager`)
    expect(error.$metadata?.attempts).toBe(1)
    expect(performance.now() - started).toBeLessThan(2_000) // at once, not after a timeout
    expect(front.requests.length).toBe(requests)
  })
})
