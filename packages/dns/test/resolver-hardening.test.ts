import { createResolver, PrivateLinkError, type ResolverOptions } from '@privatelink/dns'
import { type LabDnsServer, startDnsServer } from '@privatelink/lab'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type DroppingProxy, startDroppingProxy } from './dropping-proxy.js'

// Issue 18, items 4-7, 10 and 11: each test failed on the resolver before the fix.

let dns: LabDnsServer
let proxy: DroppingProxy
let now: number
const clock = () => now

beforeAll(async () => {
  dns = await startDnsServer()
  proxy = await startDroppingProxy(dns)
})
afterAll(async () => {
  await proxy.close()
  await dns.close()
})
beforeEach(() => {
  now = 1_000_000
  dns.restore()
  proxy.drop.clear()
  dns.set('db.lab.test', { a: ['10.0.1.10'], aaaa: ['fd00::10'], ttl: 60 })
  // A dual-stack VPC: the endpoint ENI's IPv6 address is global unicast from the VPC's /56.
  dns.set('dual.lab.test', { a: ['10.0.1.10'], aaaa: ['2600:1f18:1:100::10'], ttl: 60 })
})

const make = (options: ResolverOptions = {}) =>
  createResolver({ servers: [dns.address], clock, ...options })

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable(),
    (error: unknown) => {
      expect(PrivateLinkError.isInstance(error)).toBe(true)
      return error as PrivateLinkError
    },
  )

describe('dual stack (item 4)', () => {
  it('family 0 with default ranges uses the private A records when AAAA is global unicast', async () => {
    const resolution = await make().resolve('dual.lab.test')
    expect(resolution.addresses.map((a) => a.address)).toEqual(['10.0.1.10'])
    // Asking for IPv6 only still refuses: nothing is allowed there.
    const refused = await failure(make().resolve('dual.lab.test', { family: 6 }))
    expect(refused.code).toBe('ERR_DNS_NOT_PRIVATE')
    expect(refused.message).toMatch(/not a private address/)
  })

  it('with the subnet CIDRs allowed, both families come back', async () => {
    const resolver = make({ allowedRanges: ['10.0.1.0/24', '2600:1f18:1:100::/64'] })
    const resolution = await resolver.resolve('dual.lab.test')
    expect(resolution.addresses.map((a) => a.address).sort()).toEqual([
      '10.0.1.10',
      '2600:1f18:1:100::10',
    ])
  })

  it('every family refused: the refusal, worded for custom ranges (item 10)', async () => {
    const resolver = make({ allowedRanges: ['10.9.0.0/16'] })
    const refused = await failure(resolver.resolve('db.lab.test'))
    expect(refused.code).toBe('ERR_DNS_NOT_PRIVATE')
    expect(refused.message).toContain('outside the allowed ranges (10.9.0.0/16)')
    expect(refused.message).not.toMatch(/not a private address/)
    expect(refused.hint).toMatch(/allowedRanges/)
  })
})

describe('a server that drops AAAA (items 5 and 7)', () => {
  it('answers from A within the resolution delay, remembers the timeout, and retries after timeoutTtlMs', async () => {
    const resolver = createResolver({
      servers: [proxy.address],
      clock,
      timeoutMs: 200,
      tries: 2,
      timeoutTtlMs: 5_000,
    })
    proxy.drop.add('AAAA')
    let started = performance.now()
    const first = await resolver.resolve('db.lab.test')
    const firstMs = performance.now() - started
    expect(first.addresses.map((a) => a.address)).toEqual(['10.0.1.10'])
    expect(firstMs).toBeLessThan(300) // not the 400 ms deadline, let alone c-ares' 3-4 s

    // The AAAA query is still out; it fails at the documented deadline and is remembered.
    const aaaa = await failure(resolver.resolve('db.lab.test', { family: 6 }))
    expect(aaaa.code).toBe('ERR_DNS_TIMEOUT')
    expect(aaaa.details).toMatchObject({ deadlineMs: 400 })
    const aaaaQueries = proxy.count('AAAA')

    // A cached, AAAA known to time out: no wait at all, and no new AAAA query.
    started = performance.now()
    expect((await resolver.resolve('db.lab.test')).source).toBe('cache')
    expect(performance.now() - started).toBeLessThan(40)
    expect(proxy.count('AAAA')).toBe(aaaaQueries)

    // After timeoutTtlMs the resolver asks again (and the AAAA answer arrives once allowed).
    now += 5_000
    proxy.drop.clear()
    const both = await resolver.resolve('db.lab.test')
    expect(proxy.count('AAAA')).toBeGreaterThan(aaaaQueries)
    expect(both.addresses.map((a) => a.address)).toEqual(['10.0.1.10', 'fd00::10'])
  })

  it('a silent server fails within timeoutMs x tries, the documented budget', async () => {
    dns.override('*', 'silent')
    const resolver = make({ timeoutMs: 250, tries: 2 })
    const started = performance.now()
    const error = await failure(resolver.resolve('db.lab.test'))
    const elapsed = performance.now() - started
    expect(error.code).toBe('ERR_DNS_TIMEOUT')
    expect(error.message).toContain('after 500 ms')
    expect(elapsed).toBeGreaterThanOrEqual(490)
    expect(elapsed).toBeLessThan(700) // c-ares alone: 750-1000 ms here
  })
})

describe('large answers (item 6)', () => {
  it('caches an answer of more than 256 records with a finite expiry', async () => {
    const addresses = Array.from({ length: 300 }, (_, i) => `10.1.${i >> 8}.${i & 255}`)
    dns.set('huge.lab.test', { a: addresses, ttl: 30 })
    const resolver = make({ family: 4 })
    const first = await resolver.resolve('huge.lab.test')
    expect(first.addresses).toHaveLength(300)
    expect(first.expiresAt).toBe(now + 30_000)
    const second = await resolver.resolve('huge.lab.test')
    expect(second.source).toBe('cache')
    expect(dns.queryCount({ name: 'huge.lab.test', type: 'A' })).toBe(2) // UDP, then TCP: one query
  })
})

describe('hostnames (item 11)', () => {
  it.each([
    ['db\\.lab.test', /label/],
    ['a..lab.test', /empty label/],
    ['.lab.test', /empty label/],
    ['db lab.test', /label/],
    ['-db.lab.test', /label/],
    [`${'a'.repeat(64)}.lab.test`, /label/],
    ['', /empty/],
    ['fe80::1%eth0', /zone/],
  ])('refuses %j before any query', async (name, why) => {
    const before = dns.queries.length
    const error = await failure(make().resolve(name))
    expect(error.code).toBe('ERR_DNS_INVALID_NAME')
    expect(error.message).toMatch(why)
    expect(dns.queries.length).toBe(before)
  })

  it('names non-string input without a raw TypeError', async () => {
    const circular: Record<string, unknown> = {}
    circular['self'] = circular
    const throwing = {
      toString() {
        throw new Error('no')
      },
    }
    for (const value of [10n, circular, throwing, undefined, 42]) {
      const error = await failure(make().resolve(value as unknown as string))
      expect(error.code).toBe('ERR_DNS_INVALID_NAME')
    }
    const lookupError = await new Promise((resolve) =>
      make().lookup('bad\\name', (error: unknown) => resolve(error)),
    )
    expect(lookupError).toMatchObject({ code: 'ERR_DNS_INVALID_NAME' })
  })
})
