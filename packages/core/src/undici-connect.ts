import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { invalidOption } from '@privatelink/dns'
import type { ConnectOptions, UndiciConnect } from './connector-types.js'
import { checkOptions } from './options.js'
import type { ConnectorTlsOptions } from './tls-upgrade.js'

/** As undici's: TLS sessions kept per servername, the oldest dropped past this many. */
const MAX_SESSIONS = 100

/** TLS sessions by servername, so a new connection resumes instead of a full handshake. */
class SessionCache {
  readonly #sessions = new Map<string, Buffer>()

  get(servername: string): Buffer | undefined {
    return this.#sessions.get(servername)
  }

  set(servername: string, session: Buffer): void {
    this.#sessions.delete(servername)
    if (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next()
      if (oldest.done !== true) this.#sessions.delete(oldest.value)
    }
    this.#sessions.set(servername, session)
  }
}

/**
 * undici's `connect` option over the connector, written as undici's `buildConnector` is: plain
 * TCP for http:, TLS with undici's servername for https:, and a TLS session cache per servername.
 */
export function createUndiciConnect(
  connect: (options: ConnectOptions) => Promise<Socket | TLSSocket>,
  connectorTls: ConnectorTlsOptions | undefined,
): UndiciConnect {
  const sessions = new SessionCache()
  return (undiciOptions, callback) => {
    let port: number
    let tls: ConnectorTlsOptions | false
    try {
      ;({ port, tls } = undiciTarget(undiciOptions, connectorTls))
    } catch (error) {
      queueMicrotask(() => callback(error as Error, null))
      return
    }
    const servername = tls === false ? undefined : tls.servername
    const session = servername === undefined ? undefined : sessions.get(servername)
    const secure = tls === false || session === undefined ? tls : { ...tls, session }
    connect({ port, tls: secure }).then(
      (socket) => {
        if (servername !== undefined) {
          // A TLS 1.3 ticket can arrive with the handshake's last flight, before this listener
          // exists (seen on Node 22): keep what the socket already holds, then any later one.
          const held = (socket as Partial<TLSSocket>).getSession?.()
          if (held !== undefined) sessions.set(servername, held)
          socket.on('session', (next: Buffer) => sessions.set(servername, next))
        }
        callback(null, socket)
      },
      (error: Error) => callback(error, null),
    )
  }
}

/** What undici's connect options ask for: the port, and TLS with its servername for https:. */
function undiciTarget(
  given: Parameters<UndiciConnect>[0],
  connectorTls: ConnectorTlsOptions | undefined,
): { port: number; tls: ConnectorTlsOptions | false } {
  return checkOptions('options', given, () => {
    if (typeof given !== 'object' || given === null)
      throw invalidOption('options', "undici's connect options { hostname, protocol, port }", given)
    const { hostname, protocol, servername } = given
    if (typeof hostname !== 'string') throw invalidOption('hostname', 'a host name', hostname)
    const secure = protocol === 'https:'
    const port =
      given.port === '' || given.port === undefined ? (secure ? 443 : 80) : Number(given.port)
    if (!Number.isInteger(port) || port < 1 || port > 65_535)
      throw invalidOption('port', 'a port from 1 to 65535', given.port)
    if (servername !== undefined && servername !== null && typeof servername !== 'string')
      throw invalidOption('servername', 'a DNS name', servername)
    const name = connectorTls?.servername ?? servername ?? hostname
    return { port, tls: secure ? { ...connectorTls, servername: name || hostname } : false }
  })
}
