import { createServer, type Server, type Socket } from 'node:net'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DoctorReport } from '../src/index.js'
import { caFile, cli, labEnv } from './support.js'

const NAME = 'api.saas.example.com'
let lab: Lab
let server: Server
/** Reads the SSLRequest, then closes without answering. */
let closer: Server
/** Answers the SSLRequest with 'N': no TLS here. */
let refuser: Server
let ca: Awaited<ReturnType<typeof caFile>>
const sockets = new Set<Socket>()

beforeAll(async () => {
  // A plaintext service that accepts and never speaks: TCP connects, no TLS ever comes back.
  server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const answering = (answer: (socket: Socket) => void) =>
    createServer((socket) => {
      socket.on('error', () => {})
      socket.once('data', () => answer(socket))
    })
  closer = answering((socket) => socket.destroy())
  refuser = answering((socket) => socket.end(Buffer.from('N')))
  const listen = async (s: Server) => {
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
    return (s.address() as { port: number }).port
  }
  lab = await startLab({
    privateDnsName: NAME,
    services: [
      { name: 'plain', port: 8443, target: { host: '127.0.0.1', port } },
      { name: 'closer', port: 5433, target: { host: '127.0.0.1', port: await listen(closer) } },
      { name: 'refuser', port: 5434, target: { host: '127.0.0.1', port: await listen(refuser) } },
    ],
  })
  ca = await caFile(lab)
})
afterAll(async () => {
  await ca?.remove()
  await lab?.close()
  for (const socket of sockets) socket.destroy()
  await new Promise((resolve) => server?.close(resolve))
  await new Promise((resolve) => closer?.close(resolve))
  await new Promise((resolve) => refuser?.close(resolve))
})

const doctor = (...extra: string[]) => doctorOn('8443', ...extra)
const doctorOn = (port: string, ...extra: string[]) =>
  cli(
    [
      'doctor',
      lab.endpoint.id,
      '--dns',
      lab.dns.address,
      '--port',
      port,
      '--servername',
      NAME,
      '--ca',
      ca.file,
      // Short: the handshake is expected to hang until this deadline.
      '--timeout',
      '300',
      '--json',
      ...extra,
    ],
    { env: labEnv(lab) },
  )

describe('doctor: a TLS handshake that hangs over a connected socket', { timeout: 60_000 }, () => {
  it('is ERR_TLS_HANDSHAKE_TIMEOUT, and the fix says TCP connected, not the security group', async () => {
    const run = await doctor('--starttls', 'none')
    const report = JSON.parse(run.stdout) as DoctorReport
    expect(run.code).toBe(1)
    expect(report.checks.filter((c) => c.id === 'zone.reach').map((c) => c.status)).toEqual([
      'pass',
      'pass',
      'pass',
    ])
    const tls = report.checks.find((c) => c.id === 'tls.certificate')!
    expect(tls.status).toBe('fail')
    expect(tls.seen).toMatch(
      /^in us-west-2\w: TLS handshake did not complete within 300 ms \(TCP connected; 0 bytes received\)$/,
    )
    expect(tls.seen).not.toContain('ETIMEDOUT')
    expect(tls.fix).toMatch(/^TCP connected, so the port is open: the service does not speak TLS/)
    expect(tls.fix).toContain('PostgreSQL needs --starttls postgres')
    expect(tls.fix).not.toMatch(/security group/i)
  })

  it('with --starttls postgres, an unanswered SSLRequest says it is not PostgreSQL on this port', async () => {
    const run = await doctor('--starttls', 'postgres')
    const tls = (JSON.parse(run.stdout) as DoctorReport).checks.find(
      (c) => c.id === 'tls.certificate',
    )!
    expect(tls.seen).toContain('TLS handshake did not complete within 300 ms (TCP connected')
    expect(tls.fix).toMatch(
      /^TCP connected, so the port is open: the server did not answer PostgreSQL's SSLRequest/,
    )
    expect(tls.fix).not.toMatch(/security group/i)
  })
})

describe('doctor --starttls postgres: a server that answers the SSLRequest badly', {
  timeout: 60_000,
}, () => {
  const tlsCheck = async (port: string) => {
    const run = await doctorOn(port, '--starttls', 'postgres', '--timeout', '10000')
    expect(run.code).toBe(1)
    return (JSON.parse(run.stdout) as DoctorReport).checks.find((c) => c.id === 'tls.certificate')!
  }

  it("'N' is ERR_NO_TLS: the service offers no TLS on this port", async () => {
    const tls = await tlsCheck('5434')
    expect(tls.status).toBe('fail')
    expect(tls.fix).toMatch(/^The service does not offer TLS on this port/)
  })

  // A close before any answer settles at once; it used to wait for a 'data' event that never
  // came, and the handshake deadline then destroyed an already closed socket: doctor never ended.
  it('a close before the answer is a closed connection, not a hang or a handshake timeout', async () => {
    const tls = await tlsCheck('5433')
    expect(tls.status).toBe('fail')
    expect(tls.seen).toMatch(/connection closed during the TLS handshake/)
    expect(tls.seen).not.toContain('did not complete within')
  })
})
