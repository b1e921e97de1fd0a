import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { createConnector, type PrivateLinkError } from '@privatelink/core'
import { createEndpointDispatcher, type EndpointDispatcherOptions } from '@privatelink/http'
import { createTestCa, type Lab, startLab } from '@privatelink/lab'
import { Agent, fetch, getGlobalDispatcher, request, setGlobalDispatcher, stream } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { startHttpsTarget, type Target } from './https-target.js'

const API = 'api.saas.example.com'
let lab: Lab
let target: Target
let now = 5_000_000
let caPem: string

beforeAll(async () => {
  const ca = await createTestCa()
  caPem = ca.certificatePem
  target = await startHttpsTarget(ca, [API])
  lab = await startLab({
    clock: () => now,
    privateDnsName: API,
    services: [{ name: 'api', port: 443, target: { host: '127.0.0.1', port: target.port } }],
  })
})
afterAll(async () => {
  await lab.close()
  await target.close()
})
afterEach(async () => {
  target.onBody = undefined
  for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).restore()
})

const ca = () => caPem
const dispatcherFor = (options: Partial<EndpointDispatcherOptions> = {}) =>
  createEndpointDispatcher({
    endpoint: lab.endpoint,
    locality: { source: 'options', azId: 'usw2-az1' },
    ca: ca(),
    clock: () => now,
    attemptDelayMs: 50,
    ...options,
  })
const accepted = (zone: string) => lab.zone(zone).stats()['api']!.accepted

