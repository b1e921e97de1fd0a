import { inspect } from 'node:util'
import { endpointFromConfig, PrivateLinkError } from '@privatelink/core'
import { createElastiCacheTokenProvider, createRedis, createRedisCluster } from '@privatelink/redis'
import { afterEach, describe, expect, it } from 'vitest'

const endpoint = endpointFromConfig({
  dnsName:
    'vpce-0123456789abcdef0-abcdefgh.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com',
  zones: [{ azName: 'us-east-1a', azId: 'use1-az1', addresses: ['127.0.0.1'] }],
})
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-secret-key-000' }
const SECRET = 'correct-horse-battery-staple-0001'

const made: { disconnect(): void }[] = []
afterEach(() => {
  for (const client of made.splice(0)) client.disconnect()
})

const base = () => ({
  endpoint,
  servername: 'master.my-cache.abc123.use1.cache.amazonaws.com',
  lazyConnect: true,
  locality: null,
  connectorOptions: { healthCheck: { intervalMs: 0 } },
  auth: { iam: { userId: 'app-user', cacheName: 'my-cache', credentials } },
  failover: [{ endpoint, servername: 'master.my-cache.def456.use1.cache.amazonaws.com' }],
})

const clusterBase = () => {
  const { failover: _, ...rest } = base()
  return { ...rest, nodes: [{ port: 6379 }], natMap: { 'node-1:6379': { port: 6379 } } }
}

/** What a factory threw (or 'none', after closing what it made). */
function thrown(create: () => { disconnect(): void } | unknown): unknown {
  try {
    const made_ = create()
    if (typeof (made_ as { disconnect?: unknown })?.disconnect === 'function')
      made.push(made_ as { disconnect(): void })
    return 'none'
  } catch (error) {
    return error
  }
}

function expectRefusedWithout(error: unknown, option: string, secret: string): void {
  expect(PrivateLinkError.isInstance(error)).toBe(true)
  expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', details: { option } })
  const shown = `${JSON.stringify(error)} ${inspect(error, { showHidden: true, depth: 8 })}`
  expect(shown).not.toContain(secret)
  expect(shown).not.toContain(secret.slice(0, 12))
}

/** Sets `path` (a.b[0].c) in a copy of `options`. */
function withValue(options: Record<string, unknown>, path: string, value: unknown) {
  const copy = structuredClone({ ...options, endpoint: undefined }) as Record<string, unknown>
  copy['endpoint'] = options['endpoint']
  for (const entry of (copy['failover'] as { endpoint?: unknown }[] | undefined) ?? [])
    entry.endpoint = endpoint
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.')
  let at = copy as Record<string, unknown>
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>
  at[keys.at(-1)!] = value
  return copy
}

const revoked = () => {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}

describe('a secret in the wrong option', () => {
  it.each([
    ['auth', SECRET],
    ['tls', `-----BEGIN PRIVATE KEY-----${SECRET}`],
    ['auth.iam', SECRET],
    ['failover', SECRET],
    ['failover[0]', SECRET],
  ])(
    'createRedis({ %s: <string> }) names the option, describes the string, never shows it',
    (option, value) => {
      const error = thrown(() => createRedis(withValue(base(), option, value) as never))
      expectRefusedWithout(error, option, value)
      expect((error as PrivateLinkError).details['received']).toBe(
        `a string of ${value.length} characters`,
      )
    },
  )

  it('a connection URL with a password as the options of createRedis / createRedisCluster / the token provider', () => {
    const url = `rediss://app-user:${SECRET}@master.my-cache.abc123.use1.cache.amazonaws.com:6379`
    for (const create of [createRedis, createRedisCluster, createElastiCacheTokenProvider])
      expectRefusedWithout(
        thrown(() => create(url as never)),
        'options',
        SECRET,
      )
    const cluster = { ...clusterBase(), nodes: url }
    expectRefusedWithout(
      thrown(() => createRedisCluster(cluster as never)),
      'nodes',
      SECRET,
    )
    const auth = { ...clusterBase(), auth: SECRET }
    expectRefusedWithout(
      thrown(() => createRedisCluster(auth as never)),
      'auth',
      SECRET,
    )
  })
})

