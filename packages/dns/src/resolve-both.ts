import { PrivateLinkError } from './errors.js'
import type { ResolutionSource, ResolvedAddress } from './resolver.js'

/** One family's answer, before the two are merged. */
export interface FamilyResult {
  /** Addresses of this family (may be empty: NODATA). */
  addresses: ResolvedAddress[]
  /** Clock time when the answer expires. */
  expiresAt: number
  /** Where the answer came from. */
  source: ResolutionSource
}

type Settled = { ok: true; value: FamilyResult } | { ok: false; error: unknown }

/**
 * Both families, Happy Eyeballs style (RFC 8305 section 3): once one family has addresses, the
 * other gets `resolutionDelayMs` more, then the lookup answers with what it has. A family the
 * guard refused is dropped when the other has allowed addresses (a dual-stack endpoint whose
 * IPv6 addresses are outside the ranges still works over IPv4).
 */
export async function resolveBoth(
  resolveFamily: (hostname: string, family: 4 | 6) => Promise<FamilyResult>,
  hostname: string,
  resolutionDelayMs: number,
): Promise<FamilyResult> {
  const settled = await settleBoth(resolveFamily, hostname, resolutionDelayMs)
  const results = settled.flatMap((s) => (s?.ok === true ? [s.value] : []))
  const failures = settled.flatMap((s) => (s?.ok === false ? [s.error] : []))
  const addresses = results.flatMap((r) => r.addresses)
  if (addresses.length === 0 && failures.length > 0) {
    const codeOf = (e: unknown) => (PrivateLinkError.isInstance(e) ? e.code : 'UNKNOWN')
    // The guard's refusal first; then anything that explains more than "not found".
    throw (
      failures.find((e) => codeOf(e) === 'ERR_DNS_NOT_PRIVATE') ??
      failures.find((e) => codeOf(e) !== 'ERR_DNS_NOT_FOUND') ??
      failures[0]
    )
  }
  const withAddresses = results.filter((r) => r.addresses.length > 0)
  const sources = new Set(results.map((r) => r.source))
  return {
    addresses,
    expiresAt: Math.min(
      ...(withAddresses.length > 0 ? withAddresses : results).map((r) => r.expiresAt),
    ),
    source: sources.has('stale') ? 'stale' : sources.has('network') ? 'network' : 'cache',
  }
}

/** Waits for both families, or for the delay after the first one with addresses. */
function settleBoth(
  resolveFamily: (hostname: string, family: 4 | 6) => Promise<FamilyResult>,
  hostname: string,
  resolutionDelayMs: number,
): Promise<(Settled | undefined)[]> {
  const settled: (Settled | undefined)[] = [undefined, undefined]
  return new Promise((done) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const check = () => {
      if (settled[0] !== undefined && settled[1] !== undefined) {
        clearTimeout(timer)
        done(settled)
      } else if (
        timer === undefined &&
        settled.some((s) => s?.ok === true && s.value.addresses.length > 0)
      ) {
        timer = setTimeout(() => done(settled), resolutionDelayMs)
      }
    }
    ;([4, 6] as const).forEach((family, index) => {
      resolveFamily(hostname, family).then(
        (value) => {
          settled[index] = { ok: true, value }
          check()
        },
        (error: unknown) => {
          settled[index] = { ok: false, error }
          check()
        },
      )
    })
  })
}
