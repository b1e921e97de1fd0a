import { PrivateLinkError } from './errors.js'

const outsideVpcHint =
  'Check that the endpoint has private DNS enabled, that the VPC has enableDnsSupport and ' +
  'enableDnsHostnames on, that no custom DHCP option set replaces the Amazon-provided resolver, ' +
  'and that this code runs inside a VPC associated with the endpoint (a Lambda function must be ' +
  'attached to the VPC).'

export function notPrivateError(
  hostname: string,
  address: string,
  allowedRanges: readonly string[],
): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_DNS_NOT_PRIVATE',
    `${hostname} resolved to ${address}, which is not a private address; refusing to connect`,
    {
      hint: `A public answer means traffic would leave the AWS network. ${outsideVpcHint} If this range is yours, add it to allowedRanges.`,
      details: { hostname, address, allowedRanges: [...allowedRanges] },
    },
  )
}

/** Maps a c-ares error to our codes. */
export function resolutionError(
  hostname: string,
  servers: readonly string[],
  cause: unknown,
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
        hint: `Check the name for typos. For an endpoint's private DNS name: ${outsideVpcHint} For a Route 53 private hosted zone: is it associated with this VPC, and does it hold an A or alias record?`,
        details,
        cause,
      })
    case 'ETIMEOUT':
      return new PrivateLinkError('ERR_DNS_TIMEOUT', `DNS query for ${hostname} timed out`, {
        hint: 'Check that the resolver is reachable: outbound UDP and TCP port 53 to the VPC resolver (VPC CIDR base + 2) must be allowed by security groups and network ACLs, and the DHCP option set must point at it.',
        details,
        cause,
      })
    case 'ESERVFAIL':
      return new PrivateLinkError(
        'ERR_DNS_SERVFAIL',
        `DNS server failed to answer for ${hostname}`,
        {
          hint: 'The resolver answered SERVFAIL: check Route 53 Resolver rules and forwarding targets for this domain, and DNSSEC validation if enabled.',
          details,
          cause,
        },
      )
    default:
      return new PrivateLinkError(
        'ERR_DNS_FAILED',
        `DNS resolution of ${hostname} failed (${details.cause})`,
        {
          hint: 'Check the configured DNS servers and that port 53 to them is open.',
          details,
          cause,
        },
      )
  }
}
