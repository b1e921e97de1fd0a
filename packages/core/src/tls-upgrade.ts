import type { Socket } from 'node:net'
import {
  type ConnectionOptions,
  checkServerIdentity,
  type TLSSocket,
  connect as tlsConnect,
} from 'node:tls'
import { invalidOption, sharedSecureContext } from '@privatelink/dns'
import { tlsError, tlsTimeoutError } from './connector-errors.js'

/**
 * TLS for connections the connector opens: Node's `tls.connect` options, less the ones the
 * connector sets itself (socket, host, port, lookup).
 */
export interface ConnectorTlsOptions
  extends Omit<ConnectionOptions, 'socket' | 'host' | 'port' | 'lookup'> {
  /** The name the certificate must carry (SNI too). Required: the vpce name never is on it. */
  servername: string
  /**
   * Skips certificate verification. Never in production: anyone on the path can then read the
   * traffic. Setting `rejectUnauthorized: false` without this flag is refused.
   * @default false
   */
  dangerouslySkipVerification?: boolean
}

/** Errors no other zone can fix: the race stops with them. */
export const FATAL_TLS: ReadonlySet<string> = new Set([
  'ERR_TLS_NAME_MISMATCH',
  'ERR_TLS_UNTRUSTED',
])

export function validateTls(tls: ConnectorTlsOptions | undefined, option: string): void {
  if (tls === undefined) return
  if (typeof tls !== 'object' || tls === null)
    throw invalidOption(option, 'an object with servername', tls)
  if (typeof tls.servername !== 'string' || tls.servername === '') {
    throw invalidOption(
      `${option}.servername`,
      'the DNS name on the service certificate',
      tls.servername,
    )
  }
  if (tls.rejectUnauthorized === false && tls.dangerouslySkipVerification !== true) {
    throw invalidOption(
      `${option}.rejectUnauthorized`,
      'true (turning verification off also needs dangerouslySkipVerification: true)',
      tls.rejectUnauthorized,
    )
  }
}

let warnedInsecure = false

/** TLS over an open socket, verified against `servername` whatever address the socket reached. */
export function tlsUpgrade(
  socket: Socket,
  options: ConnectorTlsOptions,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<TLSSocket> {
  const { dangerouslySkipVerification, ...tlsOptions } = options
  if (dangerouslySkipVerification === true && !warnedInsecure) {
    warnedInsecure = true
    process.emitWarning(
      'privatelink: TLS certificate verification is OFF (dangerouslySkipVerification). Traffic can be intercepted.',
      { code: 'PRIVATELINK_INSECURE_TLS' },
    )
  }
  // An abort before the start fires no event: without this the socket would wait for the deadline.
  if (signal.aborted) {
    socket.destroy()
    return Promise.reject(signal.reason)
  }
  return new Promise((resolve, reject) => {
    let presented: string | undefined
    const check = tlsOptions.checkServerIdentity ?? checkServerIdentity
    const secureContext = sharedSecureContext(tlsOptions)
    const secure = tlsConnect({
      ...tlsOptions,
      ...(secureContext === undefined ? {} : { secureContext }),
      socket,
      servername: options.servername,
      rejectUnauthorized: dangerouslySkipVerification !== true,
      // Remember what the server presented, so a mismatch error can name it.
      checkServerIdentity: (host, certificate) => {
        presented = certificate.subjectaltname
        return check(host, certificate)
      },
    })
    const cleanup = () => {
      clearTimeout(timer)
      secure.off('error', onError)
      signal.removeEventListener('abort', onAbort)
    }
    const fail = (error: unknown) => {
      cleanup()
      secure.destroy()
      socket.destroy()
      reject(error)
    }
    const onError = (error: Error) => fail(tlsError(error, options.servername, presented))
    const onAbort = () => fail(signal.reason)
    // TCP is connected: a handshake that times out is TLS not completing (a plaintext server,
    // most often), which must not read as a connect timeout with a security-group hint.
    const timer = setTimeout(
      () => fail(tlsTimeoutError(options.servername, timeoutMs, socket.bytesRead)),
      timeoutMs,
    )
    secure.once('error', onError)
    signal.addEventListener('abort', onAbort, { once: true })
    secure.once('secureConnect', () => {
      cleanup()
      resolve(secure)
    })
  })
}
