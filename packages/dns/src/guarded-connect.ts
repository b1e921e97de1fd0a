import { isIP, connect as netConnect, type Socket } from 'node:net'
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls'
import { type AddressGuard, createAddressGuard, guardedLookup } from './address-guard.js'
import { invalidOption } from './errors.js'
import type { LookupFunction } from './lookup.js'
import { createResolver } from './resolver.js'
import { sharedSecureContext } from './secure-context.js'

/** Options of `guardedConnect`. */
export interface GuardedConnectOptions {
  /** CIDRs a dialled address may fall in. @default RFC 1918, 100.64.0.0/10, fc00::/7 */
  allowedRanges?: string[]
  /** A ready guard (e.g. an endpoint's); `allowedRanges` is then ignored. @default createAddressGuard({ allowedRanges }) */
  guard?: AddressGuard
  /** Resolves names; every answer is checked again by the guard. @default createResolver({ allowedRanges }).lookup */
  lookup?: LookupFunction
  /** TLS options for `https:` (ca, cert, key, servername, minVersion, ...). @default {} (Node's roots) */
  tls?: ConnectionOptions
  /** TCP connect plus TLS handshake. @default 10000 */
  timeoutMs?: number
  /** TCP keep-alive on each socket, so a dead peer is noticed. @default true, with a 60 s initial delay */
  keepAlive?: boolean
}

/** What undici's `connect` function receives (the part we use). */
export interface ConnectRequest {
  /** Name or IP literal to dial; IPv6 may come bracketed (`[fd00::1]`). */
  hostname: string
  /** `name:port` as in the Host header; gives the TLS server name when dialling a literal. */
  host?: string | undefined
  /** `'https:'` dials TLS; anything else plain TCP. */
  protocol?: string | undefined
  /** TCP port; `''` (undici's value for a URL's default port) means 443 for `https:`, else 80. */
  port: number | string
  /** TLS server name (SNI) to send; wins over `tls.servername` and the `host` name. */
  servername?: string | null | undefined
  /** Local address to bind the socket to. */
  localAddress?: string | null | undefined
  /** An existing socket to run TLS over (undici passes it for a proxy tunnel). */
  httpSocket?: Socket
}

/** undici's connector callback: an error, or the connected socket. */
export type ConnectCallback = (...args: [null, Socket | TLSSocket] | [Error, null]) => void

/** The function `guardedConnect` returns: undici's `connect` shape, refusing any address outside the guard. */
export type GuardedConnector = (request: ConnectRequest, callback: ConnectCallback) => void

/**
 * A connect function that checks the address it is about to dial, whatever its origin: a name
 * (through a guarded lookup), an IP literal (Node and undici never call lookup for one, so a
 * lookup-only guard misses literals and redirects to them) or a static address. Usable as undici's
 * `connect` option (`new Agent({ connect: guardedConnect() })`) and directly for net/tls.
 */
export function guardedConnect(options: GuardedConnectOptions = {}): GuardedConnector {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object', options)
  const guard =
    options.guard ??
    createAddressGuard(
      options.allowedRanges === undefined ? {} : { allowedRanges: options.allowedRanges },
    )
  const timeoutMs = options.timeoutMs ?? 10_000
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw invalidOption('timeoutMs', 'an integer >= 1', options.timeoutMs)
  if (options.tls !== undefined && (typeof options.tls !== 'object' || options.tls === null))
    throw invalidOption('tls', 'tls.connect options', options.tls)
  if (options.lookup !== undefined && typeof options.lookup !== 'function')
    throw invalidOption('lookup', 'a dns.lookup function', options.lookup)
  const keepAlive = options.keepAlive ?? true
  // The CA bundle parsed once, not on every handshake.
  const secureContext = options.tls === undefined ? undefined : sharedSecureContext(options.tls)
  const sharedContext = secureContext === undefined ? {} : { secureContext }
  const lookup = guardedLookup(
    options.lookup ?? createResolver({ allowedRanges: [...guard.allowedRanges] }).lookup,
    guard,
  )
  return function connect(request, callback) {
    const hostname = unbracket(String(request.hostname))
    // undici passes '' for a URL's default port.
    const port = Number(request.port) || (String(request.protocol) === 'https:' ? 443 : 80)
    // Refuse a literal before any socket exists: nothing gets dialled.
    if (isIP(hostname) !== 0) {
      const refused = guard.refusal(hostname)
      if (refused !== undefined) {
        queueMicrotask(() => callback(refused, null))
        return
      }
    }
    let socket: Socket | TLSSocket
    const common = {
      host: hostname,
      port,
      lookup,
      ...(request.localAddress ? { localAddress: request.localAddress } : {}),
    }
    if (request.protocol === 'https:') {
      const servername =
        request.servername || options.tls?.servername || serverNameOf(request.host, hostname)
      socket = tlsConnect({
        ALPNProtocols: ['http/1.1'],
        ...options.tls,
        ...sharedContext,
        ...common,
        ...(servername ? { servername } : {}),
        ...(request.httpSocket ? { socket: request.httpSocket } : {}),
      })
    } else {
      socket = netConnect(common)
    }
    if (keepAlive) socket.setKeepAlive(true, 60_000)
    let settled = false
    const finish = (error: Error | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.off('error', finish)
      if (error) {
        socket.destroy()
        callback(error, null)
      } else {
        callback(null, socket)
      }
    }
    const timer = setTimeout(() => {
      const error = Object.assign(
        new Error(`Connect to ${hostname}:${port} timed out after ${timeoutMs} ms`),
        { code: 'ETIMEDOUT' },
      )
      finish(error)
    }, timeoutMs)
    socket.once('error', finish)
    socket.once(request.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      // Belt and braces: the peer must be an allowed address whatever path led here.
      const remote = socket.remoteAddress
      const refused = remote === undefined ? undefined : guard.refusal(remote, hostname)
      finish(refused ?? null)
    })
  }
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

// The Host header's name keeps SNI and certificate checks on the service name when the dialled
// hostname is an IP (undici does the same); an IP never goes in SNI.
function serverNameOf(host: string | undefined, hostname: string): string | undefined {
  const fromHost = host === undefined ? undefined : unbracket(host.replace(/:\d+$/, ''))
  for (const candidate of [fromHost, hostname]) {
    if (candidate !== undefined && candidate !== '' && isIP(candidate) === 0) return candidate
  }
  return undefined
}