describe('createEndpointDispatcher', () => {
  it('works with fetch, request, stream and setGlobalDispatcher; Host and SNI stay the service name', async () => {
    const dispatcher = dispatcherFor()
    try {
      const viaFetch = await fetch(`https://${API}/v1/orders`, { dispatcher })
      expect(await viaFetch.json()).toMatchObject({ host: API, path: '/v1/orders' })
      const viaRequest = await request(`https://${API}/v1/items`, { dispatcher })
      expect(await viaRequest.body.json()).toMatchObject({ host: API })
      const chunks: Buffer[] = []
      await stream(
        `https://${API}/v1/stream`,
        { dispatcher, method: 'GET', opaque: null },
        () =>
          new Writable({
            write(chunk, _encoding, done) {
              chunks.push(chunk)
              done()
            },
          }),
      )
      expect(JSON.parse(Buffer.concat(chunks).toString())).toMatchObject({ path: '/v1/stream' })
      const previous = getGlobalDispatcher()
      setGlobalDispatcher(dispatcher)
      try {
        expect((await request(`https://${API}/global`)).statusCode).toBe(200)
      } finally {
        setGlobalDispatcher(previous)
      }
    } finally {
      await dispatcher.close()
    }
  })

  it("core's connector.undici plugs straight into a plain undici Agent", async () => {
    const connector = createConnector({
      endpoint: lab.endpoint,
      locality: { source: 'options', azId: 'usw2-az3' },
      port: 443,
      tls: { servername: API, ca: ca() },
    })
    const agent = new Agent({ connect: connector.undici })
    const before = accepted('us-west-2c')
    const response = await request(`https://${API}/plain-agent`, { dispatcher: agent })
    expect(await response.body.json()).toMatchObject({ host: API, path: '/plain-agent' })
    expect(accepted('us-west-2c')).toBe(before + 1)
    await agent.close()
  })

  it('reaches the service through each zone, own zone first', async () => {
    for (const zone of lab.endpoint.zones) {
      const dispatcher = dispatcherFor({ locality: { source: 'options', azId: zone.azId! } })
      const before = accepted(zone.azName)
      const response = await request(`https://${API}/zone`, { dispatcher })
      expect(response.statusCode).toBe(200)
      await response.body.dump()
      expect(accepted(zone.azName)).toBe(before + 1)
      await dispatcher.close()
    }
  })

  it("an ejected zone's idle sockets close; re-admitted, it is preferred again", async () => {
    const dispatcher = dispatcherFor({
      ejection: { baseMs: 10_000, maxMs: 10_000, consecutiveFailures: 1 },
    })
    const active = (zone: string) => lab.zone(zone).stats()['api']!.active
    await Promise.all(
      Array.from({ length: 4 }, async () =>
        (await request(`https://${API}/warm`, { dispatcher })).body.dump(),
      ),
    )
    expect(active('us-west-2a')).toBeGreaterThan(0)
    dispatcher.connector.report('us-west-2a', 'lost-in-flight', 'ECONNRESET')
    await vi.waitFor(() => expect(active('us-west-2a')).toBe(0), { timeout: 2_000, interval: 10 })
    await (await request(`https://${API}/elsewhere`, { dispatcher })).body.dump()
    expect(active('us-west-2a')).toBe(0)
    now += 10_000
    const before = accepted('us-west-2a')
    await (await request(`https://${API}/back`, { dispatcher })).body.dump()
    expect(accepted('us-west-2a')).toBe(before + 1)
    await dispatcher.close()
  })

  it('refuses an origin that is not pinned, unless passthrough is set', async () => {
    const dispatcher = dispatcherFor()
    const error = await request('https://example.com/', { dispatcher }).catch(
      (e: PrivateLinkError) => e,
    )
    expect(error).toMatchObject({
      code: 'ERR_ORIGIN_NOT_PINNED',
      details: { origin: 'https://example.com' },
    })
    const viaFetch = await fetch('https://example.com/', { dispatcher }).catch((e: TypeError) => e)
    expect((viaFetch as TypeError).cause).toMatchObject({ code: 'ERR_ORIGIN_NOT_PINNED' })
    await dispatcher.close()

    const plain = createServer((_req, res) => res.end('public path'))
    plain.listen(0, '127.0.0.1')
    await once(plain, 'listening')
    const passthrough = dispatcherFor({ passthrough: true })
    try {
      const response = await request(`http://127.0.0.1:${(plain.address() as AddressInfo).port}/`, {
        dispatcher: passthrough,
      })
      expect(await response.body.text()).toBe('public path')
    } finally {
      await passthrough.close()
      plain.close()
    }
  })

  it('a certificate for another name fails with the typed error, naming both names', async () => {
    const dispatcher = dispatcherFor({ origins: ['orders.saas.example.com'] })
    const error = (await request('https://orders.saas.example.com/', { dispatcher }).catch(
      (e) => e,
    )) as PrivateLinkError
    expect(error.code).toBe('ERR_TLS_NAME_MISMATCH')
    expect(error.details).toMatchObject({
      expected: 'orders.saas.example.com',
      presented: `DNS:${API}`,
    })
    await dispatcher.close()
  })

  it('a POST whose body was sent before a reset is not replayed', async () => {
    const dispatcher = dispatcherFor()
    target.onBody = async (method) => {
      if (method === 'POST') await lab.zone('us-west-2a').fail('reset')
    }
    const before = target.counts.get('POST /v1/payments') ?? 0
    const error = (await request(`https://${API}/v1/payments`, {
      dispatcher,
      method: 'POST',
      body: '{"amount":1}',
    }).catch((e) => e)) as PrivateLinkError
    expect(error.code).toBe('ERR_CONNECTION_LOST')
    expect(error.message).toMatch(/not retried/)
    expect(error.details).toMatchObject({ method: 'POST', target: `https://${API}/v1/payments` })
    expect(target.counts.get('POST /v1/payments')! - before).toBe(1)
    await dispatcher.close()
  })

  it('retries an idempotent request on another zone when a response status says so', async () => {
    const dispatcher = dispatcherFor()
    const before = target.counts.get('GET /flaky') ?? 0
    const response = await request(`https://${API}/flaky`, {
      dispatcher,
      headers: { 'x-respond-status': '503' },
    })
    // Every zone answers 503 here: two retries, then the last answer reaches the caller.
    expect(response.statusCode).toBe(503)
    await response.body.dump()
    expect(target.counts.get('GET /flaky')! - before).toBe(3)
    await dispatcher.close()
  })

  it.each(['refuse', 'blackhole', 'hang', 'reset'] as const)(
    'own zone set to %s during 1,000 GETs at 16 concurrency: no failed request, then traffic returns',
    async (mode) => {
      const dispatcher = dispatcherFor({ ejection: { baseMs: 60_000, maxMs: 60_000 } })
      let done = 0
      let failed = 0
      const errors = new Map<string, number>()
      let faulted: Promise<void> | undefined
      const others = () => accepted('us-west-2b') + accepted('us-west-2c')
      const othersBefore = others()
      const worker = async () => {
        while (done < 1000) {
          done++
          if (done === 200) faulted = lab.zone('us-west-2a').fail(mode)
          try {
            const response = await request(`https://${API}/load`, { dispatcher })
            await response.body.dump()
            if (response.statusCode !== 200) failed++
          } catch (error) {
            failed++
            const code = String((error as { code?: string }).code)
            errors.set(code, (errors.get(code) ?? 0) + 1)
          }
        }
      }
      await Promise.all(Array.from({ length: 16 }, worker))
      await faulted
      expect({ failed, errors: Object.fromEntries(errors) }).toEqual({ failed: 0, errors: {} })
      // Refused zones keep their open keep-alive connections; every other fault moves traffic away.
      if (mode !== 'refuse') expect(others()).toBeGreaterThan(othersBefore)

      await lab.zone('us-west-2a').restore()
      now += 60_000
      const before = accepted('us-west-2a')
      const bytesBefore = lab.zone('us-west-2a').stats()['api']!.bytesIn
      for (let i = 0; i < 20; i++)
        await (await request(`https://${API}/after`, { dispatcher })).body.dump()
      expect(accepted('us-west-2a')).toBeGreaterThanOrEqual(mode === 'refuse' ? before : before + 1)
      expect(lab.zone('us-west-2a').stats()['api']!.bytesIn).toBeGreaterThan(bytesBefore)
      await dispatcher.close()
    },
    60_000,
  )
})

describe('options', () => {
  it.each([
    ['origins', { origins: [] }],
    ['servername', { servername: '' }],
    ['connections', { connections: -1 }],
    ['passthrough', { passthrough: 'yes' }],
    ['retry.maxRetries', { retry: { maxRetries: -1 } }],
    ['retry.statusCodes', { retry: { statusCodes: [999] } }],
    ['endpoint', { endpoint: { zones: [] } }],
  ])('rejects a bad %s', (option, bad) => {
    expect(() => dispatcherFor(bad as Partial<EndpointDispatcherOptions>)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        // The option, or a field of it (core names the endpoint's field that is wrong).
        details: expect.objectContaining({
          option: expect.stringMatching(new RegExp(`^${option.replace('.', '\\.')}(\\.|\\[|$)`)),
        }),
      }),
    )
  })
})
