import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { type AwsRequestHandler, createAwsRequestHandler } from '@privatelink/aws-sdk'
import { type Lab, type SecretsManagerFront, secretsManagerFront, startLab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OWN_ZONE, REGION } from './aws-lab.js'

const DB_SECRET = { username: 'app_user', password: 'zone-loss-7f3a' }

let lab: Lab
let front: SecretsManagerFront
let handler: AwsRequestHandler | undefined

beforeAll(async () => {
  front = secretsManagerFront({ secrets: { 'prod/db': DB_SECRET } })
  lab = await startLab({
    region: REGION,
    fronts: [front],
    services: [{ name: 'secretsmanager', port: 443, target: { front: front.name } }],
  })
})
afterAll(async () => {
  await handler?.close().catch(() => {})
  await lab?.close()
})

/**
 * Issue 24 item 3: calls written on the own zone's sockets when that zone dies are lost
 * (GetSecretValue is a POST: the dispatcher never replays it). They must reach the SDK as a
 * transient error, so that the SDK's own retry strategy sends them again, through another zone.
 */
describe('Secrets Manager through the handler while the own zone is lost (default options)', () => {
  it('300 GetSecretValue, 32 in flight, own zone blackholed half-way: 0 failed, the lost ones retried by the SDK', async () => {
    handler = createAwsRequestHandler({
      endpoints: { secretsmanager: lab.endpoint },
      ca: lab.ca.certificatePem,
      locality: OWN_ZONE,
    })
    const secrets = new SecretsManagerClient({
      region: REGION,
      credentials: lab.aws.credentials,
      requestHandler: handler,
    })
    const ejected: string[] = []
    handler
      .dispatcherFor(`secretsmanager.${REGION}.amazonaws.com`)!
      .connector.onZoneChange((event) => {
        if (event.type === 'eject') ejected.push(event.zone)
      })
    const total = 300
    let started = 0
    let completed = 0
    let blackholed: Promise<void> | undefined
    const failures: { code?: string; name?: string; attempts?: number }[] = []
    let retried = 0
    const worker = async () => {
      while (started < total) {
        started++
        try {
          const got = await secrets.send(new GetSecretValueCommand({ SecretId: 'prod/db' }))
          expect(JSON.parse(got.SecretString!)).toEqual(DB_SECRET)
          if ((got.$metadata.attempts ?? 1) > 1) retried++
        } catch (error) {
          const e = error as { code?: string; name?: string; $metadata?: { attempts?: number } }
          failures.push({ code: e.code, name: e.name, attempts: e.$metadata?.attempts })
        }
        completed++
        // Half-way, with 32 calls in flight on the own zone's sockets.
        if (completed === total / 2) blackholed = lab.zone('us-west-2a').fail('blackhole')
      }
    }
    await Promise.all(Array.from({ length: 32 }, worker))
    await blackholed
    expect(failures).toEqual([])
    expect(completed).toBe(total)
    // The zone was really lost under load: some calls needed the SDK's retry.
    expect(retried).toBeGreaterThan(0)
    expect(ejected).toContain('usw2-az1')
  }, 60_000)
})

type RetryStrategyV2 = Extract<
  Awaited<ReturnType<SecretsManagerClient['config']['retryStrategy']>>,
  { refreshRetryTokenForRetry: unknown }
>

/**
 * A brief outage of the whole endpoint: every zone refuses (or resets) the connection. The SDK's
 * own handler retries ECONNREFUSED and ECONNRESET; ours must reach its retry strategy as
 * transient too. The lab heals when the SDK decides to retry (the client's own strategy, with
 * its backoff cut to 0 so no test waits for it).
 */
describe('Secrets Manager through the handler while every zone refuses, healed before the retry', () => {
  const ZONES = ['us-west-2a', 'us-west-2b', 'us-west-2c']
  for (const mode of ['refuse', 'reset'] as const) {
    it(`all zones ${mode}: the SDK retries (ERR_ENDPOINT_UNREACHABLE is transient) and the call succeeds`, async () => {
      const own = createAwsRequestHandler({
        endpoints: { secretsmanager: lab.endpoint },
        ca: lab.ca.certificatePem,
        locality: OWN_ZONE,
        healthCheck: { intervalMs: 0 },
      })
      const secrets = new SecretsManagerClient({
        region: REGION,
        credentials: lab.aws.credentials,
        requestHandler: own,
      })
      // The client's default: smithy's StandardRetryStrategy (a RetryStrategyV2).
      const standard = (await secrets.config.retryStrategy()) as RetryStrategyV2
      const seen: string[] = []
      // The client's own strategy decides; the lab heals before the retry it grants.
      secrets.config.retryStrategy = async () =>
        ({
          mode: 'standard',
          acquireInitialRetryToken: (scope: string) => standard.acquireInitialRetryToken(scope),
          async refreshRetryTokenForRetry(token: never, info: { error?: { code?: string } }) {
            seen.push(info.error?.code ?? 'unknown')
            const next = await standard.refreshRetryTokenForRetry(token, info as never)
            await Promise.all(ZONES.map((zone) => lab.zone(zone).restore()))
            return Object.assign(Object.create(next), { getRetryDelay: () => 0 })
          },
          recordSuccess: (token: never) => standard.recordSuccess(token),
        }) as never
      try {
        await Promise.all(ZONES.map((zone) => lab.zone(zone).fail(mode)))
        const got = await secrets.send(new GetSecretValueCommand({ SecretId: 'prod/db' }))
        expect(JSON.parse(got.SecretString!)).toEqual(DB_SECRET)
        expect(got.$metadata.attempts).toBeGreaterThan(1)
        expect(seen[0]).toBe('ERR_ENDPOINT_UNREACHABLE')
      } finally {
        await Promise.all(ZONES.map((zone) => lab.zone(zone).restore()))
        await own.close()
      }
    }, 30_000)
  }
})
