import { describeValue } from '@privatelink/base'
import { PrivateLinkError } from './errors.js'
import { redactUrlCredentials } from './redact-url.js'

/**
 * dns.lookup's errno for each of our codes (libuv's getaddrinfo codes, the same on every
 * platform): EAI_NONAME (-3008, code ENOTFOUND there) when the name has no usable address,
 * EAI_AGAIN (-3001) when the server did not answer. `util.getSystemErrorName(errno)` gives the
 * name for callers that checked dns.lookup's codes.
 */
const LOOKUP_ERRNO: Readonly<Record<string, number>> = {
  ERR_DNS_NOT_FOUND: -3008,
  ERR_DNS_NOT_PRIVATE: -3008,
  ERR_DNS_INVALID_NAME: -3008,
  ERR_DNS_TIMEOUT: -3001,
  ERR_DNS_SERVFAIL: -3001,
  ERR_DNS_FAILED: -3001,
}

/** Adds dns.lookup's errno, syscall and hostname to one of our DNS errors; the code stays ours. */
function asLookupError(error: PrivateLinkError, hostname: string): PrivateLinkError {
  return Object.assign(error, {
    errno: LOOKUP_ERRNO[error.code] ?? -3008,
    syscall: 'getaddrinfo',
    hostname,
  })
}

const outsideVpcHint =
  'Check that the endpoint has private DNS enabled, that the VPC has enableDnsSupport and ' +
  'enableDnsHostnames on, that no custom DHCP option set replaces the Amazon-provided resolver, ' +
  'and that this code runs inside a VPC associated with the endpoint (a Lambda function must be ' +
  'attached to the VPC).'

export function notPrivateError(
  hostname: string,
  address: string,
  allowedRanges: readonly string[],
  customRanges = false,
): PrivateLinkError {
  // With ranges of the user's own, "not private" would point the wrong way: 10.0.0.5 is private,
  // it is just not in the ranges they allowed.
  const what = customRanges
    ? `outside the allowed ranges (${allowedRanges.join(', ')})`
    : 'not a private address'
  const subject =
    hostname === address ? `${address} is` : `${hostname} resolved to ${address}, which is`
  const error = new PrivateLinkError(
    'ERR_DNS_NOT_PRIVATE',
    `${subject} ${what}; refusing to connect`,
    {
      hint: customRanges
        ? `Check allowedRanges: ${address} is not in them. If this address is the endpoint's, add its subnet's CIDR. ${outsideVpcHint}`
        : `A public answer means traffic would leave the AWS network. ${outsideVpcHint} If this range is yours, add it to allowedRanges.`,
      details: { hostname, address, allowedRanges: [...allowedRanges] },
    },
  )
  return asLookupError(error, hostname)
}

/** The hint each DNS code carries, for callers that only kept the code (the connector's attempts). */
export const dnsErrorHints: Readonly<Record<string, string>> = Object.freeze({
  ERR_DNS_NOT_PRIVATE: `A public answer means traffic would leave the AWS network. ${outsideVpcHint} If this range is yours, add it to allowedRanges.`,
  ERR_DNS_NOT_FOUND: `Check the name for typos. For an endpoint's private DNS name: ${outsideVpcHint} For a Route 53 private hosted zone: is it associated with this VPC, and does it hold an A or alias record?`,
  ERR_DNS_TIMEOUT:
    'Check that the resolver is reachable: outbound UDP and TCP port 53 to the VPC resolver (VPC CIDR base + 2) must be allowed by security groups and network ACLs, and the DHCP option set must point at it.',
  ERR_DNS_SERVFAIL:
    'The resolver answered SERVFAIL: check Route 53 Resolver rules and forwarding targets for this domain, and DNSSEC validation if enabled.',
  ERR_DNS_FAILED: 'Check the configured DNS servers and that port 53 to them is open.',
  ERR_DNS_INVALID_NAME:
    'Pass a DNS name (letters, digits, "-" and "_" in dot-separated labels of 1-63 characters) or an IP literal.',
})

export function invalidHostname(input: unknown, why: string): PrivateLinkError {
  const error = new PrivateLinkError(
    'ERR_DNS_INVALID_NAME',
    `Invalid hostname ${describeInput(input)}: ${why}`,
    {
      hint: dnsErrorHints['ERR_DNS_INVALID_NAME']!,
      details: { hostname: describeInput(input), reason: why },
    },
  )
  return asLookupError(
    error,
    typeof input === 'string' ? redactUrlCredentials(input) : describeInput(input),
  )
}

/**
 * A short, printable description of any input (base's describeValue, cut at 100 characters):
 * never throws, and a URL's credentials are redacted (a connection string passed as a hostname).
 */
export function describeInput(input: unknown): string {
  return describeValue(input, 100)
}

/** Maps a c-ares error to our codes. */
export function resolutionError(
  hostname: string,
  servers: readonly string[],
  cause: unknown,
  deadlineMs?: number,
): PrivateLinkError {
  return asLookupError(caresError(hostname, servers, cause, deadlineMs), hostname)
}

function caresError(
  hostname: string,
  servers: readonly string[],
  cause: unknown,
  deadlineMs?: number,
): PrivateLinkError {
  const code = (cause as { code?: unknown } | undefined)?.code
  const details = {
    hostname,
    servers: [...servers],
    cause: typeof code === 'string' ? code : 'UNKNOWN',
  }
  switch (code) {
    case 'ENOTFOUND':
    case 'ENODATA':
      return new PrivateLinkError('ERR_DNS_NOT_FOUND', `${hostname} has no address records`, {
        hint: dnsErrorHints['ERR_DNS_NOT_FOUND']!,
        details,
        cause,
      })
    case 'ETIMEOUT':
      return new PrivateLinkError(
        'ERR_DNS_TIMEOUT',
        `DNS query for ${hostname} timed out${deadlineMs === undefined ? '' : ` after ${deadlineMs} ms`}`,
        {
          hint: dnsErrorHints['ERR_DNS_TIMEOUT']!,
          details: deadlineMs === undefined ? details : { ...details, deadlineMs },
          cause,
        },
      )
    case 'ESERVFAIL':
      return new PrivateLinkError(
        'ERR_DNS_SERVFAIL',
        `DNS server failed to answer for ${hostname}`,
        { hint: dnsErrorHints['ERR_DNS_SERVFAIL']!, details, cause },
      )
    default:
      return new PrivateLinkError(
        'ERR_DNS_FAILED',
        `DNS resolution of ${hostname} failed (${details.cause})`,
        { hint: dnsErrorHints['ERR_DNS_FAILED']!, details, cause },
      )
  }
}
