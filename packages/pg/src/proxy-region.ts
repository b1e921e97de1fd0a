// RDS Proxy endpoint names: `<name>.proxy-<id>.<region>.rds.amazonaws.com` (and `.com.cn`), custom
// proxy endpoints `<endpoint>.endpoint.proxy-<id>.<region>...`.
const PROXY_NAME = /\.proxy-[a-z0-9]+\.([a-z]{2}(?:-[a-z]+)+-\d+)\.rds\.amazonaws\.com(?:\.cn)?$/

/**
 * The region an RDS Proxy endpoint name carries, if it is one. Tokens are verified by the proxy
 * in its own region, so for a cross-region endpoint dialled by a vpce name (which names the
 * consumer's region) this is the region to sign for.
 */
export function proxyHostRegion(proxyHost: string): string | undefined {
  return PROXY_NAME.exec(proxyHost.toLowerCase())?.[1]
}
