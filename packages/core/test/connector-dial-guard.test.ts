import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { Socket } from 'node:net'
import {
  type ConnectorOptions,
  createConnector,
  type Dial,
  type Endpoint,
  type EndpointZone,
  PrivateLinkError,
} from '@privatelink/core'
import type { Resolver } from '@privatelink/dns'
import { describe, expect, it } from 'vitest'

// Issue 24, item 5: the connector dialled `zone.addresses` of any Endpoint unchecked (52.1.2.3:443
// from a hand-built Endpoint or a discovery answer with a public ENI address). The guard now
// decides on the address about to be dialled. The network here is an injected dial that records
// each address and never opens a real connection: a public address must never reach it.
const ENDPOINT_ID = 'vpce-0123456789abcdef0'
const zone = (letter: string, addresses: string[], extra: Partial<EndpointZone> = {}) => ({
  azName: `us-west-2${letter}`,
  azId: `usw2-az${'abc'.indexOf(letter) + 1}`,
  addresses,
  ...extra,
})
const endpointOf = (...zones: EndpointZone[]): Endpoint => ({
  id: ENDPOINT_ID,
  region: 'us-west-2',
  dnsName: `${ENDPOINT_ID}-abcdefgh.vpce-svc-0123456789abcdef0.us-west-2.vpce.amazonaws.com`,
  zones,
})
const ownZoneA = { source: 'options' as const, azId: 'usw2-az1', azName: 'us-west-2a' }

function recordingDial() {
  const dialled: string[] = []
  const dial: Dial = ({ host }) => {
    dialled.push(host)
    const socket = new Socket()
    process.nextTick(() => socket.emit('connect'))
    return socket
  }
  return { dial, dialled }
}

function connector(endpoint: Endpoint, options: Partial<ConnectorOptions> = {}) {
  const { dial, dialled } = recordingDial()
  const c = createConnector({
    endpoint,
    locality: ownZoneA,
    port: 443,
    dial,
    healthCheck: { intervalMs: 0 },
    probeIntervalMs: 0,
    ...options,
  })
  return { c, dialled }
}

async function failure(promise: Promise<unknown>): Promise<PrivateLinkError> {
  const error = await promise.then(
    () => expect.unreachable(),
    (e: unknown) => e,
  )
  if (!PrivateLinkError.isInstance(error)) throw error
  return error
}

