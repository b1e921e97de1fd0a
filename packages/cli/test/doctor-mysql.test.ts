import { type Lab, type RdsProxyMysqlFront, rdsProxyMysqlFront, startLab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findMariadb, type MariadbHandle } from '../../../test/support/mariadb.js'
import type { DoctorReport } from '../src/index.js'
import { caFile, cli, labEnv } from './support.js'

let db: MariadbHandle | undefined
let unavailable = ''
let lab: Lab
let front: RdsProxyMysqlFront
let ca: Awaited<ReturnType<typeof caFile>>

beforeAll(async () => {
  const found = await findMariadb()
  if ('unavailable' in found) {
    unavailable = found.unavailable
    return
  }
  db = found
  front = rdsProxyMysqlFront({
    upstream: { host: db.host, port: db.port, user: db.user, password: db.password },
  })
  lab = await startLab({
    fronts: [front],
    services: [
      { name: 'mysql', port: 3306, target: { front: 'rds-proxy-mysql' } },
      // The database itself, without TLS, on another listener port.
      { name: 'plain-mysql', port: 3316, target: { host: db.host, port: db.port } },
    ],
  })
  ca = await caFile(lab)
})
afterAll(async () => {
  await ca?.remove()
  await lab?.close()
  await db?.stop()
})

const tlsCheck = async (port: string, servername: string, ...extra: string[]) => {
  const run = await cli(
    [
      'doctor',
      lab.endpoint.id,
      '--dns',
      lab.dns.address,
      '--port',
      port,
      '--servername',
      servername,
      '--ca',
      ca.file,
      '--timeout',
      '10000',
      '--json',
      ...extra,
    ],
    { env: labEnv(lab) },
  )
  return (JSON.parse(run.stdout) as DoctorReport).checks.find((c) => c.id === 'tls.certificate')!
}

describe('doctor on an RDS Proxy for MySQL', { timeout: 60_000 }, () => {
  it('port 3306 speaks MySQL before TLS by default: the certificate carries the proxy name', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const tls = await tlsCheck('3306', front.proxyHost)
    expect(tls.status, tls.seen).toBe('pass')
    expect(tls.seen).toContain(front.proxyHost)
  })

  it('the vpce name is not on the certificate: the fix names the proxy endpoint', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const tls = await tlsCheck('3306', lab.endpoint.dnsName)
    expect(tls.status).toBe('fail')
    expect(tls.fix).toMatch(/for RDS Proxy the proxy endpoint name/)
  })

  it('--starttls mysql on a MySQL without TLS is ERR_NO_TLS', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const tls = await tlsCheck('3316', front.proxyHost, '--starttls', 'mysql')
    expect(tls.status).toBe('fail')
    expect(tls.fix).toMatch(/^The service does not offer TLS on this port/)
  })
})
