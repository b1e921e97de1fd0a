import { once } from 'node:events'
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createEndpointDispatcher, sigv4 } from '@privatelink/http'
import { createTestCa, type Lab, startLab, type TestCa } from '@privatelink/lab'
import { Agent, fetch, interceptors, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../../test/support/free-port.js'
import { startHttpsTarget, type Target } from './https-target.js'

// Issue 24 item 2: a redirect must never make sigv4() sign a plaintext request, nor a request for
// a host other than the one the caller signed for. Loopback servers answer the 302s and record
// what reaches them; the assertion is that no Authorization or X-Amz-Security-Token ever does.

const API = 'api.saas.example.com'
const credentials = {
  accessKeyId: 'ASIAREDIRECTTEST0001',
  secretAccessKey: 'redirect/secret+KEY/never-sent',
  sessionToken: 'redirect-session-token-never-sent',
}
const signer = (options: { hosts?: string[] } = {}) =>
  sigv4({ region: 'us-west-2', credentials, ...options })

/** A server that records the headers of every request and counts TCP connections. */
interface Recorder {
  port: number
  connections: number
  requests: IncomingHttpHeaders[]
  close(): Promise<void>
}

async function startRecorder(tls?: { cert: string; key: string }): Promise<Recorder> {
  const recorder: Recorder = {
    port: 0,
    connections: 0,
    requests: [],
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  const handle = (req: { headers: IncomingHttpHeaders; resume(): void }, res: never) => {
    recorder.requests.push(req.headers)
    req.resume()
    ;(res as { end(body: string): void }).end('landed')
  }
  const server =
    tls === undefined ? createHttpServer(handle as never) : createHttpsServer(tls, handle as never)
  server.on('connection', () => recorder.connections++)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  recorder.port = (server.address() as AddressInfo).port
  return recorder
}

const leaked = (recorder: Recorder) =>
  recorder.requests.filter(
    (headers) =>
      headers.authorization !== undefined || headers['x-amz-security-token'] !== undefined,
  )

let ca: TestCa
let target: Target
let plain: Recorder
let plainPort: number
let lab: Lab

beforeAll(async () => {
  ca = await createTestCa()
  target = await startHttpsTarget(ca, [API, 'signed.test'])
  plain = await startRecorder()
  plainPort = await freePort()
  lab = await startLab({
    privateDnsName: API,
    services: [
      { name: 'api', port: 443, target: { host: '127.0.0.1', port: target.port } },
      // The same pinned name over plain HTTP: where a 302 to http://<same name> lands.
      { name: 'plain', port: plainPort, target: { host: '127.0.0.1', port: plain.port } },
    ],
  })
})
afterAll(async () => {
  await lab?.close()
  await target?.close()
  await plain?.close()
})

const dispatcherFor = (options: { passthrough?: boolean } = {}) =>
  createEndpointDispatcher({
    endpoint: lab.endpoint,
    locality: { source: 'options', azId: 'usw2-az1' },
    ca: ca.certificatePem,
    healthCheck: { intervalMs: 0 },
    ...options,
  })

/** Asks the HTTPS target to answer 302 with this Location. */
const redirectTo = (location: string) => ({
  'x-respond-status': '302',
  'x-respond-location': location,
})

const causeOf = (error: unknown) =>
  ((error as { cause?: unknown }).cause ?? error) as {
    code?: string
    details?: Record<string, unknown>
    hint?: string
  }

describe('sigv4() and a 302 from a pinned name to http://<same name>', () => {
  const location = () => `http://${API}:${plainPort}/landing?X-Amz-Signature=secret-ish`

  it('fetch: the plaintext hop is refused with ERR_SIGV4_UNSAFE_TARGET; nothing reaches the plain listener', async () => {
    const dispatcher = dispatcherFor()
    const error = await fetch(`https://${API}/start`, {
      dispatcher: dispatcher.compose(signer()),
      headers: redirectTo(location()),
    }).catch((e: unknown) => e)
    await dispatcher.close()
    const cause = causeOf(error)
    expect(cause.code).toBe('ERR_SIGV4_UNSAFE_TARGET')
    expect(cause.details).toMatchObject({
      reason: 'plaintext',
      location: `http://${API}:${plainPort}/landing`,
    })
    expect(JSON.stringify(cause.details)).not.toContain('X-Amz-Signature')
    expect(cause.hint).toContain('https://')
    expect(plain.requests).toHaveLength(0)
    expect(leaked(plain)).toEqual([])
  })

  it("undici's redirect interceptor outside sigv4(): the plaintext hop is refused the same way", async () => {
    const dispatcher = dispatcherFor()
    const error = await request(`https://${API}/start`, {
      dispatcher: dispatcher.compose(signer(), interceptors.redirect({ maxRedirections: 3 })),
      headers: redirectTo(location()),
    }).catch((e: unknown) => e)
    await dispatcher.close()
    expect(causeOf(error)).toMatchObject({
      code: 'ERR_SIGV4_UNSAFE_TARGET',
      details: { reason: 'plaintext' },
    })
    expect(leaked(plain)).toEqual([])
  })

  it("undici's redirect interceptor inside sigv4(): it does not follow a signed request's redirect", async () => {
    const dispatcher = dispatcherFor()
    const response = await request(`https://${API}/start`, {
      dispatcher: dispatcher.compose(interceptors.redirect({ maxRedirections: 3 }), signer()),
      headers: redirectTo(location()),
    })
    await response.body.dump()
    await dispatcher.close()
    // undici would resend x-amz-security-token (and, same origin, Authorization) to the Location.
    expect(response.statusCode).toBe(302)
    expect(leaked(plain)).toEqual([])
  })
})

describe('sigv4() and a 302 to another host', () => {
  it('fetch through passthrough: a signed request is refused before any connect (ERR_SIGV4_UNSAFE_TARGET)', async () => {
    const issued = await ca.issue(['other.test'])
    const other = await startRecorder({ cert: issued.certificatePem, key: issued.privateKeyPem })
    const dispatcher = dispatcherFor({ passthrough: true })
    try {
      const error = await fetch(`https://${API}/start`, {
        dispatcher: dispatcher.compose(signer()),
        headers: redirectTo(`https://127.0.0.1:${other.port}/landing`),
      }).catch((e: unknown) => e)
      // The signer is locked to the pinned name it signed first.
      expect(causeOf(error)).toMatchObject({
        code: 'ERR_SIGV4_UNSAFE_TARGET',
        details: { reason: 'other-host', location: `https://127.0.0.1:${other.port}/landing` },
      })
      // A fresh signer whose first request is for an unlisted host: passthrough refuses it.
      const direct = await fetch(`https://127.0.0.1:${other.port}/direct`, {
        dispatcher: dispatcher.compose(signer()),
      }).catch((e: unknown) => e)
      expect(causeOf(direct)).toMatchObject({
        code: 'ERR_SIGV4_UNSAFE_TARGET',
        details: { reason: 'passthrough', location: `https://127.0.0.1:${other.port}/direct` },
      })
      expect(other.connections).toBe(0)
      expect(leaked(other)).toEqual([])
    } finally {
      await dispatcher.close()
      await other.close()
    }
  })

  it("passthrough with the host listed in sigv4's hosts: the signed request may leave", async () => {
    // localhost is 127.0.0.1 in /etc/hosts: passthrough resolves names itself.
    const issued = await ca.issue(['localhost'])
    const listedHost = await startRecorder({
      cert: issued.certificatePem,
      key: issued.privateKeyPem,
    })
    const other = await startRecorder()
    const dispatcher = dispatcherFor({ passthrough: true })
    try {
      // A 302 from the pinned name to the listed host: followed, and signed for that host.
      const response = await fetch(`https://${API}/start`, {
        dispatcher: dispatcher.compose(signer({ hosts: [API, 'localhost'] })),
        headers: redirectTo(`https://localhost:${listedHost.port}/landing`),
      })
      expect(response.status).toBe(200)
      expect(await response.text()).toBe('landed')
      expect(listedHost.requests).toHaveLength(1)
      expect(listedHost.requests[0]?.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=ASIAREDIRECTTEST0001\/\d{8}\/us-west-2\/execute-api\/aws4_request, SignedHeaders=[^,]*host/,
      )
      expect(listedHost.requests[0]?.['x-amz-security-token']).toBe(credentials.sessionToken)
      // Listed but plaintext: still refused.
      const error = await request(`http://127.0.0.1:${other.port}/`, {
        dispatcher: dispatcher.compose(signer({ hosts: ['127.0.0.1'] })),
      }).catch((e: unknown) => e)
      expect(causeOf(error)).toMatchObject({ details: { reason: 'plaintext' } })
      expect(other.connections).toBe(0)
    } finally {
      await dispatcher.close()
      await other.close()
      await listedHost.close()
    }
  })

  describe('on a plain Agent (names resolved to loopback, real TLS)', () => {
    let other: Recorder
    let agent: Agent
    beforeAll(async () => {
      const issued = await ca.issue(['other.test'])
      other = await startRecorder({ cert: issued.certificatePem, key: issued.privateKeyPem })
      agent = new Agent({
        connect: {
          ca: ca.certificatePem,
          lookup: (
            _host: string,
            options: { all?: boolean },
            callback: (...args: unknown[]) => void,
          ) =>
            options.all === true
              ? callback(null, [{ address: '127.0.0.1', family: 4 }])
              : callback(null, '127.0.0.1', 4),
        } as never,
      })
    })
    afterAll(async () => {
      await agent.close()
      await other.close()
    })
    const start = () => `https://signed.test:${target.port}/start`
    const away = () => `https://other.test:${other.port}/landing`

    it("undici's redirect interceptor: the hop to another host fails typed, naming both hosts", async () => {
      const error = await request(start(), {
        dispatcher: agent.compose(signer(), interceptors.redirect({ maxRedirections: 3 })),
        headers: redirectTo(away()),
      }).catch((e: unknown) => e)
      expect(causeOf(error)).toMatchObject({
        code: 'ERR_SIGV4_UNSAFE_TARGET',
        details: {
          reason: 'other-host',
          signedFor: `signed.test:${target.port}`,
          location: away(),
        },
      })
      expect(other.connections).toBe(0)
      expect(leaked(other)).toEqual([])
    })

    it("undici's redirect interceptor with both hosts listed: the listed host gets a request signed for it", async () => {
      other.requests.length = 0
      const response = await request(start(), {
        dispatcher: agent.compose(
          signer({ hosts: ['signed.test', 'other.test'] }),
          interceptors.redirect({ maxRedirections: 3 }),
        ),
        headers: redirectTo(away()),
      })
      expect(response.statusCode).toBe(200)
      expect(await response.body.text()).toBe('landed')
      expect(other.requests).toHaveLength(1)
      expect(other.requests[0]?.host).toBe(`other.test:${other.port}`)
      expect(other.requests[0]?.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIA/)
      other.requests.length = 0
    })

    it('fetch, no hosts: the signer signs for its first host only, a 302/307 or //host elsewhere fails typed', async () => {
      const connections = other.connections
      for (const [status, location] of [
        ['302', away()],
        ['307', away()],
        ['302', `//other.test:${other.port}/landing`],
      ] as const) {
        const error = await fetch(start(), {
          dispatcher: agent.compose(signer()),
          headers: { 'x-respond-status': status, 'x-respond-location': location },
        }).catch((e: unknown) => e)
        expect(causeOf(error)).toMatchObject({
          code: 'ERR_SIGV4_UNSAFE_TARGET',
          details: {
            reason: 'other-host',
            signedFor: `signed.test:${target.port}`,
            location: away(),
          },
        })
      }
      expect(other.connections).toBe(connections)
      expect(leaked(other)).toEqual([])
    })

    it('no hosts: one signer, then a request of its own to another host, fails typed', async () => {
      const dispatcher = agent.compose(signer())
      const first = await request(`https://signed.test:${target.port}/ok`, { dispatcher })
      await first.body.dump()
      expect(first.statusCode).toBe(200)
      const error = await request(away(), { dispatcher }).catch((e: unknown) => e)
      expect(causeOf(error)).toMatchObject({
        code: 'ERR_SIGV4_UNSAFE_TARGET',
        details: { reason: 'other-host', signedFor: `signed.test:${target.port}` },
      })
      expect(leaked(other)).toEqual([])
    })

    it("fetch with sigv4's hosts: the hop to another host fails typed", async () => {
      const error = await fetch(start(), {
        dispatcher: agent.compose(signer({ hosts: ['signed.test'] })),
        headers: redirectTo(away()),
      }).catch((e: unknown) => e)
      expect(causeOf(error)).toMatchObject({
        code: 'ERR_SIGV4_UNSAFE_TARGET',
        details: { reason: 'other-host' },
      })
      expect(leaked(other)).toEqual([])
    })
  })
})
