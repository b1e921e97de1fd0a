import { once } from 'node:events'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import {
  createAddressGuard,
  createResolver,
  guardedConnect,
  guardedLookup,
  PrivateLinkError,
} from '@privatelink/dns'
import { createTestCa, type LabDnsServer, startDnsServer } from '@privatelink/lab'
import { Agent, interceptors, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Issue 18, item 2: Node and undici never call lookup for an IP literal, so a lookup-only guard
// lets a request (or a redirect) to any literal straight out. Everything here dials loopback:
// 127.0.0.1 is "allowed", 127.0.0.2 stands for an address outside the ranges.
const ALLOWED = ['127.0.0.1/32']

let dns: LabDnsServer
let inside: Server
let outside: Server
let outsideConnections = 0
let insidePort: number
let outsidePort: number

const listen = async (server: Server, host: string) => {
  server.listen(0, host)
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

beforeAll(async () => {
  dns = await startDnsServer()
  dns.set('svc.lab.test', { a: ['127.0.0.1'] })
  dns.set('elsewhere.lab.test', { a: ['127.0.0.2'] })
  outside = createHttpServer((_req, res) => res.end('outside'))
  outside.on('connection', () => outsideConnections++)
  outsidePort = await listen(outside, '127.0.0.2')
  inside = createHttpServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `http://127.0.0.2:${outsidePort}/` }).end()
    } else {
      res.end(`inside host=${req.headers.host}`)
    }
  })
  insidePort = await listen(inside, '127.0.0.1')
})
afterAll(async () => {
  inside.close()
  outside.close()
  await dns.close()
})

const resolverLookup = () =>
  createResolver({ servers: [dns.address], allowedRanges: ALLOWED }).lookup

const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return PrivateLinkError.isInstance(error) ? error.code : String(error)
  }
  return 'no error'
}

describe('guardedConnect with undici', () => {
  it('the hole: a lookup-only Agent follows a redirect to a literal outside the ranges', async () => {
    const agent = new Agent({ connect: { lookup: resolverLookup() } }).compose(
      interceptors.redirect({ maxRedirections: 1 }),
    )
    try {
      const before = outsideConnections
      const response = await request(`http://svc.lab.test:${insidePort}/redirect`, {
        dispatcher: agent,
      })
      expect(await response.body.text()).toBe('outside')
      expect(outsideConnections).toBe(before + 1)
    } finally {
      await agent.close()
    }
  })

  it('refuses the redirect to the literal before dialling it', async () => {
    const agent = new Agent({
      connect: guardedConnect({ allowedRanges: ALLOWED, lookup: resolverLookup() }),
    }).compose(interceptors.redirect({ maxRedirections: 1 }))
    try {
      const before = outsideConnections
      const ok = await request(`http://svc.lab.test:${insidePort}/`, { dispatcher: agent })
      expect(await ok.body.text()).toBe(`inside host=svc.lab.test:${insidePort}`)
      const error = await request(`http://svc.lab.test:${insidePort}/redirect`, {
        dispatcher: agent,
      }).catch((e: unknown) => e as PrivateLinkError)
      expect(error).toMatchObject({
        code: 'ERR_DNS_NOT_PRIVATE',
        details: { address: '127.0.0.2' },
      })
      expect((error as PrivateLinkError).message).toContain('outside the allowed ranges')
      // A literal in the URL and a name that resolves outside are refused the same way.
      expect(await codeOf(request(`http://127.0.0.2:${outsidePort}/`, { dispatcher: agent }))).toBe(
        'ERR_DNS_NOT_PRIVATE',
      )
      expect(await codeOf(request(`http://[::1]:${outsidePort}/`, { dispatcher: agent }))).toBe(
        'ERR_DNS_NOT_PRIVATE',
      )
      expect(
        await codeOf(request(`http://elsewhere.lab.test:${outsidePort}/`, { dispatcher: agent })),
      ).toBe('ERR_DNS_NOT_PRIVATE')
      expect(outsideConnections).toBe(before)
    } finally {
      await agent.close()
    }
  })

  it('dials an allowed literal, and keeps TLS on the Host name with the given ca', async () => {
    const ca = await createTestCa()
    const certificate = await ca.issue(['api.lab.test'])
    const secure = createHttpsServer(
      { cert: certificate.certificatePem, key: certificate.privateKeyPem },
      (req, res) => res.end(`tls host=${req.headers.host}`),
    )
    const port = await listen(secure as unknown as Server, '127.0.0.1')
    const agent = new Agent({
      connect: guardedConnect({ allowedRanges: ALLOWED, tls: { ca: ca.certificatePem } }),
    })
    const untrusting = new Agent({ connect: guardedConnect({ allowedRanges: ALLOWED }) })
    try {
      const response = await request(`https://127.0.0.1:${port}/`, {
        dispatcher: agent,
        headers: { host: 'api.lab.test' },
      })
      expect(await response.body.text()).toBe('tls host=api.lab.test')
      // Without the ca the same call fails verification: the option really reaches TLS.
      const error = await request(`https://127.0.0.1:${port}/`, {
        dispatcher: untrusting,
        headers: { host: 'api.lab.test' },
      }).then(
        () => ({ code: 'no error' }),
        (e: unknown) => e as { code?: string },
      )
      expect(error.code).toMatch(/UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER/)
    } finally {
      await agent.close()
      await untrusting.close()
      secure.close()
    }
  })
})

describe('guardedConnect for net, and guardedLookup', () => {
  it('gives a connected socket for an allowed address and refuses others without a socket', async () => {
    const connect = guardedConnect({ allowedRanges: ALLOWED, lookup: resolverLookup() })
    const dial = (hostname: string, port: number) =>
      new Promise<import('node:net').Socket>((resolve, reject) =>
        connect({ hostname, port, protocol: 'tcp:' }, (error, socket) =>
          error ? reject(error) : resolve(socket!),
        ),
      )
    const socket = await dial('127.0.0.1', insidePort)
    expect(socket.remoteAddress).toBe('127.0.0.1')
    socket.destroy()
    const before = outsideConnections
    expect(await codeOf(dial('127.0.0.2', outsidePort))).toBe('ERR_DNS_NOT_PRIVATE')
    expect(await codeOf(dial('0.0.0.0', outsidePort))).toBe('ERR_DNS_NOT_PRIVATE')
    expect(outsideConnections).toBe(before)
  })

  it('checks every answer of a foreign lookup (here: one that ignores the ranges)', async () => {
    const permissive = createResolver({ servers: [dns.address], privateOnly: false }).lookup
    const lookup = guardedLookup(permissive, createAddressGuard({ allowedRanges: ALLOWED }))
    const answer = (name: string) =>
      new Promise((resolve) =>
        lookup(name, { all: true }, (error, addresses) => resolve(error ?? addresses)),
      )
    expect(await answer('svc.lab.test')).toEqual([{ address: '127.0.0.1', family: 4 }])
    expect(await answer('elsewhere.lab.test')).toMatchObject({ code: 'ERR_DNS_NOT_PRIVATE' })
  })

  it.each([
    [{ allowedRanges: ['10.0.0.0/'] }],
    [{ timeoutMs: 0 }],
    [{ tls: 'yes' }],
    [{ lookup: 'dns' }],
  ])('rejects a bad option %j', (options) => {
    expect(() => guardedConnect(options as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
  })
})
