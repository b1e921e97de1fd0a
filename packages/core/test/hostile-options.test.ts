import { Socket } from 'node:net'
import {
  createConnector,
  createEndpointDiscovery,
  createEndpointGuard,
  createTokenCache,
  type Dial,
  detectLocality,
  discoverEndpoint,
  type Endpoint,
  endpointAllowedRanges,
  endpointFromConfig,
  endpointFromEnv,
  endpointsFromEnv,
  findOwnZone,
  localityFromEnv,
  orderZones,
  PrivateLinkError,
  parseEndpointDnsName,
  parseServiceName,
  zonalDnsName,
} from '@privatelink/core'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import {
  expectTyped,
  expectTypedAsync,
  hostile,
  hostileOptions,
  revokedProxy,
  throwingGetter,
} from '../../dns/test/hostile-values.js'

// Issue 24, item 9: bad input is ERR_INVALID_OPTION at the call, never a raw TypeError, in every
// public factory of core. Nothing here opens a socket: the dial is injected and never connects.
const ENDPOINT_ID = 'vpce-0123456789abcdef0'
const endpoint: Endpoint = {
  id: ENDPOINT_ID,
  region: 'us-west-2',
  dnsName: `${ENDPOINT_ID}-abcdefgh.vpce-svc-0123456789abcdef0.us-west-2.vpce.amazonaws.com`,
  zones: [
    { azName: 'us-west-2a', azId: 'usw2-az1', addresses: ['10.0.1.10'] },
    { azName: 'us-west-2b', azId: 'usw2-az2', addresses: ['10.0.2.10'] },
  ],
}
// Refuses every connect on the next tick: a connect that passes validation fails typed.
const refusingDial: Dial = () => {
  const socket = new Socket()
  process.nextTick(() =>
    socket.destroy(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })),
  )
  return socket
}
const base = {
  endpoint,
  port: 443,
  locality: null,
  dial: refusingDial,
  healthCheck: { intervalMs: 0 },
  probeIntervalMs: 0,
}
const made: { close(): void }[] = []
afterEach(() => {
  for (const connector of made.splice(0)) connector.close()
})

/** The defaults with the hostile fields over them; the hostile value itself when it cannot be spread. */
function withDefaults(defaults: object, given: unknown): unknown {
  try {
    return typeof given === 'object' && given !== null && !Array.isArray(given)
      ? { ...defaults, ...given }
      : given
  } catch {
    return given
  }
}

function invalid(run: () => unknown): PrivateLinkError {
  let thrown: unknown
  try {
    run()
  } catch (error) {
    thrown = error
  }
  if (PrivateLinkError.isInstance(thrown) && thrown.code === 'ERR_INVALID_OPTION') return thrown
  throw thrown ?? new Error('expected ERR_INVALID_OPTION')
}

async function rejectsInvalid(promise: () => Promise<unknown>): Promise<PrivateLinkError> {
  const error = await Promise.resolve()
    .then(promise)
    .then(
      () => expect.unreachable(),
      (e: unknown) => e,
    )
  if (PrivateLinkError.isInstance(error) && error.code === 'ERR_INVALID_OPTION') return error
  throw error
}

