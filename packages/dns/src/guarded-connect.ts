import { isIP, connect as netConnect, type Socket } from 'node:net'
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls'
import {
  type AddressGuard,
  assertAddressGuard,
  createAddressGuard,
  guardedLookup,
} from './address-guard.js'
import { checkOptions } from './checked-options.js'
import { integerOption, invalidOption } from './errors.js'
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
  const settings = checkOptions('options', options, () => connectSettings(options))
  const { guard, timeoutMs, keepAlive, tls } = settings
  // The CA bundle parsed once, not on every handshake.
  const secureContext = tls === undefined ? undefined : sharedSecureContext(tls)
  const sharedContext = secureContext === undefined ? {} : { secureContext }
  const lookup = guardedLookup(
    settings.lookup ?? createResolver({ allowedRanges: [...guard.allowedRanges] }).lookup,
    guard,
  )
  return function connect(request, callback) {
    if (typeof callback !== 'function')
      throw invalidOption('callback', 'a function (error, socket)', callback)
    let target: ConnectTarget
    try {
      target = connectTarget(request)
    } catch (error) {
      queueMicrotask(() => callback(error as Error, null))
      return
    }
    const { hostname, port, secure } = target
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
      ...(target.localAddress ? { localAddress: target.localAddress } : {}),
    }
    if (secure) {
      const servername = target.servername || tls?.servername || serverNameOf(target.host, hostname)
      socket = tlsConnect({
        ALPNProtocols: ['http/1.1'],
        ...tls,
        ...sharedContext,
        ...common,
        ...(servername ? { servername } : {}),
        ...(target.httpSocket ? { socket: target.httpSocket } : {}),
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
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      // Belt and braces: the peer must be an allowed address whatever path led here.
      const remote = socket.remoteAddress
      const refused = remote === undefined ? undefined : guard.refusal(remote, hostname)
      finish(refused ?? null)
    })
  }
}

interface ConnectSettings {
  guard: AddressGuard
  timeoutMs: number
  keepAlive: boolean
  tls: ConnectionOptions | undefined
  lookup: LookupFunction | undefined
}

function connectSettings(options: GuardedConnectOptions): ConnectSettings {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object', options)
  const { guard, allowedRanges, tls, lookup, keepAlive } = options
  if (guard !== undefined) assertAddressGuard(guard, 'guard')
  if (tls !== undefined && (typeof tls !== 'object' || tls === null))
    throw invalidOption('tls', 'tls.connect options', tls)
  if (lookup !== undefined && typeof lookup !== 'function')
    throw invalidOption('lookup', 'a dns.lookup function', lookup)
  if (keepAlive !== undefined && typeof keepAlive !== 'boolean')
    throw invalidOption('keepAlive', 'a boolean', keepAlive)
  return {
    guard: guard ?? createAddressGuard(allowedRanges === undefined ? {} : { allowedRanges }),
    // Capped as every other duration: setTimeout turns 2^31 ms and more into 1 ms.
    timeoutMs: integerOption('timeoutMs', options.timeoutMs, 10_000, 1),
    keepAlive: keepAlive ?? true,
    tls: tls === undefined ? undefined : { ...tls },
    lookup,
  }
}

/** What connect() dials, read once from undici's request. */
interface ConnectTarget {
  hostname: string
  port: number
  secure: boolean
  host: string | undefined
  servername: string | undefined
  localAddress: string | undefined
  httpSocket: Socket | undefined
}

const optionalString = (option: string, value: unknown, expected: string) => {
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value !== 'string') throw invalidOption(option, expected, value)
  return value
}

/** What to dial from undici's request: a typed error for one undici would never send. */
function connectTarget(request: ConnectRequest): ConnectTarget {
  return checkOptions('request', request, () => {
    if (typeof request !== 'object' || request === null)
      throw invalidOption('request', 'an object { hostname, port, protocol }', request)
    const { hostname, protocol, port: given, host, servername, localAddress, httpSocket } = request
    if (typeof hostname !== 'string' || hostname === '')
      throw invalidOption('request.hostname', 'a host name or IP literal', hostname)
    if (protocol !== undefined && typeof protocol !== 'string')
      throw invalidOption('request.protocol', "a string such as 'https:'", protocol)
    // undici passes '' for a URL's default port.
    const port =
      given === '' || given === undefined
        ? protocol === 'https:'
          ? 443
          : 80
        : typeof given === 'number' || (typeof given === 'string' && /^\d{1,5}$/.test(given))
          ? Number(given)
          : Number.NaN
    if (!Number.isInteger(port) || port < 1 || port > 65_535)
      throw invalidOption('request.port', 'a port from 1 to 65535', given)
    const local = optionalString('request.localAddress', localAddress, 'an IP literal')
    if (local !== undefined && isIP(local) === 0)
      throw invalidOption('request.localAddress', 'an IP literal', local)
    if (httpSocket !== undefined && (typeof httpSocket !== 'object' || httpSocket === null))
      throw invalidOption('request.httpSocket', 'a net.Socket', httpSocket)
    return {
      hostname: unbracket(hostname),
      port,
      secure: protocol === 'https:',
      host: optionalString('request.host', host, "a 'name:port' string"),
      servername: optionalString('request.servername', servername, 'a DNS name'),
      localAddress: local,
      httpSocket,
    }
  })
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
