import { Socket } from 'node:net'
import type { Connector, ConnectorTlsOptions, SocketWatch } from '@privatelink/core'
import { PrivateLinkError } from '@privatelink/core'
import { AbstractConnector } from 'ioredis'
import { authenticate, isAuthRefusal } from './authenticate.js'
import { authChannel } from './diagnostics.js'
import type { RedisConnection } from './drain.js'
import { redisTlsError } from './errors.js'
import type { TargetAuth } from './failover-targets.js'
import { watchSocket } from './watch-socket.js'

/** ioredis' own message for a connect cancelled by disconnect(). */
const CONNECTION_CLOSED = 'Connection is closed.'
const FATAL_TLS = new Set(['ERR_TLS_NAME_MISMATCH', 'ERR_TLS_UNTRUSTED'])

export interface EndpointConnectorSettings {
  connector: Connector
  /** By connector target index, in priority order: one entry without failover targets. */
  targets: readonly TargetAuth[]
  /**
   * The TLS connect() asks for: the one target's, `false` for plain TCP, or undefined with
   * failover targets so the connector uses the TLS name of the target each socket lands in.
   */
  connectTls: ConnectorTlsOptions | false | undefined
  clock: () => number
  /** The client's connection a socket is the stream of (one, or a Cluster's nodes), to drain. */
  ownerOf(socket: Socket): RedisConnection | undefined
  /** The endpoint (listener) port for the host and port ioredis asks for. */
  portFor(host: string | undefined, port: number): number | Promise<number>
  /**
   * Whether a refused AUTH ends the client (ioredis then rejects queued commands with our typed
   * error) rather than retrying: true until the client has been ready once.
   */
  authRefusalIsFatal(): boolean
}

type ConnectorConstructor = new (options: unknown) => AbstractConnector

/** The name core's TLS error was checked against (the target the handshake reached). */
const nameIn = (error: PrivateLinkError): string | undefined => {
  const name = error.details['expected'] ?? error.details['servername']
  return typeof name === 'string' ? name : undefined
}

const codeOf = (error: unknown): string => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : 'UNKNOWN'
}

/**
 * An ioredis `Connector` (its documented seam for how a connection is opened): the socket comes
 * from core's connector (own zone first, zone health, failover; TLS verified against servername),
 * is authenticated with a current password or IAM token, and only then handed to ioredis.
 * Transient failures reach ioredis as a closed stream, so its retryStrategy reconnects; wrong
 * certificates, and refused credentials before the first success, end the client with our error.
 */
export function endpointConnectorClass(settings: EndpointConnectorSettings): ConnectorConstructor {
  const { connector, targets, connectTls, clock, ownerOf } = settings
  const targetOf = (socket: Socket): TargetAuth =>
    targets[connector.targetOf(socket)?.index ?? 0] ?? targets[0]!
  return class EndpointConnector extends AbstractConnector {
    readonly #options: { host?: string; port?: number; connectTimeout?: number }
    #abort: AbortController | undefined
    #watch: SocketWatch | undefined

    constructor(options: unknown) {
      const typed = options as {
        host?: string
        port?: number
        connectTimeout?: number
        disconnectTimeout?: number
      }
      super(typed.disconnectTimeout ?? 2_000)
      this.#options = typed
    }

    override disconnect(): void {
      this.#abort?.abort(new Error(CONNECTION_CLOSED))
      // ioredis closes this socket itself: not a health signal, and no longer ours to retire.
      this.#watch?.release()
      super.disconnect()
    }

    async connect(): Promise<Socket> {
      this.connecting = true
      this.#watch = undefined
      const abort = new AbortController()
      this.#abort = abort
      let socket: Socket | undefined
      try {
        const port = await settings.portFor(this.#options.host, this.#options.port ?? 6379)
        socket = await connector.connect({
          port,
          signal: abort.signal,
          ...(connectTls === undefined ? {} : { tls: connectTls }),
        })
        // The race may land in any target: verify and sign for the one the socket reached.
        const { servername, authenticator } = targetOf(socket)
        if (authenticator !== undefined) {
          await authenticate(socket, authenticator, {
            servername,
            timeoutMs: this.#options.connectTimeout ?? 10_000,
            clock,
          }).catch((error: unknown) => {
            const zone = connector.zoneOf(socket!)
            // A connection that dies or stalls before answering AUTH counts against its zone.
            if (zone !== undefined && !PrivateLinkError.isInstance(error))
              connector.report(connector.zoneKey(zone), 'connect-failed', codeOf(error))
            else if (zone !== undefined && codeOf(error) === 'ERR_REDIS_AUTH_TIMEOUT')
              connector.report(connector.zoneKey(zone), 'connect-failed', 'auth-timeout')
            throw error
          })
          if (authChannel.hasSubscribers) {
            const zone = connector.zoneOf(socket)
            authChannel.publish({
              user: authenticator.user ?? 'default',
              zone: zone === undefined ? null : connector.zoneKey(zone),
              target: connector.targetOf(socket)?.name ?? null,
              reauth: false,
              ok: true,
            })
          }
        }
        if (!this.connecting) throw new Error(CONNECTION_CLOSED)
        this.#watch = watchSocket(connector, socket, ownerOf)
        this.stream = socket
        return socket
      } catch (error) {
        socket?.destroy()
        if (!this.connecting || abort.signal.aborted) throw new Error(CONNECTION_CLOSED)
        const code = codeOf(error)
        if (PrivateLinkError.isInstance(error) && FATAL_TLS.has(code))
          throw redisTlsError(error, nameIn(error) ?? targets[0]!.servername)
        if (isAuthRefusal(code)) {
          const target = socket === undefined ? undefined : connector.targetOf(socket)
          if (authChannel.hasSubscribers)
            authChannel.publish({
              user: targets[target?.index ?? 0]?.authenticator?.user ?? 'default',
              zone: null,
              target: target?.name ?? null,
              reauth: false,
              ok: false,
              code,
            })
          if (settings.authRefusalIsFatal()) throw error
        }
        // ioredis reads a stream that is already destroyed as a failed connect: it emits
        // `firstError` and reconnects according to retryStrategy.
        const dead = new Socket()
        dead.destroy()
        this.firstError = error as Error
        this.stream = dead
        return dead
      } finally {
        if (this.#abort === abort) this.#abort = undefined
      }
    }
  } as unknown as ConnectorConstructor
}
