import { rootCertificates } from 'node:tls'
import { type Connector, type Endpoint, invalidOption } from '@privatelink/core'

function defaultOrigins(endpoints: readonly Endpoint[]): string[] {
  const names = endpoints.flatMap((endpoint) => [
    endpoint.privateDnsName,
    endpoint.dnsName,
    ...endpoint.zones.map((z) => z.dnsName),
  ])
  return [...new Set(names.filter((n): n is string => typeof n === 'string'))]
}

/** Which hosts go to the endpoint and how their TLS is checked: read the same by dispatcher and agent. */
export interface TargetConfig {
  /** Pinned hostnames, lowercase. */
  origins: string[]
  servername: string | undefined
  /** Node's roots plus the extra CAs, or undefined for Node's default. */
  ca: string[] | undefined
}

/** `origins`, `servername` and `ca`, checked, with their defaults. */
export function targetOptions(
  options: {
    origins?: string[] | undefined
    servername?: string | undefined
    ca?: string | string[] | undefined
  },
  connector: Connector,
): TargetConfig {
  const origins =
    options.origins ?? defaultOrigins(connector.targets.map((target) => target.endpoint))
  if (
    !Array.isArray(origins) ||
    origins.length === 0 ||
    origins.some((o) => typeof o !== 'string' || o === '')
  ) {
    throw invalidOption('origins', 'a non-empty array of hostnames', origins)
  }
  const { servername, ca } = options
  if (servername !== undefined && (typeof servername !== 'string' || servername === ''))
    throw invalidOption('servername', 'a DNS name', servername)
  if (
    ca !== undefined &&
    (Array.isArray(ca)
      ? ca.some((pem) => typeof pem !== 'string' || pem === '')
      : typeof ca !== 'string' || ca === '')
  )
    throw invalidOption('ca', 'a PEM certificate string or an array of them', ca)
  return {
    origins: origins.map((o) => (o.includes('://') ? new URL(o).hostname : o).toLowerCase()),
    servername,
    // Extra CAs join Node's roots (Amazon Trust Services included), as documented. One array for
    // the client's life: core shares one secure context per bundle (parsing ~150 roots costs
    // ~20 ms per handshake otherwise).
    ca: ca === undefined ? undefined : [...rootCertificates, ...(Array.isArray(ca) ? ca : [ca])],
  }
}
