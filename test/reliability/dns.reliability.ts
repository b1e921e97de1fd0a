import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { createConnector, type Endpoint, PrivateLinkError } from '@privatelink/core'
import { createResolver } from '@privatelink/dns'
import { createEndpointDispatcher } from '@privatelink/http'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { captureError, captureObject } from './support/capture.js'
import { ownLocality } from './support/clients.js'
import { startDroppingRelay, TYPE } from './support/dns-wire.js'
import { API_HOST, type Stack, startStack } from './support/stack.js'
import { record } from './support/summary.js'

// Issue 15, DNS: the connector finds each zone by its zonal DNS name (the endpoint's zones carry no
// addresses), through @privatelink/dns against the lab's DNS server behind a relay that can drop
// AAAA. HTTPS load with a new connection per request (so every request resolves) while the server
// goes silent, answers SERVFAIL, drops AAAA, or answers a public address.
const PHASE_MS = Number(process.env['RELIABILITY_DNS_PHASE_MS'] ?? 1_500)
const PUBLIC = '52.94.133.131'

let stack: Stack
let relay: Awaited<ReturnType<typeof startDroppingRelay>>
beforeAll(async () => {
  stack = await startStack()
  relay = await startDroppingRelay(stack.lab.dns)
})
afterAll(async () => {
  await relay?.close()
  await stack?.close()
})

const clock = { now: 10_000_000 }
const channelLog = (name: string) => {
  const messages: unknown[] = []
  const listener = (message: unknown) => messages.push(message)
  subscribe(name, listener)
  return { messages, stop: () => unsubscribe(name, listener) }
}

/** The lab endpoint as a client that knows only DNS names would see it. */
const byName = (): Endpoint => ({
  ...stack.lab.endpoint,
  zones: stack.lab.endpoint.zones.map((zone) => ({ ...zone, addresses: [] })),
})

/** Every TCP connect the connector makes, by target host. */
function recordingDial() {
  const hosts: string[] = []
  return {
    hosts,
    dial: (options: { host: string; port: number }) => {
      hosts.push(options.host)
      return connect(options)
    },
  }
}

function client(timeoutMs = 200) {
  const resolver = createResolver({
    servers: [relay.address],
    allowedRanges: stack.lab.allowedRanges,
    clock: () => clock.now,
    timeoutMs,
    tries: 1,
  })
  const dial = recordingDial()
  const connector = createConnector({
    endpoint: byName(),
    port: 443,
    locality: ownLocality,
    resolver,
    dial: dial.dial,
    clock: () => clock.now,
    healthCheck: { intervalMs: 0 },
  })
  const dispatcher = createEndpointDispatcher({
    connector,
    ca: stack.lab.ca.certificatePem,
    origins: [API_HOST],
  })
  return { resolver, connector, dispatcher, dial }
}

/** 16 workers, one new connection per request, for `ms`. */
async function load(dispatcher: ReturnType<typeof client>['dispatcher'], ms: number) {
  const errors: unknown[] = []
  let ok = 0
  const until = performance.now() + ms
  await Promise.all(
    Array.from({ length: 16 }, async (_, worker) => {
      while (performance.now() < until) {
        try {
          const response = await request(`https://${API_HOST}/dns/${worker}`, {
            dispatcher,
            reset: true,
          })
          await response.body.dump()
          if (response.statusCode === 200) ok++
          else errors.push(new Error(`HTTP ${response.statusCode}`))
        } catch (error) {
          captureError(error)
          errors.push(error)
        }
      }
    }),
  )
  return { ok, errors }
}

const codes = (errors: unknown[]) =>
  errors.map((e) => (PrivateLinkError.isInstance(e) ? e.code : String((e as Error).message)))

/** Every code in an error's cause chain and its details.attempts. */
function chainCodes(error: unknown): string[] {
  const out: string[] = []
  const seen = new Set<unknown>()
  const walk = (value: unknown) => {
    if (value === null || typeof value !== 'object' || seen.has(value)) return
    seen.add(value)
    const e = value as { code?: unknown; cause?: unknown; details?: { attempts?: unknown[] } }
    if (typeof e.code === 'string') out.push(e.code)
    walk(e.cause)
    for (const attempt of e.details?.attempts ?? []) walk(attempt)
  }
  walk(error)
  return out
}

