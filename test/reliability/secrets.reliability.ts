import { PrivateLinkError } from '@privatelink/core'
import { createEndpointDispatcher, sigv4 } from '@privatelink/http'
import { createIamTokenProvider, createPool } from '@privatelink/pg'
import { createElastiCacheTokenProvider, createRedis } from '@privatelink/redis'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  addCredentials,
  addSecret,
  addToken,
  captureError,
  captureObject,
} from './support/capture.js'
import { ownLocality } from './support/clients.js'
import { API_HOST, type Stack, startStack } from './support/stack.js'
import { record } from './support/summary.js'

// Issue 15, secrets: recognisable fake secrets (access keys, session tokens, IAM tokens,
// passwords) pushed through every package's failure paths. The scan at the end of this file (see
// support/capture-setup.ts) searches every error (message, stack, cause chain via util.inspect
// with showHidden and unlimited depth), every diagnostics_channel message, every log line and
// util.inspect of every public object for them.
const FAKE = {
  accessKeyId: 'AKIAFAKERELIABILITY1',
  secretAccessKey: 'fake/SECRET/reliability+key/0123456789abcdefABCDEF',
  sessionToken: 'FAKE-SESSION-TOKEN-reliability-IQoJb3JpZ2luX2VjEFAKEFAKEFAKE',
}
const FAKE_PASSWORD = 'fake-password-reliability-5f2c9a'
const FAKE_IAM_TOKEN =
  'lab-proxy.proxy-abc.us-west-2.rds.amazonaws.com:5432/?Action=connect&DBUser=app_user&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAFAKERELIABILITY1%2F20260101%2Fus-west-2%2Frds-db%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=0123456789abcdeffedcba98765432100123456789abcdeffedcba9876543210'

let stack: Stack
beforeAll(async () => {
  stack = await startStack()
  addCredentials('lab long-term key', stack.lab.aws.credentials)
  addCredentials('fake credentials', FAKE)
  addSecret('fake password', FAKE_PASSWORD)
  addToken('fake IAM token', FAKE_IAM_TOKEN)
})
afterAll(async () => {
  await stack?.close()
})

