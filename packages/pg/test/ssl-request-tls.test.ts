import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { Lab, RdsProxyFront } from '@privatelink/lab'
import { sslRequestTls } from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPlainLab, startProxyLab } from './support.js'

// The one SSLRequest + TLS helper (the stream's upgrade, the health check, the CLI's doctor),
// against the lab's RDS Proxy emulator, a PostgreSQL without TLS, and a listener that never answers.
let proxy: { lab: Lab; front: RdsProxyFront }
let plain: Lab
let silent: Server
const held: Socket[] = []

beforeAll(async () => {
  ;[proxy, plain] = await Promise.all([startProxyLab(), startPlainLab()])
  silent = createServer((socket) => held.push(socket)).listen(0, '127.0.0.1')
  await once(silent, 'listening')
})
afterAll(async () => {
  for (const socket of held) socket.destroy()
  silent?.close()
  await Promise.all([proxy?.lab.close(), plain?.close()])
})

const dial = async (lab: Lab): Promise<Socket> => {
  const socket = connect({ host: lab.endpoint.zones[0]!.addresses[0]!, port: 5432 })
  await once(socket, 'connect')
  return socket
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ code: 'resolved' }) as { code: string; details?: Record<string, unknown> },
    (error: { code: string; details?: Record<string, unknown> }) => error,
  )

describe('sslRequestTls', () => {
  it("upgrades to TLS verified against the proxy's name, whatever address was dialled", async () => {
    const socket = await dial(proxy.lab)
    const secure = await sslRequestTls(
      socket,
      { servername: proxy.front.proxyHost, ca: proxy.lab.ca.certificatePem },
      { timeoutMs: 5_000 },
    )
    expect(secure.authorized).toBe(true)
    expect(secure.servername).toBe(proxy.front.proxyHost)
    secure.destroy()
  })

  it('another name on the certificate is ERR_TLS_NAME_MISMATCH; insecure hands the socket over unchecked', async () => {
    const other = 'other-db.proxy-zzzzzzzzzzzz.us-west-2.rds.amazonaws.com'
    const ca = proxy.lab.ca.certificatePem
    const error = await refusal(sslRequestTls(await dial(proxy.lab), { servername: other, ca }))
    expect(error.code).toBe('ERR_TLS_NAME_MISMATCH')
    const secure = await sslRequestTls(await dial(proxy.lab), { servername: other, insecure: true })
    expect(secure.getPeerCertificate().subjectaltname).toContain(proxy.front.proxyHost)
    secure.destroy()
  })

  it("a server without TLS ('N') is ERR_PG_TLS_REFUSED", async () => {
    const socket = await dial(plain)
    const error = await refusal(sslRequestTls(socket, { servername: 'db.example.com' }))
    expect(error.code).toBe('ERR_PG_TLS_REFUSED')
    socket.destroy()
  })

  it('a server that never answers is ERR_TLS_HANDSHAKE_TIMEOUT at the SSLRequest stage; a signal aborts', async () => {
    const address = silent.address() as { port: number }
    const socket = connect({ host: '127.0.0.1', port: address.port })
    await once(socket, 'connect')
    const error = await refusal(
      sslRequestTls(socket, { servername: 'db.example.com' }, { timeoutMs: 50 }),
    )
    expect(error.code).toBe('ERR_TLS_HANDSHAKE_TIMEOUT')
    expect(error.details?.['stage']).toBe('sslrequest')
    const aborted = new AbortController()
    aborted.abort(new Error('stop'))
    const stopped = await sslRequestTls(
      socket,
      { servername: 'db.example.com' },
      { signal: aborted.signal },
    ).catch((reason: Error) => reason.message)
    expect(stopped).toBe('stop')
    socket.destroy()
  })
})
