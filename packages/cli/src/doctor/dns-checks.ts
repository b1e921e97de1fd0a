import type { Endpoint } from '@privatelink/core'
import {
  createAddressMatcher,
  createResolver,
  DEFAULT_ALLOWED_RANGES,
  PrivateLinkError,
  type Resolver,
} from '@privatelink/dns'
import type { Target } from '../target.js'
import type { CheckLog, CheckResult } from './check.js'

/** The names a client of this endpoint resolves: the one asked about, private DNS, regional. */
export function namesToCheck(endpoint: Endpoint, target: Target): string[] {
  const names: string[] = []
  if (target.kind === 'dns-name' || target.kind === 'endpoint-dns-name') names.push(target.name)
  if (endpoint.privateDnsName !== undefined && !endpoint.privateDnsName.startsWith('*'))
    names.push(endpoint.privateDnsName)
  names.push(endpoint.dnsName)
  return [...new Set(names)]
}

const PUBLIC_FIX =
  'This resolver does not answer with the endpoint: run from inside the VPC or pass --dns with the VPC resolver (VPC CIDR base +2), check that the DHCP option set uses AmazonProvidedDNS, and that private DNS is enabled on the endpoint. Traffic to a public address leaves the VPC.'
const FOREIGN_FIX =
  'Something else answers for this name in this VPC: check the Route 53 private hosted zones associated with the VPC, and that no other endpoint has private DNS for this service.'

export function dnsResolver(servers: string[] | undefined): Resolver {
  // privateOnly off: doctor must see what a public answer is, where the guard would only refuse.
  return createResolver({
    ...(servers ? { servers } : {}),
    privateOnly: false,
    timeoutMs: 1000,
    tries: 2,
  })
}

/** How a name's resolution went: what the hosted-zone check and the explanations read. */
export type NameKind = 'ok' | 'partial' | 'public' | 'foreign' | 'not-found' | 'error'

/** One name's resolution, before it is logged. */
export interface NameOutcome {
  name: string
  kind: NameKind
  result: Omit<CheckResult, 'durationMs'>
  started: number
}

/** Why a name did not resolve to the endpoint, with what fixes it (see hosted-zone-checks.ts). */
export interface NameExplanation {
  explanation: string
  commands: string[]
}

/**
 * `dns <name>`, resolved: every answer must be one of the endpoint's ENI addresses (so private:
 * ENIs get VPC addresses, dual-stack ones too), and the regional name should answer every zone.
 * Resolved together; logged by {@link logNames} once the hosted zones are known.
 */
export async function resolveNames(
  resolver: Resolver,
  endpoint: Endpoint,
  names: string[],
  via: string,
): Promise<NameOutcome[]> {
  const zoneByAddress = new Map<string, string>()
  for (const zone of endpoint.zones)
    for (const address of zone.addresses) zoneByAddress.set(address, zone.azName)
  const isPrivate = createAddressMatcher(DEFAULT_ALLOWED_RANGES)
  return Promise.all(
    names.map(async (name): Promise<NameOutcome> => {
      const started = performance.now()
      const done = (kind: NameKind, result: NameOutcome['result']): NameOutcome => ({
        name,
        kind,
        result,
        started,
      })
      const base = { id: 'dns.resolve', title: 'dns', name }
      let addresses: { address: string; family: 4 | 6; ttlMs: number }[]
      try {
        addresses = (await resolver.resolve(name)).addresses
      } catch (error) {
        if (!PrivateLinkError.isInstance(error)) throw error
        return done(error.code === 'ERR_DNS_NOT_FOUND' ? 'not-found' : 'error', {
          ...base,
          status: 'fail',
          seen: `${name} via ${via}: ${error.message}`,
          fix: error.hint,
        })
      }
      const foreign = addresses.filter((a) => !zoneByAddress.has(a.address))
      const ttl =
        addresses.length > 0
          ? ` (ttl ${Math.round(Math.min(...addresses.map((a) => a.ttlMs)) / 1000)} s)`
          : ''
      if (foreign.length > 0) {
        const publicOnes = foreign.filter((a) => !isPrivate(a.address, a.family))
        const list = foreign.map((a) => a.address).join(', ')
        return publicOnes.length > 0
          ? done('public', {
              ...base,
              status: 'fail',
              seen: `${name} via ${via} -> ${list}: public, not the endpoint's addresses`,
              fix: PUBLIC_FIX,
            })
          : done('foreign', {
              ...base,
              status: 'fail',
              seen: `${name} via ${via} -> ${list}: private, but not an address of ${endpoint.id}`,
              fix: FOREIGN_FIX,
            })
      }
      const answered = addresses
        .map((a) => `${a.address} (${zoneByAddress.get(a.address)})`)
        .join(', ')
      const missing = endpoint.zones.filter(
        (z) => !z.addresses.some((address) => addresses.some((a) => a.address === address)),
      )
      if (missing.length > 0 && name !== endpoint.zones.find((z) => z.dnsName === name)?.dnsName) {
        return done('partial', {
          ...base,
          status: 'warn',
          seen: `${name} via ${via} -> ${answered || 'no address'}${ttl}; missing ${missing.map((z) => z.azName).join(', ')}`,
          fix: 'The answer leaves zones out: check the private hosted zone records (an alias to the regional vpce name answers every zone).',
        })
      }
      return done('ok', {
        ...base,
        status: 'pass',
        seen: `${name} via ${via} -> ${answered}${ttl}`,
      })
    }),
  )
}

/**
 * Logs the `dns` lines in order. A name that failed is explained, when the checks before found
 * why (a hosted zone, private DNS, a VPC attribute), by that cause and its commands instead of
 * the resolver's generic hint.
 */
export function logNames(
  log: CheckLog,
  outcomes: NameOutcome[],
  explain: (outcome: NameOutcome) => NameExplanation | undefined = () => undefined,
): void {
  for (const outcome of outcomes) {
    const explained = outcome.kind === 'ok' ? undefined : explain(outcome)
    log.add(
      explained === undefined
        ? outcome.result
        : {
            ...outcome.result,
            fix: `Explained by ${explained.explanation}.`,
            commands: explained.commands,
          },
      outcome.started,
    )
  }
}
