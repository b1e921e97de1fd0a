import {
  createAddressGuard,
  createAddressMatcher,
  createResolver,
  guardedConnect,
  guardedLookup,
  integerOption,
  invalidOption,
  type LookupFunction,
  PrivateLinkError,
  parseCidr,
  sharedSecureContext,
} from '@privatelink/dns'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  expectTyped,
  expectTypedAsync,
  hostile,
  hostileOptions,
  revokedProxy,
  throwingGetter,
} from './hostile-values.js'

// Issue 24, items 9 and 10: bad input is ERR_INVALID_OPTION at the call, whatever it is.

function invalid(run: () => unknown): PrivateLinkError {
  try {
    run()
  } catch (error) {
    if (PrivateLinkError.isInstance(error) && error.code === 'ERR_INVALID_OPTION') return error
    throw error
  }
  throw new Error('expected ERR_INVALID_OPTION')
}

// Answers nothing and queries nothing: no test here sends a DNS query or opens a socket.
const noLookup: LookupFunction = ((_hostname: string, _options: unknown, callback: unknown) =>
  queueMicrotask(() =>
    (callback as (error: Error) => void)(
      Object.assign(new Error('no lookup in this test'), { code: 'ENOTFOUND' }),
    ),
  )) as LookupFunction

describe('bad options: ERR_INVALID_OPTION at the call, never a raw TypeError', () => {
  it('guardedConnect({ guard: {} }) and other guards that are not AddressGuards', () => {
    for (const guard of [{}, { allowedRanges: 'x' }, { allowedRanges: [], allows: 1 }, 'g']) {
      expect(invalid(() => guardedConnect({ guard: guard as never })).details).toMatchObject({
        option: 'guard',
      })
    }
  })

  it('guardedConnect({ timeoutMs: 2 ** 31 }) is refused, not a 1 ms timer (item 10)', () => {
    const error = invalid(() => guardedConnect({ timeoutMs: 2 ** 31 }))
    expect(error.details).toMatchObject({ option: 'timeoutMs', received: String(2 ** 31) })
    expect(error.message).toMatch(/2147483647/)
    expect(() => guardedConnect({ timeoutMs: 2 ** 31 - 1, lookup: noLookup })).not.toThrow()
  })

  it('guardedConnect({ keepAlive: "yes" })', () => {
    expect(invalid(() => guardedConnect({ keepAlive: 'yes' as never })).details.option).toBe(
      'keepAlive',
    )
  })

  it('createAddressMatcher(x) for anything that is not an array of CIDRs', () => {
    for (const ranges of [undefined, null, 5, 'x', {}, revokedProxy([])]) {
      expect(invalid(() => createAddressMatcher(ranges as never)).details.option).toBe(
        'allowedRanges',
      )
    }
  })

  it('a revoked Proxy in any option names the option', () => {
    expect(invalid(() => createResolver(revokedProxy() as never)).details.option).toBe('options')
    expect(
      invalid(() => createResolver({ servers: revokedProxy([]) as never })).details.option,
    ).toBe('options.servers')
    expect(
      invalid(() => guardedConnect({ tls: revokedProxy() as never, lookup: noLookup })).details
        .option,
    ).toBe('options.tls')
    expect(
      invalid(() => createAddressGuard({ allowedRanges: revokedProxy([]) as never })).details
        .option,
    ).toBe('options.allowedRanges')
    expect(
      invalid(() => createResolver({ clock: revokedProxy(() => 1) as never })).details,
    ).toEqual(expect.objectContaining({ option: 'options.clock' }))
  })

  it('a getter that throws is named too, and the error keeps what it threw as cause', () => {
    const error = invalid(() => createResolver(throwingGetter('timeoutMs') as never))
    expect(error.details.option).toBe('options.timeoutMs')
    expect((error.cause as Error).message).toBe('hostile getter')
  })

  it('the error for a revoked Proxy can itself be described, logged and serialised', () => {
    const error = invalidOption('x', 'a string', revokedProxy())
    expect(error.details.received).toMatch(/unreadable/)
    expect(() => JSON.stringify(error)).not.toThrow()
    expect(invalid(() => integerOption('timeoutMs', revokedProxy(), 1)).details.option).toBe(
      'timeoutMs',
    )
  })
})

