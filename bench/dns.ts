import { promises as dns } from 'node:dns'
import { createResolver } from '@privatelink/dns'
import { startDnsServer } from '@privatelink/lab'
import CacheableLookup from 'cacheable-lookup'
import { type Comparison, compare, comparisonTable } from './measure.js'

const NAME = 'db.privatelink.bench'
const CACHEABLE = 'cacheable-lookup lookup() (raw)'
const UNCACHED = 'dns.promises.lookup, no cache (getaddrinfo of localhost)'

/**
 * Cached lookups: @privatelink/dns vs cacheable-lookup, both against the lab's DNS server, plus
 * Node's uncached dns.promises.lookup for scale (getaddrinfo cannot be pointed at a test server,
 * so it resolves localhost from /etc/hosts; run with 1/50 of the operations, figures per lookup).
 */
export async function dnsBench(options: { quick?: boolean } = {}): Promise<{
  comparison: Comparison
  markdown: string
}> {
  const server = await startDnsServer({
    records: { [NAME]: { a: ['10.0.1.10', '10.0.2.10'], ttl: 300 } },
  })
  try {
    const resolver = createResolver({ servers: [server.address], family: 4 })
    const systemResolver = new dns.Resolver()
    systemResolver.setServers([server.address])
    const cacheable = new CacheableLookup({ resolver: systemResolver as never, maxTtl: 300 })
    const viaCallback =
      (lookup: (name: string, options: object, callback: (error: unknown) => void) => void) =>
      (n: number) =>
        new Promise<void>((resolve, reject) => {
          let left = n
          const next = () => {
            if (left-- === 0) return resolve()
            lookup(NAME, { family: 4 }, (error) => (error ? reject(error) : next()))
          }
          next()
        })
    // Warm both caches with one real query each.
    await resolver.resolve(NAME)
    await cacheable.lookupAsync(NAME, { family: 4 })
    const comparison = await compare(
      'Cached DNS lookups, one at a time',
      'lookup',
      {
        [CACHEABLE]: viaCallback(cacheable.lookup as never),
        '@privatelink/dns lookup()': viaCallback(resolver.lookup as never),
        '@privatelink/dns resolve()': async (n) => {
          for (let i = 0; i < n; i++) await resolver.resolve(NAME)
        },
        [UNCACHED]: async (n) => {
          for (let i = 0; i < n; i++) await dns.lookup('localhost', { family: 4 })
        },
      },
      { operations: options.quick ? 20_000 : 100_000, scale: { [UNCACHED]: 1 / 50 } },
    )
    return { comparison, markdown: comparisonTable(comparison) }
  } finally {
    await server.close()
  }
}
