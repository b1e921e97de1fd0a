import { createServer, type Server, type Socket } from 'node:net'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DoctorReport } from '../src/index.js'
import { caFile, cli, labEnv } from './support.js'

const NAME = 'api.saas.example.com'
let lab: Lab
let server: Server
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
  lab = await startLab({
    privateDnsName: NAME,
    services: [{ name: 'plain', port: 8443, target: { host: '127.0.0.1', port } }],
  })
  ca = await caFile(lab)
})
afterAll(async () => {
  await ca?.remove()
  await lab?.close()
  for (const socket of sockets) socket.destroy()
  await new Promise((resolve) => server?.close(resolve))
})

const doctor = (...extra: string[]) =>
  cli(
    [
      'doctor',
      lab.endpoint.id,
      '--dns',
      lab.dns.address,
      '--port',
      '8443',
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