describe('resolver.lookup and dns.lookup (item 14)', () => {
  const resolver = createResolver({ servers: ['127.0.0.1:9'], timeoutMs: 50, tries: 1 })
  const lookupAll = (hostname: string, options: object) =>
    new Promise((resolve, reject) =>
      resolver.lookup(hostname, { ...options, all: true }, (error, addresses) =>
        error ? reject(error) : resolve(addresses),
      ),
    )

  it('family 5 (or "IPv5") is ERR_INVALID_OPTION at the call, as dns.lookup throws', () => {
    for (const family of [5, -1, 'IPv5', 4.5, '4', null]) {
      expect(
        invalid(() => resolver.lookup('db.lab.test', { family } as never, () => {})).details.option,
      ).toBe('family')
    }
    for (const family of [5, -1, 4.5]) {
      expect(
        invalid(() => resolver.lookup('db.lab.test', family as never, () => {})).details.option,
      ).toBe('family')
    }
  })

  it('a lookup without a callback is ERR_INVALID_OPTION at the call', () => {
    expect(invalid(() => resolver.lookup('db.lab.test', {} as never)).details.option).toBe(
      'callback',
    )
  })

  it('localhost is answered with loopback, as dns.lookup answers it, without a query', async () => {
    expect(await lookupAll('localhost', {})).toEqual([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ])
    expect(await lookupAll('LOCALHOST.', { family: 4 })).toEqual([
      { address: '127.0.0.1', family: 4 },
    ])
    expect(await lookupAll('localhost', { family: 'IPv6' })).toEqual([
      { address: '::1', family: 6 },
    ])
    expect(resolver.stats().queriesSent).toBe(0)
    const one = await new Promise((resolve) =>
      resolver.lookup('localhost', (_error, address, family) => resolve([address, family])),
    )
    expect(one).toEqual(['127.0.0.1', 4])
  })

  it('errors keep their ERR_DNS_* code and carry errno, syscall and hostname as dns.lookup errors do', async () => {
    const error = (await lookupAll('db.lab.test', {}).catch((e: unknown) => e)) as Record<
      string,
      unknown
    >
    expect(PrivateLinkError.isInstance(error)).toBe(true)
    expect(error['code']).toMatch(/^ERR_DNS_/)
    // Nothing listens on 127.0.0.1:9: a timeout, or a refused query; both are EAI_AGAIN.
    expect(error).toMatchObject({ errno: -3001, syscall: 'getaddrinfo', hostname: 'db.lab.test' })
    const bad = (await lookupAll('a b', {}).catch((e: unknown) => e)) as Record<string, unknown>
    expect(bad).toMatchObject({
      code: 'ERR_DNS_INVALID_NAME',
      errno: -3008,
      syscall: 'getaddrinfo',
    })
  })
})

describe('fast-check: hostile values in every option of every public factory', () => {
  const runs = { numRuns: 150 }

  it('createResolver', () => {
    const keys = [
      'servers',
      'timeoutMs',
      'tries',
      'timeoutTtlMs',
      'resolutionDelayMs',
      'minTtlMs',
      'maxTtlMs',
      'staleTtlMs',
      'negativeTtlMs',
      'maxEntries',
      'privateOnly',
      'allowedRanges',
      'family',
      'clock',
    ]
    fc.assert(
      fc.property(hostileOptions(keys), (options) => {
        expectTyped(() => createResolver(options() as never))
      }),
      runs,
    )
  })

  it('resolver.resolve and resolver.lookup', async () => {
    const resolver = createResolver({ servers: ['127.0.0.1:9'], timeoutMs: 20, tries: 1 })
    await fc.assert(
      fc.asyncProperty(
        hostile,
        hostileOptions(['family', 'all', 'order', 'verbatim']),
        async (hostname, options) => {
          await expectTypedAsync(() => resolver.resolve(hostname() as never, options() as never))
          const lookupOptions = options()
          // A function there is the callback, as for dns.lookup: not an option.
          if (typeof lookupOptions === 'function') return
          await expectTypedAsync(
            () =>
              new Promise<void>((resolve, reject) => {
                resolver.lookup(hostname() as never, lookupOptions as never, (error: unknown) =>
                  error === null || PrivateLinkError.isInstance(error) ? resolve() : reject(error),
                )
              }),
          )
        },
      ),
      { numRuns: 60 },
    )
  })

  it('createAddressGuard, createAddressMatcher, parseCidr, sharedSecureContext', () => {
    fc.assert(
      fc.property(hostileOptions(['allowedRanges']), hostile, (options, value) => {
        expectTyped(() => createAddressGuard(options() as never))
        expectTyped(() => createAddressMatcher(value() as never))
        expectTyped(() => parseCidr(value()))
        expectTyped(() => sharedSecureContext(value() as never))
      }),
      runs,
    )
  })

  it('guardedConnect, and the connector it returns', () => {
    const keys = ['allowedRanges', 'guard', 'lookup', 'tls', 'timeoutMs', 'keepAlive']
    const connect = guardedConnect({ lookup: noLookup, allowedRanges: ['127.0.0.9/32'] })
    fc.assert(
      fc.property(
        hostileOptions(keys),
        hostileOptions([
          'hostname',
          'port',
          'protocol',
          'host',
          'servername',
          'localAddress',
          'httpSocket',
        ]),
        (options, request) => {
          expectTyped(() => guardedConnect(options() as never))
          // Requests: what undici passes, hostile. A typed error at the call or in the callback.
          expectTyped(() =>
            connect(request() as never, (_error, socket) => {
              socket?.destroy()
            }),
          )
        },
      ),
      runs,
    )
  })

  it('guardedLookup', () => {
    const guard = createAddressGuard()
    fc.assert(
      fc.property(hostile, hostile, (lookup, guardValue) => {
        expectTyped(() => guardedLookup(lookup() as never, guard))
        expectTyped(() => guardedLookup(noLookup, guardValue() as never))
      }),
      runs,
    )
  })
})
