import { once } from 'node:events'
import { type TLSSocket, connect as tlsConnect } from 'node:tls'
import { Sha256 } from '@aws-crypto/sha256-js'
import {
  type ElastiCacheFront,
  elastiCacheFront,
  elastiCacheRegionCode,
  type Lab,
  startLab,
} from '@privatelink/lab'
import { SignatureV4 } from '@smithy/signature-v4'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { encodeCommand, replyEnd } from '../src/elasticache-front-resp.js'

const redisUrl = inject('redisUrl')

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

/** A raw RESP connection over TLS to a zone, verified against the front's name with the lab CA. */
class Connection {
  #buffer = Buffer.alloc(0)
  #waiters: ((reply: string) => void)[] = []
  closed: Promise<unknown>

  constructor(readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk])
      for (;;) {
        const end = replyEnd(this.#buffer, 0)
        if (end < 0 || this.#waiters.length === 0) break
        const reply = this.#buffer.subarray(0, end).toString()
        this.#buffer = this.#buffer.subarray(end)
        this.#waiters.shift()!(reply)
      }
    })
    this.closed = once(socket, 'close')
  }

  /** Sends the commands in one write; resolves with their replies, in order. */
  send(...commands: string[][]): Promise<string[]> {
    const replies = commands.map(
      () => new Promise<string>((resolve) => this.#waiters.push(resolve)),
    )
    this.socket.write(Buffer.concat(commands.map((command) => encodeCommand(command))))
    return Promise.all(replies)
  }

  async command(...args: string[]): Promise<string> {
    return (await this.send(args))[0]!
  }
}

let now = Date.now()

async function later<T>(ms: number, body: () => Promise<T>): Promise<T> {
  now += ms
  try {
    return await body()
  } finally {
    now -= ms
  }
}

/** The ElastiCache token as AWS's own samples build it, signed by smithy's SigV4 (not the lab's code). */
async function token(
  options: {
    cacheName?: string
    user?: string
    serverless?: boolean
    service?: string
    region?: string
    credentials?: Credentials
    query?: Record<string, string>
  } = {},
): Promise<string> {
  const signer = new SignatureV4({
    service: options.service ?? 'elasticache',
    region: options.region ?? lab.region,
    credentials: options.credentials ?? lab.aws.credentials,
    sha256: Sha256,
  })
  const cacheName = options.cacheName ?? 'lab-cache'
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'http:',
      hostname: cacheName,
      path: '/',
      query: {
        Action: 'connect',
        User: options.user ?? 'app-user',
        ...(options.serverless ? { ResourceType: 'ServerlessCache' } : {}),
        ...options.query,
      },
      headers: { host: cacheName },
    },
    { expiresIn: 900, signingDate: new Date(now) },
  )
  const query = Object.entries(presigned.query ?? {})
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&')
  return `${cacheName}/?${query}`
}

let lab: Lab
let front: ElastiCacheFront
let serverless: ElastiCacheFront
let memorydb: ElastiCacheFront
let restricted: ElastiCacheFront

async function open(target: ElastiCacheFront, service: string, zone = 0): Promise<Connection> {
  const endpointZone = lab.endpoint.zones[zone]!
  const port = endpointZone.portMap?.[String(servicePorts[service])] ?? servicePorts[service]!
  const socket = tlsConnect({
    host: endpointZone.addresses[0]!,
    port,
    servername: target.hostname,
    ca: lab.ca.certificatePem,
  })
  await once(socket, 'secureConnect')
  return new Connection(socket)
}

const servicePorts: Record<string, number> = {
  redis: 6379,
  serverless: 6380,
  memorydb: 6381,
  restricted: 6382,
}

