import { once } from 'node:events'
import type { TLSSocket } from 'node:tls'
import { createServer, type Server } from 'node:tls'
import { type Connector, createConnector } from '@privatelink/core'
import { createTestCa, type Lab, startLab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// connector.undici is built as undici's buildConnector: a TLS session per servername, so the
// next connection resumes instead of a full handshake.
const PORT = 7620
const servername = 'api.example.internal'
let lab: Lab
let server: Server
let ca: string
let connector: Connector

beforeAll(async () => {
  const testCa = await createTestCa()
  const issued = await testCa.issue([servername])
  ca = testCa.certificatePem
  server = createServer({ cert: issued.certificatePem, key: issued.privateKeyPem }, (socket) =>
    socket.end('hello'),
  )
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  lab = await startLab({
    services: [{ name: 'tls', port: PORT, target: { host: '127.0.0.1', port } }],
  })
  connector = createConnector({
    endpoint: lab.endpoint,
    locality: { source: 'options', azName: lab.endpoint.zones[0]?.azName ?? '' },
    port: PORT,
    tls: { servername, ca },
    healthCheck: { intervalMs: 0 },
  })
})
afterAll(async () => {
  connector.close()
  await lab.close()
  server.close()
})

const undiciConnect = () =>
  new Promise<TLSSocket>((resolve, reject) =>
    connector.undici(
      { hostname: servername, protocol: 'https:', port: String(PORT), servername },
      (error, socket) => (error === null ? resolve(socket as TLSSocket) : reject(error)),
    ),
  )

describe('connector.undici', () => {
  it('resumes the TLS session of the last connection to the same servername', async () => {
    const first = await undiciConnect()
    expect(first.isSessionReused()).toBe(false)
    // The session ticket arrives after the handshake; the server ends the connection after its
    // bytes, so by 'end' every ticket it sent has been read (on Node 22 after the first 'data').
    first.resume()
    await once(first, 'end')
    first.destroy()
    const second = await undiciConnect()
    expect(second.isSessionReused()).toBe(true)
    second.destroy()
  })
})