describe('DNS failures under load', () => {
  it('server silent, SERVFAIL, AAAA dropped: serve-stale and A answers keep every request working', async ({
    task,
  }) => {
    const { resolver, connector, dispatcher, dial } = client()
    const stale = channelLog('privatelink:dns:stale')
    const expireCache = () => {
      clock.now += 61_000 + stack.lab.endpoint.zones.length
    }
    const phases: { name: string; ok: number; errors: unknown[] }[] = []
    try {
      phases.push({ name: 'healthy', ...(await load(dispatcher, PHASE_MS)) })
      for (const [name, apply] of [
        ['server silent (timeouts)', () => stack.lab.dns.override('*', 'silent')],
        ['SERVFAIL', () => stack.lab.dns.override('*', 'servfail')],
        [
          'AAAA dropped',
          () => {
            stack.lab.dns.restore()
            relay.drop.add(TYPE.AAAA)
          },
        ],
      ] as const) {
        expireCache()
        apply()
        phases.push({ name, ...(await load(dispatcher, PHASE_MS)) })
      }
    } finally {
      stack.lab.dns.restore()
      relay.drop.clear()
      stale.stop()
      captureObject(resolver)
      captureObject(connector)
      await dispatcher.close()
      connector.close()
    }
    const failed = phases.flatMap((phase) => phase.errors)
    const outside = dial.hosts.filter((host) => !host.startsWith('127.'))
    record(task, {
      scenario: 'DNS: silent server, SERVFAIL, AAAA dropped (serve-stale)',
      load: phases.reduce((sum, phase) => sum + phase.ok, 0),
      faults: 3,
      badInputs: 0,
      failures: failed.length + outside.length,
      secrets: 0,
      notes: `${phases.map((p) => `${p.name} ${p.ok} ok`).join(', ')}; ${stale.messages.length} stale answers served; ${relay.dropped()} AAAA queries dropped; ${resolver.stats().hits} cache hits`,
    })
    expect(codes(failed)).toEqual([])
    expect(outside).toEqual([])
    expect(stale.messages.length).toBeGreaterThan(0)
    for (const phase of phases) expect(phase.ok).toBeGreaterThan(0)
  })

  it('a public answer is blocked before any connect, with a typed error', async ({ task }) => {
    const { connector, dispatcher, dial } = client()
    const blocked = channelLog('privatelink:dns:blocked')
    for (const zone of stack.lab.endpoint.zones)
      stack.lab.dns.override(zone.dnsName!, { a: [PUBLIC] })
    let result: Awaited<ReturnType<typeof load>>
    try {
      result = await load(dispatcher, 500)
    } finally {
      stack.lab.dns.restore()
      blocked.stop()
      await dispatcher.close()
      connector.close()
    }
    const untyped = result.errors.filter((e) => !PrivateLinkError.isInstance(e))
    const notBlocked = result.errors.filter((e) => !chainCodes(e).includes('ERR_DNS_NOT_PRIVATE'))
    const outside = dial.hosts.filter((host) => !host.startsWith('127.'))
    record(task, {
      scenario: 'DNS: public answer (blocked before any connect)',
      load: result.errors.length,
      faults: stack.lab.endpoint.zones.length,
      badInputs: 0,
      failures: result.ok + untyped.length + notBlocked.length + outside.length,
      secrets: 0,
      notes: `${result.errors.length} requests refused with ${[...new Set(codes(result.errors))].join(', ')}; ${blocked.messages.length} dns:blocked events; ${dial.hosts.length} connects made (${outside.length} outside loopback)`,
    })
    expect(result.ok).toBe(0)
    expect(result.errors.length).toBeGreaterThan(0)
    expect(untyped).toEqual([])
    expect(notBlocked).toEqual([])
    expect(outside).toEqual([])
    expect(dial.hosts).toEqual([])
    expect(blocked.messages.length).toBeGreaterThan(0)
  })

  it('no stale answer to fall back on: SERVFAIL and timeouts fail fast with typed errors', async ({
    task,
  }) => {
    const outcomes: string[] = []
    for (const behaviour of ['servfail', 'silent', 'nxdomain'] as const) {
      stack.lab.dns.override('*', behaviour)
      // Only the silent server needs a short timeout; the others answer at once, and a loaded
      // machine must not turn their answer into a timeout.
      const { resolver } = client(behaviour === 'silent' ? 150 : 2_000)
      const started = performance.now()
      const settled = await Promise.race([
        resolver.resolve(API_HOST).then(
          () => 'resolved',
          (error: unknown) => {
            captureError(error)
            return PrivateLinkError.isInstance(error) ? error.code : `untyped ${String(error)}`
          },
        ),
        sleep(5_000).then(() => 'hung'),
      ])
      outcomes.push(`${behaviour}: ${settled} in ${Math.round(performance.now() - started)} ms`)
      stack.lab.dns.restore()
    }
    record(task, {
      scenario: 'DNS: SERVFAIL, timeout, NXDOMAIN with nothing cached',
      load: 0,
      faults: 3,
      badInputs: 0,
      failures: outcomes.filter((o) => !/: ERR_DNS_(SERVFAIL|TIMEOUT|NOT_FOUND) /.test(o)).length,
      secrets: 0,
      notes: outcomes.join('; '),
    })
    expect(outcomes.map((o) => o.replace(/ in \d+ ms$/, ''))).toEqual([
      'servfail: ERR_DNS_SERVFAIL',
      'silent: ERR_DNS_TIMEOUT',
      'nxdomain: ERR_DNS_NOT_FOUND',
    ])
  })
})
