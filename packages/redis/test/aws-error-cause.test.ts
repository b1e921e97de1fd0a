import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { inspect } from 'node:util'
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import { PrivateLinkError } from '@privatelink/core'
import { type ElastiCacheFront, elastiCacheFront, type Lab, startLab } from '@privatelink/lab'
import {
  type AwsCredentialsProvider,
  createElastiCacheTokenProvider,
  createRedis,
} from '@privatelink/redis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

// A credential provider that fails the way production ones do: STS (the lab's) refuses AssumeRole,
// and the SDK's error keeps the HTTP exchange, whose request carries the caller's Authorization
// header (Signature) and X-Amz-Security-Token.
const redisUrl = inject('redisUrl')
let lab: Lab
let front: ElastiCacheFront
let session: ReturnType<Lab['aws']['issueSession']>

beforeAll(async () => {
  const url = new URL(redisUrl || 'redis://127.0.0.1:6379')
  front = elastiCacheFront({
    cacheName: 'lab-cache',
    upstream: { host: url.hostname, port: Number(url.port || 6379) },
  })
  lab = await startLab({
    fronts: [front],
    services: [{ name: 'redis', port: 6379, target: { front: 'elasticache' } }],
  })
  session = lab.aws.issueSession(3600)
})
afterAll(() => lab?.close())

// The SDK's provider type names another (optional) argument than ours; the call is the same.
const refusedRole = (): AwsCredentialsProvider =>
  fromTemporaryCredentials({
    params: {
      RoleArn: `arn:aws:iam::${lab.aws.accountId}:role/not-a-role`,
      RoleSessionName: 'privatelink-test',
    },
    masterCredentials: session,
    clientConfig: { endpoint: lab.aws.endpoint, region: lab.aws.region, maxAttempts: 1 },
  }) as AwsCredentialsProvider

/** Everything reachable from the error, hidden properties and the whole cause chain included. */
const everything = (error: unknown) =>
  inspect(error, { showHidden: true, depth: Number.POSITIVE_INFINITY, getters: true })

function expectNoSecrets(text: string): void {
  expect(text).not.toContain(session.sessionToken)
  expect(text).not.toContain(session.secretAccessKey)
  expect(text).not.toContain(session.accessKeyId)
  expect(text).not.toMatch(/Signature=[0-9a-f]{16}/)
  expect(text).not.toMatch(/authorization/i)
}

describe.skipIf(redisUrl === '')('an AWS SDK error behind a token signing failure', () => {
  it('ERR_REDIS_TOKEN_SIGNING_FAILED keeps a sanitised cause: no session token or Signature reachable', async () => {
    const provider = createElastiCacheTokenProvider({
      userId: 'app-user',
      cacheName: 'lab-cache',
      region: lab.region,
      credentials: refusedRole(),
    })
    const error = (await provider.getToken().catch((e: unknown) => e)) as PrivateLinkError
    expect(PrivateLinkError.isInstance(error)).toBe(true)
    expect(error.code).toBe('ERR_REDIS_TOKEN_SIGNING_FAILED')
    // What the SDK said is kept: its name, message and request ID, on a plain Error.
    expect(error.cause).toBeInstanceOf(Error)
    expect((error.cause as Error).message).toMatch(/not-a-role|not authorized|AccessDenied/i)
    expectNoSecrets(everything(error))
  })

  it('through createRedis: the error a connect reports holds none either', async () => {
    const redis = createRedis({
      endpoint: lab.endpoint,
      servername: front.hostname,
      tls: { ca: lab.ca.certificatePem },
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      auth: {
        iam: { userId: 'app-user', cacheName: 'lab-cache', credentials: refusedRole() },
      },
      connectorOptions: { healthCheck: { intervalMs: 0 } },
      locality: { source: 'options', azId: lab.endpoint.zones[0]!.azId! },
    })
    const reported: unknown[] = []
    redis.on('error', (error: unknown) => reported.push(error))
    try {
      const error = await redis.get('k').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(Error)
      // The connect failed on signing (reported as the client's error), not on the network.
      expect(reported.map((one) => (one as { code?: string }).code)).toContain(
        'ERR_REDIS_TOKEN_SIGNING_FAILED',
      )
      for (const one of [error, ...reported]) expectNoSecrets(everything(one))
    } finally {
      redis.disconnect()
    }
  })

  it('a background refresh failure published on privatelink:redis:token-refresh-failed holds none', async () => {
    let now = Date.now()
    let fail = false
    const good = lab.aws.credentials
    const failing = refusedRole()
    const provider = createElastiCacheTokenProvider({
      userId: 'app-user',
      cacheName: 'lab-cache',
      region: lab.region,
      credentials: () => (fail ? failing() : Promise.resolve(good)),
      clock: () => now,
    })
    const events: unknown[] = []
    const listener = (event: unknown) => events.push(event)
    subscribe('privatelink:redis:token-refresh-failed', listener)
    try {
      await provider.getToken()
      fail = true
      now += 8 * 60_000
      await provider.getToken()
      // The refresh runs in the background; its failure is published once it settles.
      for (let turn = 0; turn < 50 && events.length === 0; turn++)
        await new Promise((resolve) => setImmediate(resolve))
      expect(events).toHaveLength(1)
      expectNoSecrets(everything(events[0]))
    } finally {
      unsubscribe('privatelink:redis:token-refresh-failed', listener)
    }
  })
})
