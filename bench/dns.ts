import { promises as dns } from 'node:dns'
import { createResolver } from '@privatelink/dns'
import { startDnsServer } from '@privatelink/lab'
import CacheableLookup from 'cacheable-lookup'
import { type Measurement, sideBySide, table } from './measure.js'

const NAME = 'db.privatelink.bench'

/** Cached lookups: @privatelink/dns vs cacheable-lookup vs dns.promises.lookup, one process, one server. */
export async function dnsBench(
  operations = 100_000,
): Promise<{ results: Measurement[]; markdown: string }> {
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
    const results = await sideBySide(
      {
        '@privatelink/dns lookup()': viaCallback(resolver.lookup as never),
        '@privatelink/dns resolve()': async (n) => {
          for (let i = 0; i < n; i++) await resolver.resolve(NAME)
        },
        'cacheable-lookup lookup()': viaCallback(cacheable.lookup as never),
      },
      operations,
    )
    const uncached = await sideBySide(
      {
        'dns.promises.lookup (uncached, getaddrinfo of localhost)': async (n) => {
          for (let i = 0; i < n; i++) await dns.lookup('localhost', { family: 4 })
        },
      },
      Math.max(1, Math.floor(operations / 50)),
      1,
    )
    const all = [...results, ...uncached]
    const reference = results.find((r) => r.name.startsWith('cacheable'))!
    const markdown = table(
      all.map((r) => ({
        variant: r.name,
        'lookups/s': r.opsPerSecond.toLocaleString('en-US'),
        'CPU µs/lookup': r.cpuMicrosPerOp,
        'vs cacheable-lookup (CPU)': `${(reference.cpuMicrosPerOp / r.cpuMicrosPerOp).toFixed(2)}x`,
      })),
    )
    return { results: all, markdown }
  } finally {
    await server.close()
  }
}
