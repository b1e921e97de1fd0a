import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { type SigV4Options, sigv4 } from '@privatelink/http'
import { createTestCa } from '@privatelink/lab'
import { Agent, type Dispatcher, fetch, request, FormData as UndiciFormData } from 'undici'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { verifyRequest } from './sigv4-oracle.js'

// sigv4() never signs plaintext: the service is HTTPS, with a lab-CA certificate for SERVER_NAME.
const SERVER_NAME = 'sigv4-bodies.test'

// A loopback service that checks every request the way AWS does, with the test's own SigV4
// implementation (./sigv4-oracle.ts), computed over the raw target, raw headers and body bytes.

const credentials = {
  accessKeyId: 'AKIDLOOPBACK',
  secretAccessKey: 'loopback/secret+KEY/do-not-log',
}
const scope = { region: 'eu-west-1', service: 'execute-api' }

interface Seen {
  ok: boolean
  reason?: string
  payloadHash?: string
  bodySha256: string
  bodyLength: number
  contentType?: string
  contentSha256Header?: string
}

let server: Server
let base: string
let caPem: string
let seen: Seen[] = []

beforeAll(async () => {
  const ca = await createTestCa()
  caPem = ca.certificatePem
  const issued = await ca.issue([SERVER_NAME])
  server = createServer({ cert: issued.certificatePem, key: issued.privateKeyPem }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const verdict = verifyRequest(
        { method: req.method ?? 'GET', target: req.url ?? '/', rawHeaders: req.rawHeaders, body },
        credentials.secretAccessKey,
        scope,
      )
      const record: Seen = {
        ok: verdict.ok,
        ...(verdict.ok ? { payloadHash: verdict.payloadHash } : { reason: verdict.reason }),
        bodySha256: createHash('sha256').update(body).digest('hex'),
        bodyLength: body.length,
        ...(req.headers['content-type'] === undefined
          ? {}
          : { contentType: req.headers['content-type'] }),
        ...(req.headers['x-amz-content-sha256'] === undefined
          ? {}
          : { contentSha256Header: String(req.headers['x-amz-content-sha256']) }),
      }
      seen.push(record)
      res.writeHead(verdict.ok ? 200 : 403, { 'content-type': 'application/json' })
      res.end(JSON.stringify(record))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

let agent: Agent
beforeEach(() => {
  seen = []
  agent = new Agent({ connect: { ca: caPem, servername: SERVER_NAME } })
})
afterEach(async () => {
  await agent.close()
})

const signing = (options: Partial<SigV4Options> = {}): Dispatcher =>
  agent.compose(sigv4({ ...scope, credentials, ...options }))

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')

describe('sigv4 hashes request bodies', () => {
  const text = '{"sku":"x","qty":2}'
  const fetchBodies: [string, () => RequestInit['body'] | unknown, string][] = [
    ['a string', () => text, text],
    ['a Uint8Array', () => new TextEncoder().encode(text), text],
    ['URLSearchParams', () => new URLSearchParams({ a: '1 2', b: '+' }), 'a=1+2&b=%2B'],
    ['a Blob', () => new Blob([text], { type: 'application/json' }), text],
    [
      'a web ReadableStream',
      () =>
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(text.slice(0, 5)))
            controller.enqueue(new TextEncoder().encode(text.slice(5)))
            controller.close()
          },
        }),
      text,
    ],
  ]

  it.each(fetchBodies)(
    'fetch() with %s: the body hash is signed, not UNSIGNED-PAYLOAD',
    async (_name, body, sent) => {
      const response = await fetch(`${base}/orders`, {
        method: 'POST',
        body: body() as never,
        dispatcher: signing(),
        duplex: 'half',
      } as never)
      const record = (await response.json()) as Seen
      expect(response.status).toBe(200)
      expect(record.payloadHash).toBe(sha256(sent))
      expect(record.contentSha256Header).toBeUndefined()
    },
  )

  it('fetch() with FormData: the multipart body and its boundary are signed', async () => {
    // undici's fetch serialises its own FormData class (Node 20's global one is another copy).
    const form = new UndiciFormData()
    form.append('name', 'value')
    form.append('file', new Blob(['file contents'], { type: 'text/plain' }), 'a.txt')
    const response = await fetch(`${base}/upload`, {
      method: 'POST',
      body: form as never,
      dispatcher: signing(),
    })
    const record = (await response.json()) as Seen
    expect(response.status).toBe(200)
    expect(record.payloadHash).toBe(record.bodySha256)
    expect(record.contentType).toMatch(/^multipart\/form-data; boundary=/)
  })

  const requestBodies: [string, () => unknown][] = [
    ['a string', () => 'hello body'],
    ['a Buffer', () => Buffer.from('hello body')],
    ['a Readable', () => Readable.from([Buffer.from('hello '), Buffer.from('body')])],
    [
      'an async iterable',
      () =>
        (async function* () {
          yield 'hello '
          yield new TextEncoder().encode('body')
        })(),
    ],
    ['a sync iterable', () => [Buffer.from('hello '), Buffer.from('body')]],
    ['a Blob', () => new Blob(['hello body'])],
  ]

  it.each(requestBodies)('request() with %s', async (_name, body) => {
    const response = await request(`${base}/orders`, {
      method: 'PUT',
      body: body() as never,
      dispatcher: signing(),
    })
    const record = (await response.body.json()) as Seen
    expect(response.statusCode).toBe(200)
    expect(record.payloadHash).toBe(sha256('hello body'))
  })

  it.each([
    ['undici', () => new UndiciFormData()],
    ["Node's built-in", () => new FormData()],
  ])(
    'request() with %s FormData: serialised once, signed with its content-type',
    async (_name, create) => {
      const form = create()
      form.append('field', 'value with spaces')
      const response = await request(`${base}/upload`, {
        method: 'POST',
        body: form as never,
        dispatcher: signing(),
      })
      const record = (await response.body.json()) as Seen
      expect(response.statusCode).toBe(200)
      expect(record.payloadHash).toBe(record.bodySha256)
      expect(record.bodyLength).toBeGreaterThan(0)
      expect(record.contentType).toMatch(/^multipart\/form-data; boundary=/)
    },
  )
})

