import type { Socket } from 'node:net'
import { checkServerIdentity, type TLSSocket, connect as tlsConnect } from 'node:tls'
import { sharedSecureContext } from '@privatelink/core'
import { type CaSource, handshakeTimeoutError, tlsError, tlsRefusedError } from './errors.js'

/** What `sslRequestTls` verifies the server against. */
export interface SslRequestTlsTarget {
  /** The name the certificate must carry (SNI too): the RDS Proxy endpoint name, never the vpce name. */
  servername: string
  /** CAs to trust instead of Node's roots (parsed once per bundle, shared by every connection). @default Node's roots */
  ca?: string | string[] | undefined
  /**
   * True: no certificate check. For a caller that inspects the certificate itself (a diagnosis
   * tool reading `getPeerCertificate()`), never for traffic. @default false
   */
  insecure?: boolean
  /** Where the trusted CAs come from, for the hint of an untrusted certificate. @default 'roots' */
  caSource?: CaSource
}

/** How long, and until when, `sslRequestTls` may take. */
export interface SslRequestTlsOptions {
  /** Aborts the handshake (with the signal's reason) and destroys the TLS socket. @default none */
  signal?: AbortSignal | undefined
  /**
   * SSLRequest answer plus TLS handshake, from the call: past it, ERR_TLS_HANDSHAKE_TIMEOUT
   * (`details.stage` says which part hung). @default none: the signal bounds it
   */
  timeoutMs?: number | undefined
}

/** PostgreSQL's SSLRequest: length 8, code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 4, 210, 22, 47])

/**
 * PostgreSQL's TLS upgrade over a connected socket: SSLRequest, the server's 'S', then a native
 * TLS handshake with SNI and verify-full against `target.servername`, whatever address the socket
 * reached. Resolves with the TLS socket; the caller owns it.
 *
 * Rejects with `ERR_PG_TLS_REFUSED` ('N': the server has no TLS), `ERR_TLS_HANDSHAKE_TIMEOUT`,
 * `ERR_TLS_NAME_MISMATCH`, `ERR_TLS_UNTRUSTED` or `ERR_TLS_HANDSHAKE` (PrivateLinkErrors with a
 * hint), or with the socket's own error (ECONNRESET, ...) as it is, so a caller that races zones
 * can tell a zone's failure from a verdict about the proxy.
 *
 * @example
 * // a socket to the endpoint's interface in one zone (the connector's, or your own)
 * const socket = await connector.connect({ port: 5432, tls: false })
 * const secure = await sslRequestTls(socket, { servername: proxyHost }, { timeoutMs: 5_000 })
 */
export function sslRequestTls(
  socket: Socket,
  target: SslRequestTlsTarget,
  options: SslRequestTlsOptions = {},
): Promise<TLSSocket> {
  const { servername, ca, insecure = false, caSource } = target
  const { signal, timeoutMs } = options
  return new Promise<TLSSocket>((resolve, reject) => {
    let secure: TLSSocket | undefined
    let presented: string | undefined
    const fail = (error: unknown) => {
      cleanup()
      secure?.destroy()
      reject(error)
    }
    const onAbort = () => fail(signal?.reason)
    const onError = (error: Error) => fail(error)
    const onClose = () =>
      fail(
        Object.assign(new Error('connection closed during the TLS handshake'), {
          code: 'ECONNRESET',
        }),
      )
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              fail(
                handshakeTimeoutError(
                  servername,
                  timeoutMs,
                  secure === undefined ? 'sslrequest' : 'tls',
                ),
              ),
            timeoutMs,
          )
    const cleanup = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      socket.off('error', onError)
      socket.off('close', onClose)
      socket.off('data', onAnswer)
    }
    const onAnswer = (answer: Buffer) => {
      socket.off('data', onAnswer)
      // 'N': no TLS here. Anything else, or bytes after 'S' (injected before the handshake), is
      // not a proxy to talk to.
      if (answer.length !== 1 || answer[0] !== 0x53) {
        fail(
          answer[0] === 0x4e
            ? tlsRefusedError(servername)
            : tlsError(
                Object.assign(new Error('unexpected answer to SSLRequest'), { code: 'EPROTO' }),
                servername,
                undefined,
                caSource,
              ),
        )
        return
      }
      secure = tlsConnect({
        socket,
        servername,
        // One parsed CA bundle for every connection (the RDS bundle is ~100 certificates).
        ...(ca === undefined ? {} : { secureContext: sharedSecureContext({ ca })! }),
        rejectUnauthorized: !insecure,
        checkServerIdentity: (host, certificate) => {
          presented = certificate.subjectaltname
          return checkServerIdentity(host, certificate)
        },
      })
      secure.once('error', (error) => fail(tlsError(error, servername, presented, caSource)))
      secure.once('secureConnect', () => {
        cleanup()
        secure!.removeAllListeners('error')
        resolve(secure!)
      })
    }
    if (signal?.aborted === true) {
      fail(signal.reason)
      return
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.on('error', onError)
    socket.once('close', onClose)
    socket.on('data', onAnswer)
    socket.write(SSL_REQUEST)
  })
}