describe('the connector decides on the address it is about to dial', () => {
  it('a public ENI address in the own zone is never dialled: the connect goes to the next zone, and health does not count it', async () => {
    const { c, dialled } = connector(
      endpointOf(zone('a', ['52.1.2.3']), zone('b', ['10.0.2.10']), zone('c', ['127.0.0.3'])),
    )
    try {
      for (let i = 0; i < 5; i++) (await c.connect()).destroy()
      expect(dialled).not.toContain('52.1.2.3')
      expect(dialled.length).toBe(5)
      // Configuration, not an outage: the zone is not ejected for it.
      expect(c.zones().find((z) => z.azName === 'us-west-2a')).toMatchObject({
        ejected: false,
        failures: 0,
      })
      // Health checks refuse it too, without counting it.
      const checked = await c.probe()
      expect(checked['us-west-2a']).toBe('ERR_ADDRESS_NOT_ALLOWED')
      expect(dialled).not.toContain('52.1.2.3')
      expect(c.zones().find((z) => z.azName === 'us-west-2a')?.probeFailures).toBe(0)
    } finally {
      c.close()
    }
  })

  it('every zone public: ERR_ADDRESS_NOT_ALLOWED naming the address, with a hint about ENI addresses and allowed ranges; nothing dialled', async () => {
    const blocked: unknown[] = []
    const listener = (message: unknown) => blocked.push(message)
    subscribe('privatelink:dns:blocked', listener)
    const { c, dialled } = connector(
      endpointOf(zone('a', ['52.1.2.3']), zone('b', ['52.1.2.4']), zone('c', ['0.0.0.0'])),
    )
    try {
      const error = await failure(c.connect())
      expect(error.code).toBe('ERR_ADDRESS_NOT_ALLOWED')
      expect(error.message).toMatch(/52\.1\.2\.3/)
      expect(error.hint).toMatch(/ENI addresses/)
      expect(error.hint).toMatch(/allowedRanges/)
      expect(error.details['attempts']).toEqual([
        {
          azName: 'us-west-2a',
          azId: 'usw2-az1',
          address: '52.1.2.3',
          port: 443,
          code: 'ERR_ADDRESS_NOT_ALLOWED',
        },
        {
          azName: 'us-west-2b',
          azId: 'usw2-az2',
          address: '52.1.2.4',
          port: 443,
          code: 'ERR_ADDRESS_NOT_ALLOWED',
        },
        {
          azName: 'us-west-2c',
          azId: 'usw2-az3',
          address: '0.0.0.0',
          port: 443,
          code: 'ERR_ADDRESS_NOT_ALLOWED',
        },
      ])
      expect(dialled).toEqual([])
      expect(blocked).toContainEqual({ hostname: '52.1.2.3', address: '52.1.2.3' })
    } finally {
      unsubscribe('privatelink:dns:blocked', listener)
      c.close()
    }
  })

  it("a zonal name's DNS answer is checked as well, whatever the resolver let through", async () => {
    // A resolver that lets anything through (privateOnly off, or not ours at all).
    const permissive = {
      resolve: async () => ({
        addresses: [{ address: '52.1.2.3', family: 4 as const, ttlMs: 60_000 }],
        expiresAt: Number.POSITIVE_INFINITY,
        source: 'network' as const,
      }),
    } as unknown as Resolver
    const named = endpointOf(
      zone('a', [], {
        dnsName: `${ENDPOINT_ID}-abcdefgh-us-west-2a.vpce-svc-0123456789abcdef0.us-west-2.vpce.amazonaws.com`,
      }),
    )
    const { c, dialled } = connector(named, { resolver: permissive })
    try {
      const error = await failure(c.connect())
      expect(error.code).toBe('ERR_ADDRESS_NOT_ALLOWED')
      expect(dialled).toEqual([])
    } finally {
      c.close()
    }
  })

  it("the lab's loopback, the private ranges, and a dual-stack zone's own subnets pass by default", async () => {
    const { c, dialled } = connector(
      endpointOf(
        zone('a', ['127.0.1.1']),
        zone('b', ['100.64.2.10', '172.31.2.10']),
        zone('c', ['2600:1f18:abcd:3::10'], { cidrs: ['10.0.3.0/24', '2600:1f18:abcd:3::/64'] }),
      ),
    )
    try {
      for (const onlyZone of ['us-west-2a', 'us-west-2b', 'us-west-2c'])
        (await c.connect({ onlyZone })).destroy()
      expect(dialled).toEqual(['127.0.1.1', '100.64.2.10', '2600:1f18:abcd:3::10'])
    } finally {
      c.close()
    }
  })

  it("a zone's cidrs do not vouch for another zone, and a wider-than-subnet cidr vouches for nothing", async () => {
    const { c, dialled } = connector(
      endpointOf(
        zone('a', ['52.1.2.3'], { cidrs: ['52.0.0.0/8'] }),
        zone('b', ['52.1.9.9'], { cidrs: ['52.1.2.0/24'] }),
      ),
    )
    try {
      const error = await failure(c.connect())
      expect(error.code).toBe('ERR_ADDRESS_NOT_ALLOWED')
      expect(dialled).toEqual([])
    } finally {
      c.close()
    }
  })

  it('allowedRanges widens or narrows the default, and is checked at construction', async () => {
    const { c, dialled } = connector(
      endpointOf(zone('a', ['52.1.2.3']), zone('b', ['10.0.2.10'])),
      {
        allowedRanges: ['52.1.2.0/24'],
      },
    )
    try {
      ;(await c.connect()).destroy()
      expect(dialled).toEqual(['52.1.2.3'])
      const error = await failure(c.connect({ onlyZone: 'us-west-2b' }))
      expect(error.code).toBe('ERR_ADDRESS_NOT_ALLOWED')
    } finally {
      c.close()
    }
    for (const allowedRanges of ['10.0.0.0/8', ['10.0.0.0/'], [5]]) {
      expect(() =>
        createConnector({
          endpoint: endpointOf(zone('a', ['10.0.1.10'])),
          locality: null,
          port: 443,
          allowedRanges: allowedRanges as never,
        }),
      ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }))
    }
  })
})