describe('sigv4 signs the query and path the service sees', () => {
  it.each([
    '/orders?a=1+2',
    '/orders?q=what?&x=1',
    '/orders?b=2&a=%20x&b=1&flag',
    '/orders?name=J%C3%BCrgen&sym=%21%2A',
    '/a%20b/c%2Fd?x=~',
    '/orders/./../orders//1',
  ])('fetch() %s', async (path) => {
    const response = await fetch(`${base}${path}`, { dispatcher: signing() })
    const record = (await response.json()) as Seen
    expect(record).toMatchObject({ ok: true })
    expect(response.status).toBe(200)
  })

  it('request() with a path that carries a raw second "?" and "+"', async () => {
    const response = await request(`${base}/search?q=a+b?c`, { dispatcher: signing() })
    expect(await response.body.json()).toMatchObject({ ok: true })
  })
})

describe('sigv4 bounds what it buffers', () => {
  const big = 'x'.repeat(100)

  it('fetch() over maxBufferedBodyBytes fails with ERR_SIGV4_BODY_TOO_LARGE and sends nothing', async () => {
    const error = await fetch(`${base}/orders`, {
      method: 'POST',
      body: big,
      dispatcher: signing({ maxBufferedBodyBytes: 16 }),
    }).catch((caught: unknown) => caught)
    expect((error as Error).cause).toMatchObject({
      code: 'ERR_SIGV4_BODY_TOO_LARGE',
      details: { host: base.slice('https://'.length), maxBufferedBodyBytes: 16, bytesSeen: 100 },
    })
    expect(seen).toHaveLength(0)
  })

  it('a stream with no length is read up to the limit, then refused and destroyed', async () => {
    const source = Readable.from(
      (function* () {
        for (let index = 0; index < 10; index++) yield Buffer.alloc(10, 97)
      })(),
    )
    const error = await request(`${base}/orders`, {
      method: 'POST',
      body: source,
      dispatcher: signing({ maxBufferedBodyBytes: 25 }),
    }).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'ERR_SIGV4_BODY_TOO_LARGE', details: { bytesSeen: 30 } })
    expect((error as { hint: string }).hint).toContain('unsignedPayload')
    expect(source.destroyed).toBe(true)
    expect(seen).toHaveLength(0)
  })

  it('with unsignedPayload: true an oversized body goes out whole as UNSIGNED-PAYLOAD', async () => {
    const chunks = Array.from({ length: 10 }, (_, index) => Buffer.alloc(10, 48 + index))
    const response = await request(`${base}/objects/key`, {
      method: 'PUT',
      body: Readable.from(chunks),
      dispatcher: signing({ maxBufferedBodyBytes: 25, unsignedPayload: true }),
    })
    const record = (await response.body.json()) as Seen
    expect(response.statusCode).toBe(200)
    expect(record.payloadHash).toBe('UNSIGNED-PAYLOAD')
    expect(record.bodySha256).toBe(sha256(Buffer.concat(chunks)))

    // fetch() declares its length: over the limit, the body is not read before sending.
    const fetched = await fetch(`${base}/objects/key`, {
      method: 'PUT',
      body: big,
      dispatcher: signing({ maxBufferedBodyBytes: 25, unsignedPayload: true }),
    })
    expect(await fetched.json()).toMatchObject({
      payloadHash: 'UNSIGNED-PAYLOAD',
      bodySha256: sha256(big),
    })
  })

  it('with unsignedPayload: true a body under the limit is still hashed', async () => {
    const response = await fetch(`${base}/objects/key`, {
      method: 'PUT',
      body: 'small',
      dispatcher: signing({ unsignedPayload: true }),
    })
    expect(await response.json()).toMatchObject({ payloadHash: sha256('small') })
  })

  it('strings and bytes given to request() are in memory already and never limited', async () => {
    const response = await request(`${base}/orders`, {
      method: 'POST',
      body: big,
      dispatcher: signing({ maxBufferedBodyBytes: 16 }),
    })
    expect(await response.body.json()).toMatchObject({ payloadHash: sha256(big) })
  })
})

