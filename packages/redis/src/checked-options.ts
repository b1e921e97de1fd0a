import { checkOptions } from '@privatelink/core'

/**
 * How far the walk looks: `failover[0].endpoint.zones[0].addresses[0]`, the deepest option read,
 * is seven levels under the options.
 */
const SETTINGS = { depth: 7, relativePaths: true }

/**
 * Runs a factory with its options checked at the call by core's (dns's) shared walk: a value that
 * throws when read (a revoked Proxy, also inside a live Proxy or a class instance, or a getter
 * that throws) is ERR_INVALID_OPTION naming its path as the README names options
 * (`failover[0].endpoint.zones[0]`), before anything runs; any other non-PrivateLinkError the
 * factory throws while reading them is ERR_INVALID_OPTION too (the original as `cause`), never a
 * raw TypeError later, from a reconnect or a TLS handshake.
 */
export function withCheckedOptions<T>(options: unknown, build: () => T): T {
  return checkOptions('options', options, build, SETTINGS)
}
