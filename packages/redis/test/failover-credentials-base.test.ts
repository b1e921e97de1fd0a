import { inspect } from 'node:util'
import { createConnector, endpointFromConfig, PrivateLinkError } from '@privatelink/core'
import { createRedis } from '@privatelink/redis'
import { afterEach, describe, expect, it } from 'vitest'
import { invalidSecretOption } from '../src/secret-option.js'

// Nothing here connects (lazyConnect): every case is decided at construction.
const endpoint = endpointFromConfig({
  dnsName:
    'vpce-0123456789abcdef0-abcdefgh.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com',
  zones: [{ azName: 'us-east-1a', azId: 'use1-az1', addresses: ['127.0.0.1'] }],
})
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-secret-key-000' }
// A secret access key pasted where a target's credentials belong.
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY'

const made: { disconnect(): void }[] = []
afterEach(() => {
  for (const client of made.splice(0)) client.disconnect()
})

const target = (overrides: Record<string, unknown> = {}) => ({
  endpoint,
  servername: 'master.my-cache.def456.use1.cache.amazonaws.com',
  cacheName: 'my-cache-east',
  ...overrides,
})

const options = (overrides: Record<string, unknown> = {}) => ({
  endpoint,
  servername: 'master.my-cache.abc123.use1.cache.amazonaws.com',
  lazyConnect: true,
  locality: null,
  connectorOptions: { healthCheck: { intervalMs: 0 } },
  auth: { iam: { userId: 'app-user', cacheName: 'my-cache', credentials } },
  failover: [target()],
  ...overrides,
})

function refusal(overrides: Record<string, unknown>): PrivateLinkError {
  try {
    made.push(createRedis(options(overrides) as never))
  } catch (error) {
    expect(PrivateLinkError.isInstance(error)).toBe(true)
    return error as PrivateLinkError
  }
  throw new Error('createRedis accepted the options')
}

function shown(error: PrivateLinkError): string {
  return [
    error.message,
    String(error.details['received']),
    JSON.stringify(error),
    inspect(error, { showHidden: true, depth: 8 }),
  ].join('\n')
}

describe("redis's option errors from base (invalidSecretOption, credentialsOption)", () => {
  it('invalidSecretOption describes a revoked Proxy instead of throwing a TypeError', () => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    const error = invalidSecretOption('tls', 'TLS settings', proxy)
    expect(error).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      details: { option: 'tls', received: 'an unreadable value (a revoked Proxy)' },
    })
  })

  it("a secret as a failover target's credentials: described by its length, never shown", () => {
    const error = refusal({ failover: [target({ credentials: SECRET })] })
    expect(error).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      details: {
        option: 'failover[0].credentials',
        received: `a string of ${SECRET.length} characters`,
      },
    })
    expect(shown(error)).not.toContain(SECRET.slice(0, 16))
  })

  it('credentials without an accessKeyId: an object, its secret never shown', () => {
    const error = refusal({ failover: [target({ credentials: { secretAccessKey: SECRET } })] })
    expect(error).toMatchObject({
      details: { option: 'failover[0].credentials', received: 'an object' },
    })
    expect(shown(error)).not.toContain(SECRET.slice(0, 16))
  })

  it('credentials on a target without IAM auth: refused, described by type only', () => {
    const error = refusal({
      auth: undefined,
      failover: [target({ cacheName: undefined, credentials: SECRET })],
    })
    expect(error).toMatchObject({
      details: {
        option: 'failover[0].credentials',
        received: `a string of ${SECRET.length} characters`,
      },
    })
    expect(shown(error)).not.toContain(SECRET.slice(0, 16))
  })

  it("an unknown target key (a password) is described by type, not '[not shown]'", () => {
    const error = refusal({ failover: [target({ password: 'hunter2-secret' })] })
    expect(error).toMatchObject({
      details: { option: 'failover[0].password', received: 'a string of 14 characters' },
    })
    expect(shown(error)).not.toContain('hunter2')
  })

  it('a connector with failover: received says what was given', () => {
    const connector = createConnector({ endpoint, port: 6379, locality: null })
    try {
      const error = refusal({ connector })
      expect(error).toMatchObject({ details: { option: 'connector', received: 'a Connector' } })
    } finally {
      connector.close()
    }
  })

  it("a target's credentials as a provider or fixed credentials are accepted", () => {
    for (const given of [credentials, async () => credentials]) {
      const redis = createRedis(options({ failover: [target({ credentials: given })] }) as never)
      made.push(redis)
      expect(redis.status).toBe('wait')
    }
  })
})