describe('the findings, one by one', () => {
  it('endpointFromEnv(Symbol()) and other selections that are not strings', () => {
    for (const select of [Symbol('x'), 5, {}, revokedProxy()]) {
      expect(invalid(() => endpointFromEnv(select as never, {})).details.option).toBe('select')
    }
    expect(invalid(() => endpointFromEnv('x', revokedProxy() as never)).details.option).toBe('env')
    expect(invalid(() => endpointsFromEnv(5 as never)).details.option).toBe('env')
  })

  it('endpointAllowedRanges and createEndpointGuard with junk zones', () => {
    const junk = [
      { ...endpoint, zones: [null] },
      { ...endpoint, zones: [{ azName: 'us-west-2a', addresses: 'x' }] },
      { ...endpoint, zones: [{ azName: 'us-west-2a', addresses: [5] }] },
      { ...endpoint, zones: [{ azName: 'us-west-2a', addresses: [], cidrs: 'x' }] },
      { ...endpoint, zones: [{ azName: 5, addresses: [] }] },
      { ...endpoint, zones: revokedProxy([]) },
      { ...endpoint, zones: [revokedProxy()] },
    ]
    for (const value of junk) {
      expect(invalid(() => endpointAllowedRanges(value as never)).details.option).toMatch(
        /^endpoint/,
      )
      expect(invalid(() => createEndpointGuard(value as never)).details.option).toMatch(/^endpoint/)
    }
  })

  it('createConnector with junk zones, a junk locality or resolver', () => {
    expect(
      invalid(() =>
        createConnector({ ...base, endpoint: { ...endpoint, zones: [{ azName: 'a' }] } as never }),
      ).details.option,
    ).toMatch(/^endpoint\.zones\[0\]/)
    expect(
      invalid(() => createConnector({ ...base, locality: { azId: 5 } as never })).details.option,
    ).toMatch(/^locality/)
    expect(invalid(() => createConnector({ ...base, resolver: {} as never })).details.option).toBe(
      'resolver',
    )
    // A zone with neither addresses nor a DNS name cannot be dialled at all.
    expect(
      invalid(() =>
        createConnector({
          ...base,
          endpoint: { ...endpoint, zones: [{ azName: 'us-west-2a', addresses: [] }] },
        }),
      ).details.option,
    ).toBe('endpoint.zones[0]')
  })

  it('any option holding a revoked Proxy names it', () => {
    expect(invalid(() => createConnector(revokedProxy() as never)).details.option).toBe('options')
    for (const key of ['tls', 'ejection', 'healthCheck', 'endpoint', 'dial', 'clock', 'resolver']) {
      expect(
        invalid(() => createConnector({ ...base, [key]: revokedProxy() } as never)).details.option,
        key,
      ).toBe(`options.${key}`)
    }
    expect(
      invalid(() => createConnector({ ...base, ejection: throwingGetter('baseMs') } as never))
        .details.option,
    ).toBe('options.ejection.baseMs')
  })

  it('connect() options: a revoked Proxy, a signal that is not an AbortSignal', async () => {
    const connector = createConnector(base)
    made.push(connector)
    expect(
      (await rejectsInvalid(() => connector.connect(revokedProxy() as never))).details.option,
    ).toBe('connect(options)')
    expect(
      (await rejectsInvalid(() => connector.connect({ signal: {} as never }))).details.option,
    ).toBe('signal')
    expect((await rejectsInvalid(() => connector.connect({ port: 2 ** 31 }))).details.option).toBe(
      'port',
    )
  })

  it('detectLocality({ signal: {} }) rejects at the call; nothing is left to throw later', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (error: unknown) => unhandled.push(error)
    process.on('uncaughtException', onUnhandled)
    process.on('unhandledRejection', onUnhandled)
    try {
      const env = { ECS_CONTAINER_METADATA_URI_V4: 'http://127.0.0.1:9/v4' }
      for (const signal of [{}, 'abort', revokedProxy()]) {
        expect(
          (await rejectsInvalid(() => detectLocality({ signal: signal as never, env }))).details
            .option,
        ).toMatch(/signal/)
      }
      expect((await rejectsInvalid(() => detectLocality({ env: 5 as never }))).details.option).toBe(
        'env',
      )
      expect(
        (await rejectsInvalid(() => detectLocality({ azId: 5 as never }))).details.option,
      ).toBe('azId')
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(unhandled).toEqual([])
    } finally {
      process.off('uncaughtException', onUnhandled)
      process.off('unhandledRejection', onUnhandled)
    }
  })
})

