import dns, { type LookupAddress, type LookupOptions } from 'node:dns'
import type { Lab } from '@privatelink/lab'

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void

/**
 * The system resolver as a process inside the VPC sees it: getaddrinfo asks the VPC's Route 53
 * Resolver, which answers the endpoint's regional and private DNS names with every zone's
 * address "in random order" (Route 53, multivalue simple records). `dns.lookup` cannot be pointed
 * at another server, so for the lab's names only this stands in for it in this process: the
 * lab's DNS answer, shuffled as Route 53 shuffles it, all addresses when asked for all (Node's
 * `net` asks for all and tries them in turn, 250 ms each). Every client in the process (ours and
 * the baselines) meets the same resolver; every other name goes to the real `dns.lookup`.
 * Returns the function that puts the real one back.
 */
export function useLabResolver(lab: Lab, random: () => number = Math.random): () => void {
  const names = new Set(
    [lab.endpoint.dnsName, lab.endpoint.privateDnsName, ...lab.endpoint.zones.map((z) => z.dnsName)]
      .filter((name): name is string => name !== undefined)
      .map((name) => name.toLowerCase()),
  )
  const resolver = new dns.Resolver()
  resolver.setServers([lab.dns.address])
  const original = dns.lookup
  const lookup = (
    hostname: string,
    options: LookupOptions | number | LookupCallback,
    callback?: LookupCallback,
  ): void => {
    const done = (typeof options === 'function' ? options : callback) as LookupCallback
    const settings = typeof options === 'object' ? options : {}
    if (!names.has(hostname.toLowerCase())) {
      ;(original as (...args: unknown[]) => void)(hostname, options, callback)
      return
    }
    resolver.resolve4(hostname, (error, addresses) => {
      if (error !== null) return done(error, '')
      const shuffled = [...addresses]
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1))
        ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
      }
      if (settings.all === true)
        done(
          null,
          shuffled.map((address) => ({ address, family: 4 })),
        )
      else done(null, shuffled[0]!, 4)
    })
  }
  ;(dns as { lookup: unknown }).lookup = lookup
  return () => {
    ;(dns as { lookup: unknown }).lookup = original
  }
}
