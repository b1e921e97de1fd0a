import { dnsErrorHints, PrivateLinkError } from '@privatelink/dns'

/**
 * One failed or overtaken attempt of a connect. A connect that fails in every zone lists them in
 * its error's `details.attempts` (ERR_ENDPOINT_UNREACHABLE, or the ERR_DNS_* / ERR_TLS_* code every
 * zone shared), in the order they ended.
 */
export interface AttemptReport {
  /** The zone's AZ name in the endpoint owner's account, e.g. `us-east-1a`. */
  azName: string
  /** The zone's AZ ID, e.g. `use1-az4`, when the endpoint knows it. */
  azId?: string
  /**
   * The IP address dialled; for a zone without addresses, its zonal DNS name (resolved at each
   * attempt); empty when the zone has neither.
   */
  address: string
  /** The port dialled: the listener port, or the zone's `portMap` entry for it. */
  port: number
  /** Error code, or 'slow' when another zone won while this one was still connecting. */
  code: string
}

// Attempts that say nothing about the zone: overtaken by a faster zone, or cancelled by us (an
// attempt abandoned when its zone was ejected meanwhile).
const NEUTRAL = new Set(['slow', 'cancelled', 'ABORT_ERR'])

const dialRefusalHint =
  "An interface endpoint's ENI addresses are private addresses in your VPC's subnets: these are not. Use discoverEndpoint " +
  "or endpointFromConfig for this VPC's endpoint; if the addresses really are the endpoint's (a VPC with a non-RFC 1918 " +
  "IPv4 range), put the subnets' CIDRs in each zone's `cidrs` or in the connector's `allowedRanges`."

const tlsTimeoutHint =
  'TCP connected but TLS did not complete: check that the service speaks TLS on this port (a plaintext server, ' +
  "such as a local redis-server or PostgreSQL, needs TLS off, or the lab's TLS front in front of it), that " +
  'servername is the name on its certificate, and that this is the TLS port (e.g. 6379 with TLS on ElastiCache, ' +
  'not a plaintext port). A server that answered with bytes that are not TLS shows them in details.bytesReceived.'

const tlsHints: Record<string, string> = {
  ERR_TLS_NAME_MISMATCH:
    'The certificate is checked against the service name, not the vpce DNS name you dial. Set servername to the name on the certificate.',
  ERR_TLS_UNTRUSTED:
    'Pass the CA that issued the certificate as `ca`, and check the system clock for CERT_NOT_YET_VALID / CERT_HAS_EXPIRED.',
  ERR_TLS_HANDSHAKE:
    'Check that the service expects TLS on this port and that the NLB listener is TCP (TLS passes through) or TLS with a certificate for this name.',
  ERR_TLS_HANDSHAKE_TIMEOUT: tlsTimeoutHint,
}

/**
 * A TLS handshake that did not complete in time over a TCP connection that did: the service is
 * alive but does not speak TLS there (a plaintext server), or the zone hangs. Retryable in
 * another zone, unlike a certificate error.
 */
export function tlsTimeoutError(
  servername: string,
  timeoutMs: number,
  bytesReceived: number,
): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_TLS_HANDSHAKE_TIMEOUT',
    `TLS handshake with ${servername} did not complete within ${timeoutMs} ms (TCP connected; ${bytesReceived} bytes received)`,
    { hint: tlsTimeoutHint, details: { servername, timeoutMs, bytesReceived } },
  )
}

/** Whether an attempt's code is a timeout (TCP connect, or a TLS handshake over a connected socket). */
export const isTimeoutCode = (code: string): boolean =>
  code === 'ETIMEDOUT' || code === 'ERR_TLS_HANDSHAKE_TIMEOUT'

/**
 * Every zone failed. When every zone failed the same way before or after the network (DNS, TLS),
 * that error is the answer and its hint points the right way; ERR_ENDPOINT_UNREACHABLE (with the
 * security-group checklist) is kept for zones that could not be reached.
 */