describe('fast-check: hostile values in every option of every public factory of core', () => {
  const runs = { numRuns: 120 }

  it('createConnector', () => {
    const keys = [
      'endpoint',
      'locality',
      'port',
      'tls',
      'profile',
      'attemptDelayMs',
      'connectTimeoutMs',
      'tlsTimeoutMs',
      'ejection',
      'healthCheck',
      'resolver',
      'clock',
      'dial',
      'probeIntervalMs',
      'allowedRanges',
    ]
    fc.assert(
      fc.property(hostileOptions(keys), (options) => {
        const merged = withDefaults(base, options())
        const result = expectTyped(() => createConnector(merged as never))
        if (!PrivateLinkError.isInstance(result)) made.push(result as { close(): void })
      }),
      runs,
    )
  })

  it('createConnector: hostile values one level down (endpoint, zones, tls, ejection, healthCheck)', () => {
    const zoneKeys = ['azName', 'azId', 'dnsName', 'addresses', 'cidrs', 'portMap']
    fc.assert(
      fc.property(
        hostileOptions(zoneKeys),
        hostileOptions(['servername', 'rejectUnauthorized', 'dangerouslySkipVerification', 'ca']),
        hostileOptions(['baseMs', 'maxMs', 'consecutiveFailures', 'maxEjectedPercent', 'decayMs']),
        hostileOptions(['intervalMs', 'timeoutMs', 'unhealthyThreshold', 'handshake']),
        hostileOptions(['id', 'region', 'serviceRegion', 'dnsName']),
        (zone, tls, ejection, healthCheck, endpointFields) => {
          const fields = withDefaults(endpoint, endpointFields())
          const options = {
            ...base,
            endpoint: withDefaults(
              typeof fields === 'object' && fields !== null ? fields : endpoint,
              { zones: [endpoint.zones[0], zone()] },
            ),
            tls: tls(),
            ejection: ejection(),
            healthCheck: healthCheck(),
          }
          const result = expectTyped(() => createConnector(options as never))
          if (!PrivateLinkError.isInstance(result)) made.push(result as { close(): void })
        },
      ),
      runs,
    )
  })

  it('connector.connect, connector.report and connector.undici', async () => {
    const connector = createConnector({ ...base, connectTimeoutMs: 50 })
    made.push(connector)
    const keys = ['port', 'signal', 'preferZone', 'onlyZone', 'target', 'tls', 'upgrade']
    await fc.assert(
      fc.asyncProperty(hostileOptions(keys), hostile, hostile, async (options, zone, signal) => {
        await expectTypedAsync(() => connector.connect(options() as never))
        expectTyped(() => connector.report(zone() as never, signal() as never))
        await expectTypedAsync(
          () =>
            new Promise<void>((resolve, reject) =>
              connector.undici(options() as never, (error, socket) => {
                socket?.destroy()
                if (error === null || PrivateLinkError.isInstance(error)) resolve()
                else reject(error)
              }),
            ),
        )
      }),
      { numRuns: 60 },
    )
  })

  it('endpointFromConfig, endpointsFromEnv, endpointFromEnv', () => {
    const configKeys = ['id', 'region', 'serviceRegion', 'serviceName', 'dnsName', 'zones']
    fc.assert(
      fc.property(
        hostileOptions(configKeys),
        hostileOptions(['allowedRanges']),
        hostile,
        hostile,
        (config, options, select, env) => {
          expectTyped(() => endpointFromConfig(config() as never, options() as never))
          expectTyped(() => endpointsFromEnv(env() as never, options() as never))
          expectTyped(() => endpointFromEnv(select() as never, env() as never, options() as never))
          expectTyped(() =>
            endpointFromEnv(select() as never, { PRIVATELINK_ENDPOINTS: JSON.stringify(endpoint) }),
          )
        },
      ),
      runs,
    )
  })

  it('endpointAllowedRanges, createEndpointGuard, findOwnZone, orderZones, localityFromEnv', () => {
    fc.assert(
      fc.property(hostile, hostileOptions(['subnetCidrs']), hostile, (value, options, other) => {
        expectTyped(() => endpointAllowedRanges(value() as never, options() as never))
        expectTyped(() => createEndpointGuard(value() as never, options() as never))
        expectTyped(() => findOwnZone(value() as never, other() as never))
        expectTyped(() => orderZones(value() as never, other() as never, other() as never))
        expectTyped(() => localityFromEnv(value() as never))
      }),
      runs,
    )
  })

  it('parseServiceName, parseEndpointDnsName, zonalDnsName', () => {
    fc.assert(
      fc.property(hostile, hostile, (value, other) => {
        expectTyped(() => parseServiceName(value() as never))
        expectTyped(() => parseEndpointDnsName(value() as never))
        expectTyped(() => zonalDnsName(value() as never, other() as never))
        expectTyped(() => zonalDnsName(endpoint.dnsName, value() as never))
      }),
      runs,
    )
  })

  it('detectLocality', async () => {
    // Every metadata source off: nothing is asked over the network.
    const env = { AWS_EC2_METADATA_DISABLED: 'true' }
    const keys = ['azId', 'azName', 'region', 'timeoutMs', 'signal', 'fetch']
    await fc.assert(
      fc.asyncProperty(hostileOptions(keys), async (options) => {
        const merged = withDefaults({ env }, options())
        await expectTypedAsync(() => detectLocality(merged as never))
      }),
      runs,
    )
  })

  it('createEndpointDiscovery and discoverEndpoint (no query is ever valid: nothing reaches EC2)', async () => {
    const keys = [
      'endpointId',
      'serviceName',
      'vpcId',
      'region',
      'credentials',
      'ec2ClientConfig',
      'client',
    ]
    await fc.assert(
      fc.asyncProperty(
        hostileOptions(['cacheTtlMs', 'clock']),
        hostileOptions(keys),
        async (options, query) => {
          const discovery = expectTyped(() => createEndpointDiscovery(options() as never))
          if (!PrivateLinkError.isInstance(discovery))
            await expectTypedAsync(() =>
              (discovery as ReturnType<typeof createEndpointDiscovery>).discover(query() as never),
            )
          await expectTypedAsync(() => discoverEndpoint(query() as never))
        },
      ),
      { numRuns: 80 },
    )
  })

  it('createTokenCache (the engine adapters build token providers on)', () => {
    const keys = [
      'sign',
      'credentials',
      'loadDefaultCredentials',
      'clock',
      'refreshMarginMs',
      'checkFresh',
      'signingError',
      'onSigned',
      'onRefreshFailed',
    ]
    fc.assert(
      fc.property(hostileOptions(keys), (options) => {
        expectTyped(() => createTokenCache(options() as never))
      }),
      runs,
    )
  })
})
