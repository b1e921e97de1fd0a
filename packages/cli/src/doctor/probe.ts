import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { checkServerIdentity, type PeerCertificate, connect as tlsConnect } from 'node:tls'

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

/** PostgreSQL's SSLRequest: TLS starts after the server answers 'S'. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

async function postgresStartTls(socket: Socket): Promise<void> {
  socket.write(SSL_REQUEST)
  const [chunk] = (await once(socket, 'data')) as [Buffer]
  if (chunk[0] !== 0x53)
    throw Object.assign(new Error('the server answered SSLRequest with no TLS'), {
      code: 'ERR_NO_TLS',
    })
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
  starttls: 'postgres' | undefined,
  timeoutMs: number,
): Promise<TlsOutcome> {
  // TCP is connected here: a deadline passing now is the handshake's, not the network's, and
  // says so (ETIMEDOUT would point at security groups that already let the connect through).
  const timer = setTimeout(
    () =>
      socket.destroy(
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
    if (starttls === 'postgres') await postgresStartTls(socket)
    const secure = tlsConnect({
      socket,
      servername,
      rejectUnauthorized: false,
      ...(ca !== undefined ? { ca } : {}),
    })
    try {
      await once(secure, 'secureConnect')
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
