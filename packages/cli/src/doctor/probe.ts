import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import {
  checkServerIdentity,
  type PeerCertificate,
  type TLSSocket,
  connect as tlsConnect,
} from 'node:tls'
import { PrivateLinkError } from '@privatelink/core'
import { mysqlTls, type StartTls } from './mysql-tls.js'

export type TcpOutcome =
  | { ok: true; ms: number; socket: Socket }
  | { ok: false; code: string; ms: number }

/** One TCP connect with a deadline; the caller owns (and must end) the socket on success. */
export async function tcpProbe(host: string, port: number, timeoutMs: number): Promise<TcpOutcome> {
  const started = performance.now()
  const socket = connect({ host, port })
  const timer = setTimeout(
    () => socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    timeoutMs,
  )
  try {
    await once(socket, 'connect')
    return { ok: true, ms: performance.now() - started, socket }
  } catch (error) {
    socket.destroy()
    return {
      ok: false,
      code: (error as { code?: string }).code ?? 'ERROR',
      ms: performance.now() - started,
    }
  } finally {
    clearTimeout(timer)
  }
}

export type TlsOutcome =
  | { ok: true; protocol: string; names: string[]; validTo: string; issuer: string }
  | { ok: false; code: string; message: string; names?: string[] }

const namesOf = (certificate: PeerCertificate): string[] =>
  (certificate.subjectaltname ?? '')
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4))

/**
 * A TLS handshake over an open socket, verified against `servername` whatever address was dialled
 * (what the connector does). Verification is done here rather than by rejecting, so a failure can
 * say which names the certificate does carry.
 */
export async function tlsProbe(
  socket: Socket,
  servername: string,
  ca: string | undefined,
  starttls: StartTls | undefined,
  timeoutMs: number,
): Promise<TlsOutcome> {
  // TCP is connected here: a deadline passing now is the handshake's, not the network's, and
  // says so (ETIMEDOUT would point at security groups that already let the connect through).
  const deadline = new AbortController()
  const timer = setTimeout(
    () =>
      deadline.abort(
        Object.assign(
          new Error(
            `TLS handshake did not complete within ${timeoutMs} ms (TCP connected; ${socket.bytesRead} bytes received)`,
          ),
          { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' },
        ),
      ),
    timeoutMs,
  )
  try {
    const secure =
      starttls === 'postgres'
        ? await postgresTls(socket, servername, ca, deadline.signal)
        : starttls === 'mysql'
          ? await mysqlTls(socket, servername, ca, deadline.signal)
          : await directTls(socket, servername, ca, deadline.signal)
    try {
      const certificate = secure.getPeerCertificate()
      const names = namesOf(certificate)
      if (!secure.authorized) {
        const code = String(secure.authorizationError ?? 'ERR_TLS_UNTRUSTED')
        if (code !== 'ERR_TLS_CERT_ALTNAME_INVALID')
          return { ok: false, code, message: `certificate not trusted (${code})`, names }
      }
      const mismatch = checkServerIdentity(servername, certificate)
      if (mismatch !== undefined)
        return {
          ok: false,
          code: 'ERR_TLS_CERT_ALTNAME_INVALID',
          message: `${servername} is not on the certificate`,
          names,
        }
      return {
        ok: true,
        protocol: secure.getProtocol() ?? 'TLS',
        names,
        validTo: certificate.valid_to,
        issuer: String(certificate.issuer?.CN ?? certificate.issuer?.O ?? 'unknown issuer'),
      }
    } finally {
      secure.destroy()
    }
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'ERROR'
    return { ok: false, code, message: (error as Error).message }
  } finally {
    clearTimeout(timer)
    socket.destroy()
  }
}

/**
 * PostgreSQL's SSLRequest then TLS, by the same code pg's clients use (`sslRequestTls`), so doctor
 * judges the upgrade the way the driver does it: an answer other than a lone 'S' is refused, and a
 * close before the answer settles at once instead of waiting for the deadline. Certificates are
 * not refused there: tlsProbe reads them to say which names they carry.
 */
async function postgresTls(
  socket: Socket,
  servername: string,
  ca: string | undefined,
  signal: AbortSignal,
): Promise<TLSSocket> {
  const { sslRequestTls } = await import('@privatelink/pg')
  try {
    return await sslRequestTls(socket, { servername, ca, insecure: true }, { signal })
  } catch (error) {
    // doctor's own code for "no TLS on this port", which its fix text and --json keep.
    if (PrivateLinkError.isInstance(error) && error.code === 'ERR_PG_TLS_REFUSED')
      throw Object.assign(new Error('the server answered SSLRequest with no TLS'), {
        code: 'ERR_NO_TLS',
      })
    throw error
  }
}

/** A TLS handshake straight away (the service's port speaks TLS). */
async function directTls(
  socket: Socket,
  servername: string,
  ca: string | undefined,
  signal: AbortSignal,
): Promise<TLSSocket> {
  const secure = tlsConnect({
    socket,
    servername,
    rejectUnauthorized: false,
    ...(ca !== undefined ? { ca } : {}),
  })
  const onAbort = () => socket.destroy(signal.reason as Error)
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    await once(secure, 'secureConnect')
    return secure
  } catch (error) {
    secure.destroy()
    throw error
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