describe('secrets never leave the packages', () => {
  it('fake and real credentials through every failure path', async ({ task }) => {
    const { lab, proxy, cache } = stack
    const real = lab.aws.issueSession(3600)
    addCredentials('STS session', real)
    const errors: unknown[] = []
    const expectFailure = async (label: string, run: () => Promise<unknown>) => {
      try {
        await run()
        errors.push(new Error(`${label}: succeeded`))
      } catch (error) {
        captureError(error)
        errors.push(error)
      }
    }
    const connector = { locality: ownLocality, healthCheck: { intervalMs: 0 } }
    // pg: unknown key, a password that is not a token, a token given as a password, real creds.
    const pools = [
      createPool({
        endpoint: lab.endpoint,
        proxyHost: proxy.proxyHost,
        user: 'app_user',
        database: stack.database,
        region: lab.region,
        credentials: FAKE,
        ssl: { ca: lab.ca.certificatePem },
        connector,
      }),
      createPool({
        endpoint: lab.endpoint,
        proxyHost: proxy.proxyHost,
        user: 'app_user',
        database: stack.database,
        auth: { password: FAKE_PASSWORD },
        ssl: { ca: lab.ca.certificatePem },
        connector,
      }),
      createPool({
        endpoint: lab.endpoint,
        proxyHost: proxy.proxyHost,
        user: 'app_user',
        database: stack.database,
        auth: { password: FAKE_IAM_TOKEN },
        ssl: { ca: lab.ca.certificatePem },
        connector,
      }),
      createPool({
        endpoint: lab.endpoint,
        proxyHost: 'other.proxy-abc.us-west-2.rds.amazonaws.com',
        user: 'app_user',
        database: stack.database,
        region: lab.region,
        credentials: real,
        ssl: { ca: lab.ca.certificatePem },
        connector,
      }),
    ]
    for (const pool of pools) pool.on('error', captureError)
    for (const [i, pool] of pools.entries())
      await expectFailure(`pg pool ${i}`, () => pool.query('SELECT 1'))
    const goodPool = createPool({
      endpoint: lab.endpoint,
      proxyHost: proxy.proxyHost,
      user: 'app_user',
      database: stack.database,
      region: lab.region,
      credentials: real,
      ssl: { ca: lab.ca.certificatePem },
      connector,
    })
    await goodPool.query('SELECT 1')
    // Token providers whose credentials are fake or fail with a secret-bearing cause.
    const providers = [
      createIamTokenProvider({
        hostname: proxy.proxyHost,
        username: 'app_user',
        region: lab.region,
        credentials: FAKE,
      }),
      createIamTokenProvider({
        hostname: proxy.proxyHost,
        username: 'app_user',
        region: lab.region,
        credentials: { ...FAKE, expiration: new Date(Date.now() - 1_000) },
      }),
      createElastiCacheTokenProvider({
        userId: 'app-user',
        cacheName: 'lab-cache',
        region: lab.region,
        credentials: FAKE,
      }),
    ]
    for (const provider of providers) {
      try {
        const token = await provider.getToken()
        addToken('token signed with fake credentials', token)
      } catch (error) {
        captureError(error)
      }
      captureObject(provider)
    }
    // Redis: a fake password, IAM with fake credentials.
    const redisClients =
      cache === undefined
        ? []
        : [
            createRedis({
              endpoint: lab.endpoint,
              locality: ownLocality,
              servername: cache.hostname,
              tls: { ca: lab.ca.certificatePem },
              auth: { password: FAKE_PASSWORD },
              username: 'app-user',
              maxRetriesPerRequest: 0,
              connectorOptions: { healthCheck: { intervalMs: 0 } },
            }),
            createRedis({
              endpoint: lab.endpoint,
              locality: ownLocality,
              servername: cache.hostname,
              tls: { ca: lab.ca.certificatePem },
              auth: {
                iam: {
                  userId: 'app-user',
                  cacheName: cache.cacheName,
                  region: lab.region,
                  credentials: FAKE,
                },
              },
              maxRetriesPerRequest: 0,
              connectorOptions: { healthCheck: { intervalMs: 0 } },
            }),
          ]
    for (const [i, redis] of redisClients.entries()) {
      redis.on('error', captureError)
      await expectFailure(`redis ${i}`, () => redis.get('privatelink:reliability:secret'))
    }
    // HTTP: requests signed with fake credentials, and a provider that fails.
    const dispatcher = createEndpointDispatcher({
      endpoint: lab.endpoint,
      locality: ownLocality,
      ca: lab.ca.certificatePem,
      healthCheck: { intervalMs: 0 },
    })
    const signed = dispatcher.compose(
      sigv4({ service: 'execute-api', region: lab.region, credentials: FAKE }),
    )
    const failing = dispatcher.compose(
      sigv4({
        service: 'execute-api',
        region: lab.region,
        credentials: async () => {
          throw new Error('provider failed')
        },
      }),
    )
    const response = await request(`https://${API_HOST}/secret?X-Amz-Credential=a`, {
      dispatcher: signed,
      method: 'POST',
      body: 'payload',
    })
    await response.body.dump()
    await expectFailure('sigv4 with a failing provider', () =>
      request(`https://${API_HOST}/secret`, { dispatcher: failing }),
    )
    await expectFailure('a host not pinned, through the signed dispatcher', () =>
      request('https://elsewhere.example.com/', { dispatcher: signed }),
    )
    for (const value of [...pools, goodPool, ...redisClients, dispatcher, signed])
      captureObject(value)
    for (const redis of redisClients) redis.disconnect()
    await Promise.allSettled([...pools, goodPool].map((pool) => pool.end()))
    await dispatcher.close()
    const untyped = errors.filter(
      (error) =>
        !PrivateLinkError.isInstance(error) &&
        !String((error as Error)?.message).startsWith('Reached the max retries'),
    )
    record(task, {
      scenario: 'secrets: fake keys, passwords, IAM tokens through failure paths',
      load: errors.length,
      faults: 0,
      badInputs: errors.length + providers.length,
      failures: untyped.length,
      secrets: 0,
      notes: `errors: ${[...new Set(errors.map((e) => (PrivateLinkError.isInstance(e) ? e.code : (e as Error).message)))].join(', ')}`,
    })
    expect(untyped.map((e) => String((e as Error)?.message))).toEqual([])
  })
})