export function unreachableError(
  endpointId: string,
  port: number,
  attempts: AttemptReport[],
): PrivateLinkError {
  const summary = attempts.map((a) => `${a.azName} ${a.address}:${a.port} ${a.code}`).join('; ')
  const details = { endpointId, port, attempts: attempts.map((a) => ({ ...a })) }
  const telling = attempts.filter((a) => !NEUTRAL.has(a.code))
  const codes = new Set(telling.map((a) => a.code))
  const shared = codes.size === 1 ? [...codes][0] : undefined
  if (shared === 'ERR_ADDRESS_NOT_ALLOWED') {
    return new PrivateLinkError(
      shared,
      `Refused to dial ${endpointId} on port ${port}: no zone has an address inside the allowed ranges (${summary})`,
      { hint: dialRefusalHint, details },
    )
  }
  if (shared !== undefined && /^ERR_(?:DNS|TLS)_/.test(shared)) {
    const hint =
      dnsErrorHints[shared] ??
      tlsHints[shared] ??
      'Every zone failed with this error before any traffic reached the service.'
    const stage = /^ERR_DNS_/.test(shared) ? 'resolve' : 'complete TLS with'
    return new PrivateLinkError(
      shared,
      `Could not ${stage} ${endpointId} on port ${port} in any zone: every zone failed with ${shared} (${summary})`,
      { hint, details },
    )
  }
  const [first] = telling
  if (first !== undefined && telling.every((a) => /^ERR_DNS_/.test(a.code))) {
    return new PrivateLinkError(
      first.code,
      `Could not resolve ${endpointId} in any zone (${summary})`,
      { hint: dnsErrorHints[first.code] ?? dnsErrorHints['ERR_DNS_FAILED'] ?? '', details },
    )
  }
  return new PrivateLinkError(
    'ERR_ENDPOINT_UNREACHABLE',
    `Could not connect to ${endpointId} on port ${port} in any zone (${summary || 'no zones'})`,
    {
      hint:
        'Check, in order: the endpoint is "available" (describe-vpc-endpoints); its security group allows inbound TCP on this port from this client; ' +
        "the client's security group and network ACLs allow the traffic out and back; the provider's NLB has a healthy target in each zone " +
        '(cross-zone load balancing is off by default, so an ENI in a zone without a healthy target refuses or times out); ' +
        'and the NLB listener uses this port.',
      details,
    },
  )
}

export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : 'UNKNOWN'
}

/** Maps Node's TLS verification errors to ours, naming the expected and the presented names. */
export function tlsError(
  error: unknown,
  servername: string,
  presented: string | undefined,
): PrivateLinkError {
  const code = errorCode(error)
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new PrivateLinkError(
      'ERR_TLS_NAME_MISMATCH',
      `The server's certificate is not valid for ${servername} (it names ${presented ?? 'nothing'})`,
      {
        hint:
          'The certificate is checked against the service name, not the vpce DNS name you dial. Set servername to the name on the certificate ' +
          '(for RDS Proxy: the proxy endpoint; for a SaaS API: its private DNS name), and make sure this endpoint leads to that service.',
        details: { expected: servername, presented: presented ?? null, cause: code },
        cause: error,
      },
    )
  }
  if (code.startsWith('ERR_TLS') || /CERT|SIGNATURE|ISSUER|SELF_SIGNED/.test(code)) {
    return new PrivateLinkError(
      'ERR_TLS_UNTRUSTED',
      `The server's certificate for ${servername} could not be verified (${code})`,
      {
        hint: 'Pass the CA that issued the certificate as `ca` (RDS Proxy and API Gateway chain to Amazon Trust Services roots, already in Node; a private CA needs its bundle). Check the system clock for CERT_NOT_YET_VALID / CERT_HAS_EXPIRED.',
        details: { servername, cause: code },
        cause: error,
      },
    )
  }
  return new PrivateLinkError(
    'ERR_TLS_HANDSHAKE',
    `TLS handshake with ${servername} failed (${code})`,
    {
      hint: 'Check that the service expects TLS on this port and that the NLB listener is TCP (TLS passes through) or TLS with a certificate for this name.',
      details: { servername, cause: code },
      cause: error,
    },
  )
}
