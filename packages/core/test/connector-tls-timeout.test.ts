import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import { createConnector, type PrivateLinkError } from '@privatelink/core'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Issue 25, item 3: TLS to a plaintext server (a plain redis-server, say) that never answers the
// ClientHello. TCP connects in every zone and the handshake times out: that must be reported as
// a TLS handshake timeout, not as "Could not connect ... ETIMEDOUT" with a security-group hint.
const PORT = 7410
let lab: Lab
let plaintext: Server
const held: Socket[] = []
let received = 0

beforeAll(async () => {
  // Reads the ClientHello and answers nothing, as redis-server does with bytes that hold no newline.
  plaintext = createServer((socket) => {
    held.push(socket)
    socket.on('data', (chunk) => {
      received += chunk.length
    })
    socket.on('error', () => {})
  })
  plaintext.listen(0, '127.0.0.1')
  await once(plaintext, 'listening')
  const port = (plaintext.address() as { port: number }).port
  lab = await startLab({
    services: [{ name: 'plain', port: PORT, target: { host: '127.0.0.1', port } }],
  })
})
afterAll(async () => {
  for (const socket of held) socket.destroy()
  plaintext.close()
  await lab.close()
})

describe('a TLS handshake that never completes', () => {
  it('is ERR_TLS_HANDSHAKE_TIMEOUT in every zone, with a hint about TLS on a plaintext port', async () => {
    const connector = createConnector({
      endpoint: lab.endpoint,
      locality: null,
      port: PORT,
      tls: { servername: 'cache.lab.test' },
      tlsTimeoutMs: 200,
      healthCheck: { intervalMs: 0 },
      probeIntervalMs: 0,
    })
    try {
      const error = (await connector.connect().then(
        () => expect.unreachable(),
        (e: unknown) => e,
      )) as PrivateLinkError
      expect(error.code).toBe('ERR_TLS_HANDSHAKE_TIMEOUT')
      expect(error.message).toMatch(/TLS/)
      expect(error.message).not.toMatch(/Could not connect/)
      expect(error.hint).toMatch(/TCP connected/)
      expect(error.hint).toMatch(/plaintext/)
      expect(error.hint).toMatch(/servername/)
      expect(error.hint).not.toMatch(/security group/)
      const attempts = error.details['attempts'] as { code: string }[]
      expect(attempts).toHaveLength(lab.endpoint.zones.length)
      for (const attempt of attempts) expect(attempt.code).toBe('ERR_TLS_HANDSHAKE_TIMEOUT')
      // The server did get the ClientHello: TCP really connected.
      expect(received).toBeGreaterThan(0)
    } finally {
      connector.close()
    }
  })

  it('a health check of such a zone says the same', async () => {
    const connector = createConnector({
      endpoint: lab.endpoint,
      locality: null,
      port: PORT,
      tls: { servername: 'cache.lab.test' },
      tlsTimeoutMs: 200,
      healthCheck: { intervalMs: 0, timeoutMs: 200 },
      probeIntervalMs: 0,
    })
    try {
      // The port is used with TLS once, so checks do TCP plus TLS.
      await connector.connect().catch(() => {})
      const results = await connector.probe()
      expect(Object.values(results)).toContain('ERR_TLS_HANDSHAKE_TIMEOUT')
    } finally {
      connector.close()
    }
  })
})