describe('sigv4 errors reach the handler, never the process', () => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled)
  })
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled)
  })

  it('a credential provider that rejects: ERR_SIGV4_FAILED naming the target, for fetch and request', async () => {
    const failing = signing({
      credentials: async () => {
        throw new Error('SSO session expired')
      },
    })
    const viaRequest = await request(`${base}/orders`, { dispatcher: failing }).catch(
      (caught: unknown) => caught,
    )
    expect(viaRequest).toMatchObject({
      code: 'ERR_SIGV4_FAILED',
      details: {
        host: base.slice('https://'.length),
        service: 'execute-api',
        region: 'eu-west-1',
        stage: 'credentials',
      },
    })
    expect((viaRequest as Error).message).toContain('credential provider failed')
    expect(((viaRequest as Error).cause as Error).message).toBe('SSO session expired')

    const viaFetch = await fetch(`${base}/orders`, {
      method: 'POST',
      body: 'x',
      dispatcher: failing,
    }).catch((caught: unknown) => caught)
    expect((viaFetch as Error).cause).toMatchObject({ code: 'ERR_SIGV4_FAILED' })
    await new Promise((resolve) => setImmediate(resolve))
    expect(unhandled).toEqual([])
    expect(seen).toHaveLength(0)
  })

  it('credentials without a secret: ERR_SIGV4_FAILED, and no secret in the error', async () => {
    const provided = { accessKeyId: 'AKIDLOOPBACK', sessionToken: 'token-value-secret' }
    const error = await request(`${base}/orders`, {
      dispatcher: signing({ credentials: async () => provided as never }),
    }).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'ERR_SIGV4_FAILED', details: { stage: 'signing' } })
    const serialised = JSON.stringify(error) + String((error as Error).stack)
    expect(serialised).not.toContain('token-value-secret')
    expect(serialised).not.toContain(credentials.secretAccessKey)
  })

  it('a dispatcher below that throws from dispatch(): the error reaches the caller', async () => {
    const throwing = agent.compose(
      // undici 8 checks that an interceptor's dispatch takes (options, handler).
      () => (_options: unknown, _handler: unknown) => {
        throw new Error('dispatcher closed')
      },
      sigv4({ ...scope, credentials }),
    )
    const error = await request(`${base}/orders`, { dispatcher: throwing }).catch(
      (caught: unknown) => caught,
    )
    expect((error as Error).message).toBe('dispatcher closed')
    await new Promise((resolve) => setImmediate(resolve))
    expect(unhandled).toEqual([])
  })

  it('signing that fails after a body was half read releases the body', async () => {
    const source = Readable.from(Array.from({ length: 10 }, () => Buffer.alloc(10, 97)))
    const error = await request(`${base}/objects/key`, {
      method: 'PUT',
      body: source,
      dispatcher: signing({
        maxBufferedBodyBytes: 25,
        unsignedPayload: true,
        credentials: () => Promise.reject(new Error('no role')),
      }),
    }).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'ERR_SIGV4_FAILED', details: { stage: 'credentials' } })
    expect(source.destroyed).toBe(true)
  })

  it('a body stream that errors: its error reaches the caller', async () => {
    const source = new Readable({
      read() {
        this.destroy(new Error('disk read failed'))
      },
    })
    const error = await request(`${base}/orders`, {
      method: 'POST',
      body: source,
      dispatcher: signing(),
    }).catch((caught: unknown) => caught)
    expect((error as Error).message).toBe('disk read failed')
    expect(seen).toHaveLength(0)
  })
})

describe('sigv4 options', () => {
  const valid = { region: 'us-east-1', credentials }
  it.each([
    ['maxBufferedBodyBytes', { maxBufferedBodyBytes: -1 }],
    ['maxBufferedBodyBytes', { maxBufferedBodyBytes: 1.5 }],
    ['maxBufferedBodyBytes', { maxBufferedBodyBytes: '10' }],
    ['unsignedPayload', { unsignedPayload: 'yes' }],
    ['clock', { clock: 5 }],
    ['service', { service: '' }],
    ['region', { region: '' }],
    ['credentials', { credentials: { accessKeyId: 'AKID' } }],
  ])('rejects a bad %s', (option, override) => {
    const attempt = () => sigv4({ ...valid, ...override } as never)
    expect(attempt).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        details: expect.objectContaining({ option }),
      }),
    )
  })

  it('never puts a secret in an option error', () => {
    let caught: unknown
    try {
      sigv4({ region: 'us-east-1', credentials: { secretAccessKey: 'shh-secret' } as never })
    } catch (error) {
      caught = error
    }
    expect(caught).toMatchObject({ code: 'ERR_INVALID_OPTION' })
    expect(JSON.stringify(caught)).not.toContain('shh-secret')
  })
})