// A connection URL in `endpoint` is refused naming it, shown without its credentials (attack
// round 3, finding 2: dns's value description now redacts a URL's userinfo and query values).
describe('a connection URL as the endpoint', () => {
  it.each([
    `rediss://default:${SECRET}@master.c.use1.cache.amazonaws.com:6379`,
    `default:${SECRET}@master.c.use1.cache.amazonaws.com:6379`,
    `redis://master.c.use1.cache.amazonaws.com:6379/?password=${SECRET}`,
  ])('%s: createRedis and createRedisCluster name endpoint, never show the password', (url) => {
    expectRefusedWithout(
      thrown(() => createRedis({ ...base(), endpoint: url } as never)),
      'endpoint',
      SECRET,
    )
    expectRefusedWithout(
      thrown(() => createRedisCluster({ ...clusterBase(), endpoint: url } as never)),
      'endpoint',
      SECRET,
    )
    const failover = { ...base(), failover: [{ ...base().failover[0], endpoint: url }] }
    expectRefusedWithout(
      thrown(() => createRedis(failover as never)),
      'failover[0].endpoint',
      SECRET,
    )
  })

  it('as a natMap key (part of the option name in errors): refused naming natMap, never shown', () => {
    const natMap = { [`default:${SECRET}@node-1:6379`]: { port: 'x' } }
    expectRefusedWithout(
      thrown(() => createRedisCluster({ ...clusterBase(), natMap } as never)),
      'natMap',
      SECRET,
    )
  })

  it('as servername: refused like failover[].servername, never shown', () => {
    const url = `rediss://default:${SECRET}@master.c.use1.cache.amazonaws.com:6379`
    expectRefusedWithout(
      thrown(() => createRedis({ ...base(), servername: url } as never)),
      'servername',
      SECRET,
    )
    expectRefusedWithout(
      thrown(() => createRedisCluster({ ...clusterBase(), servername: url } as never)),
      'servername',
      SECRET,
    )
  })
})

describe('an option holding a revoked Proxy', () => {
  const redisPaths = [
    'endpoint',
    'servername',
    'tls',
    'auth',
    'auth.iam',
    'auth.iam.credentials',
    'locality',
    'connectorOptions',
    'connectorOptions.healthCheck',
    'clock',
    'failover',
    'failover[0]',
    'failover[0].endpoint',
    'retryStrategy',
  ]
  it.each(redisPaths)('createRedis: %s gives ERR_INVALID_OPTION naming it', (path) => {
    const error = thrown(() => createRedis(withValue(base(), path, revoked()) as never))
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', details: { option: path } })
  })

  const clusterPaths = ['nodes', 'nodes[0]', 'natMap', 'redisOptions', 'auth.iam', 'tls']
  it.each(clusterPaths)('createRedisCluster: %s gives ERR_INVALID_OPTION naming it', (path) => {
    const options =
      path === 'redisOptions' || path === 'tls'
        ? { ...clusterBase(), [path]: revoked() }
        : withValue({ ...clusterBase(), tls: {}, redisOptions: {} }, path, revoked())
    const error = thrown(() => createRedisCluster(options as never))
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', details: { option: path } })
  })

  it('the options object itself, and the token provider and its credentials', () => {
    for (const create of [createRedis, createRedisCluster, createElastiCacheTokenProvider])
      expect(thrown(() => create(revoked() as never))).toMatchObject({
        code: 'ERR_INVALID_OPTION',
        details: { option: 'options' },
      })
    const provider = {
      userId: 'app-user',
      cacheName: 'my-cache',
      region: 'us-east-1',
      credentials: revoked(),
    }
    expect(thrown(() => createElastiCacheTokenProvider(provider as never))).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      details: { option: 'credentials' },
    })
  })
  // Attack round 3, finding 6: the walk did not look into live Proxies or class instances, and
  // named a revoked zone deep in failover 'options'.
  it('inside a live Proxy or a class instance: named by its path', () => {
    class TlsSettings {
      ca = revoked()
    }
    for (const [tls, path] of [
      [new Proxy({ ca: revoked() }, {}), 'tls.ca'],
      [new TlsSettings(), 'tls.ca'],
      [{ ca: [new Proxy([revoked()], {})] }, 'tls.ca[0][0]'],
    ] as const) {
      const error = thrown(() => createRedis({ ...base(), tls } as never))
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', details: { option: path } })
      const clusterError = thrown(() => createRedisCluster({ ...clusterBase(), tls } as never))
      expect(clusterError).toMatchObject({ code: 'ERR_INVALID_OPTION', details: { option: path } })
    }
  })

  it.each([
    'failover[0].endpoint.zones[0]',
    'failover[0].endpoint.zones[0].addresses',
    'failover[0].endpoint.zones[0].addresses[0]',
  ])('deep in failover: %s is named', (path) => {
    const zone = { ...endpoint.zones[0]!, addresses: [...endpoint.zones[0]!.addresses] }
    const options = {
      ...base(),
      failover: [{ ...base().failover[0], endpoint: { ...endpoint, zones: [zone] } }],
    }
    if (path.endsWith('zones[0]')) options.failover[0]!.endpoint.zones[0] = revoked() as never
    else if (path.endsWith('addresses')) zone.addresses = revoked() as never
    else zone.addresses[0] = revoked() as never
    const error = thrown(() => createRedis(options as never))
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', details: { option: path } })
  })
})