describe.skipIf(redisUrl === '')('elastiCacheFront', () => {
  beforeAll(async () => {
    const url = new URL(redisUrl)
    const upstream = { host: url.hostname, port: Number(url.port || 6379) }
    front = elastiCacheFront({ upstream })
    serverless = elastiCacheFront({
      name: 'serverless',
      cacheName: 'lab-sls',
      serverless: true,
      upstream,
    })
    memorydb = elastiCacheFront({
      name: 'memorydb',
      cacheName: 'lab-mdb',
      service: 'memorydb',
      upstream,
    })
    restricted = elastiCacheFront({ name: 'restricted', users: ['reader'], upstream })
    lab = await startLab({
      clock: () => now,
      fronts: [front, serverless, memorydb, restricted],
      services: Object.entries(servicePorts).map(([name, port]) => ({
        name,
        port,
        target: { front: name === 'redis' ? 'elasticache' : name },
      })),
    })
  })
  afterAll(() => lab?.close())

  it('names the cache like ElastiCache and MemoryDB do, under a wildcard certificate', () => {
    expect(elastiCacheRegionCode('us-west-2')).toBe('usw2')
    expect(elastiCacheRegionCode('ap-southeast-2')).toBe('apse2')
    expect(elastiCacheRegionCode('eu-central-1')).toBe('euc1')
    expect(front.hostname).toMatch(/^master\.lab-cache\.[0-9a-f]{6}\.usw2\.cache\.amazonaws\.com$/)
    expect(serverless.hostname).toMatch(
      /^lab-sls-[0-9a-f]{6}\.serverless\.usw2\.cache\.amazonaws\.com$/,
    )
    expect(memorydb.hostname).toMatch(
      /^clustercfg\.lab-mdb\.[0-9a-f]{6}\.memorydb\.us-west-2\.amazonaws\.com$/,
    )
    expect(front.nodeName(1)).toBe(front.hostname.replace(/^master\./, 'lab-cache-0001-001.'))
  })

  it('answers NOAUTH before AUTH, then relays once a valid IAM token is presented', async () => {
    const connection = await open(front, 'redis')
    expect(await connection.command('GET', 'privatelink:lab:k')).toBe(
      '-NOAUTH Authentication required.\r\n',
    )
    expect(await connection.command('HELLO', '3')).toMatch(/^-NOAUTH HELLO must be called/)
    expect(await connection.command('AUTH', 'app-user', await token())).toBe('+OK\r\n')
    expect(await connection.command('SET', 'privatelink:lab:k', 'v1')).toBe('+OK\r\n')
    expect(await connection.command('GET', 'privatelink:lab:k')).toBe('$2\r\nv1\r\n')
    expect(front.stats().noauth).toBeGreaterThanOrEqual(2)
    connection.socket.destroy()
  })

  it('accepts HELLO 3 AUTH user token and relays the HELLO without the credentials', async () => {
    const connection = await open(front, 'redis', 1)
    const hello = await connection.command(
      'HELLO',
      '3',
      'AUTH',
      'app-user',
      await token(),
      'SETNAME',
      'lab-test',
    )
    expect(hello.startsWith('%')).toBe(true)
    expect(hello).toContain('proto')
    expect(await connection.command('CLIENT', 'GETNAME')).toBe('$8\r\nlab-test\r\n')
    connection.socket.destroy()
  })

  it('refuses wrong, expired, wrong-user and wrong-host tokens with WRONGPASS, telling why in stats', async () => {
    const connection = await open(front, 'redis')
    const wrongpass = '-WRONGPASS invalid username-password pair or user is disabled.\r\n'
    const stranger = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) }
    expect(
      await connection.command('AUTH', 'app-user', await token({ credentials: stranger })),
    ).toBe(wrongpass)
    const old = await token()
    await later(16 * 60_000, async () => {
      expect(await connection.command('AUTH', 'app-user', old)).toBe(wrongpass)
    })
    expect(await connection.command('AUTH', 'other-user', await token())).toBe(wrongpass)
    expect(
      await connection.command('AUTH', 'app-user', await token({ cacheName: 'other-cache' })),
    ).toBe(wrongpass)
    expect(await connection.command('AUTH', 'app-user', await token({ region: 'us-east-1' }))).toBe(
      wrongpass,
    )
    expect(await connection.command('AUTH', await token())).toBe(wrongpass)
    expect(await connection.command('AUTH', 'app-user', 'not a token')).toBe(wrongpass)
    // Refusals leave the connection unauthenticated.
    expect(await connection.command('PING')).toBe('-NOAUTH Authentication required.\r\n')
    expect(front.stats().refused).toMatchObject({
      'unknown-key': 1,
      'expired-token': 1,
      'user-mismatch': 1,
      'wrong-host': 1,
      'wrong-region': 1,
      'no-user': 1,
      'malformed-token': 1,
    })
    // Stats and events name users and reasons, never the token.
    expect(JSON.stringify(front.events())).not.toContain('X-Amz-Signature')
    connection.socket.destroy()
  })

  it('accepts STS session credentials and refuses them once they expire', async () => {
    const session = lab.aws.issueSession(600)
    const connection = await open(front, 'redis')
    expect(
      await connection.command('AUTH', 'app-user', await token({ credentials: session })),
    ).toBe('+OK\r\n')
    const signed = await token({ credentials: session })
    await later(601_000, async () => {
      expect(await connection.command('AUTH', 'app-user', signed)).toMatch(/^-WRONGPASS/)
    })
    expect(front.stats().refused['expired-credentials']).toBe(1)
    connection.socket.destroy()
  })

  it('checks ResourceType for serverless caches and the memorydb signing name', async () => {
    const sls = await open(serverless, 'serverless')
    expect(await sls.command('AUTH', 'app-user', await token({ cacheName: 'lab-sls' }))).toMatch(
      /^-WRONGPASS/,
    )
    expect(serverless.stats().refused['wrong-resource-type']).toBe(1)
    expect(
      await sls.command(
        'AUTH',
        'app-user',
        await token({ cacheName: 'lab-sls', serverless: true }),
      ),
    ).toBe('+OK\r\n')
    sls.socket.destroy()

    const mdb = await open(memorydb, 'memorydb')
    expect(await mdb.command('AUTH', 'app-user', await token({ cacheName: 'lab-mdb' }))).toMatch(
      /^-WRONGPASS/,
    )
    expect(memorydb.stats().refused['wrong-service']).toBe(1)
    expect(
      await mdb.command(
        'AUTH',
        'app-user',
        await token({ cacheName: 'lab-mdb', service: 'memorydb' }),
      ),
    ).toBe('+OK\r\n')
    mdb.socket.destroy()
  })

  it('refuses users that are not IAM-enabled on the cache', async () => {
    const connection = await open(restricted, 'restricted')
    expect(await connection.command('AUTH', 'app-user', await token())).toMatch(/^-WRONGPASS/)
    expect(await connection.command('AUTH', 'reader', await token({ user: 'reader' }))).toBe(
      '+OK\r\n',
    )
    expect(restricted.stats().refused['user-not-allowed']).toBe(1)
    connection.socket.destroy()
  })

  it('keeps a pipelined re-AUTH in order with relayed replies', async () => {
    const connection = await open(front, 'redis')
    await connection.command('AUTH', 'app-user', await token())
    await connection.command('SET', 'privatelink:lab:order', 'x')
    const replies = await connection.send(
      ['GET', 'privatelink:lab:order'],
      ['AUTH', 'app-user', await token()],
      ['GET', 'privatelink:lab:order'],
      ['AUTH', 'app-user', 'bad'],
      ['PING'],
    )
    expect(replies).toEqual([
      '$1\r\nx\r\n',
      '+OK\r\n',
      '$1\r\nx\r\n',
      '-WRONGPASS invalid username-password pair or user is disabled.\r\n',
      '+PONG\r\n',
    ])
    connection.socket.destroy()
  })

  it('drops connections 12 hours after their last AUTH (lab clock); a re-AUTH resets the count', async () => {
    const stale = await open(front, 'redis')
    const fresh = await open(front, 'redis')
    await stale.command('AUTH', 'app-user', await token())
    await fresh.command('AUTH', 'app-user', await token())
    const expiredBefore = front.stats().expired
    await later(11 * 3_600_000, async () => {
      expect(await fresh.command('AUTH', 'app-user', await token())).toBe('+OK\r\n')
    })
    await later(12 * 3_600_000 + 1_000, async () => {
      stale.socket.write(encodeCommand(['PING']))
      await stale.closed
      expect(await fresh.command('PING')).toBe('+PONG\r\n')
      expect(front.sweep()).toBe(0)
    })
    expect(front.stats().expired).toBe(expiredBefore + 1)
    expect(front.stats().reauthenticated).toBeGreaterThanOrEqual(1)
    fresh.socket.destroy()
  })

  it('sweeps idle connections past 12 hours without a command', async () => {
    const idle = await open(front, 'redis')
    await idle.command('AUTH', 'app-user', await token())
    await later(12 * 3_600_000, async () => {
      expect(front.sweep()).toBe(1)
      await idle.closed
    })
  })

  it('validates its options', () => {
    expect(() => elastiCacheFront({ upstream: { host: '', port: 1 } })).toThrow(/upstream.host/)
    expect(() =>
      elastiCacheFront({ cacheName: 'Bad_Name', upstream: { host: '127.0.0.1', port: 6379 } }),
    ).toThrow(/cacheName/)
    expect(() =>
      // @ts-expect-error: not a service
      elastiCacheFront({ service: 'redis', upstream: { host: '127.0.0.1', port: 6379 } }),
    ).toThrow(/service/)
  })
})
