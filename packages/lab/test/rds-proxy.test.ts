import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Signer } from '@aws-sdk/rds-signer'
import { type Lab, type RdsProxyFront, rdsProxyFront, startLab } from '@privatelink/lab'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { errorResponse, MessageReader, parseErrorFields, startupMessage } from '../src/pg-wire.js'
import { md5Password, scramClient } from '../src/pg-wire-auth.js'
import { verifyRdsToken } from '../src/rds-proxy-token.js'

const run = promisify(execFile)

let lab: Lab
let front: RdsProxyFront
let restricted: RdsProxyFront
// The token signer reads the real clock, so the lab clock starts there and only moves forward.
let now = Date.now()
const upstreamUrl = new URL(inject('pgUrl'))
const upstream = {
  host: upstreamUrl.hostname,
  port: Number(upstreamUrl.port || 5432),
  user: decodeURIComponent(upstreamUrl.username),
  ...(upstreamUrl.password === '' ? {} : { password: decodeURIComponent(upstreamUrl.password) }),
}
const database = upstreamUrl.pathname.slice(1) || 'postgres'

/** Runs `body` with the lab clock moved forward, then moves it back for the tests that follow. */
async function later<T>(ms: number, body: () => Promise<T>): Promise<T> {
  now += ms
  try {
    return await body()
  } finally {
    now -= ms
  }
}

beforeAll(async () => {
  front = rdsProxyFront({ upstream })
  restricted = rdsProxyFront({
    name: 'restricted',
    port: 5433,
    users: ['reader'],
    upstream: { ...upstream, database: 'privatelink_lab_no_such_database' },
  })
  lab = await startLab({
    clock: () => now,
    fronts: [front, restricted],
    services: [
      { name: 'postgres', port: 5432, target: { front: 'rds-proxy' } },
      { name: 'restricted', port: 5433, target: { front: 'restricted' } },
    ],
  })
})
afterAll(() => lab?.close())

/** Where the lab's first zone ENI listens for `port` (remapped when the port was taken). */
function zoneTarget(port: number) {
  const zone = lab.endpoint.zones[0]!
  return { address: zone.addresses[0]!, port: zone.portMap?.[String(port)] ?? port }
}

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

function token(
  options: { hostname?: string; port?: number; username?: string; credentials?: Credentials } = {},
) {
  return new Signer({
    hostname: options.hostname ?? front.proxyHost,
    port: options.port ?? 5432,
    username: options.username ?? 'app_user',
    region: lab.region,
    credentials: options.credentials ?? lab.aws.credentials,
  }).getAuthToken()
}

/** A pg Client that believes it talks to the proxy name while its bytes go to a lab zone ENI. */
function client(
  password: string,
  options: { user?: string; port?: number; ssl?: boolean; host?: string } = {},
) {
  const target = zoneTarget(options.port ?? 5432)
  return new pg.Client({
    host: options.host ?? front.proxyHost,
    port: options.port ?? 5432,
    user: options.user ?? 'app_user',
    database,
    password,
    ssl: options.ssl === false ? false : { ca: lab.ca.certificatePem },
    stream: () => {
      const socket = new Socket()
      const connect = socket.connect.bind(socket) as (port: number, host: string) => Socket
      socket.connect = (() => connect(target.port, target.address)) as unknown as Socket['connect']
      return socket
    },
  })
}

async function refusal(
  password: string,
  options: Parameters<typeof client>[1] = {},
): Promise<{ code?: string; message: string; detail?: string; severity?: string }> {
  const c = client(password, options)
  c.on('error', () => {})
  const error = await c.connect().then(
    () => undefined,
    (e: unknown) => e as { code?: string; message: string; detail?: string; severity?: string },
  )
  await c.end().catch(() => {})
  if (error === undefined) throw new Error('expected the proxy to refuse the connection')
  return error
}

describe('RDS Proxy emulator', () => {
  it('accepts a token from @aws-sdk/rds-signer over verify-full TLS and relays to PostgreSQL', async () => {
    expect(front.proxyHost).toMatch(
      /^lab-proxy\.proxy-[a-z0-9]{12}\.us-west-2\.rds\.amazonaws\.com$/,
    )
    const before = front.stats().authenticated
    const c = client(await token())
    await c.connect()
    const { rows } = await c.query('SELECT 1 AS one, current_user AS upstream_user')
    expect(rows).toEqual([{ one: 1, upstream_user: upstream.user }])
    await c.end()
    expect(front.stats().authenticated).toBe(before + 1)
    const connected = front
      .events()
      .filter((e) => e.type === 'connected')
      .at(-1)!
    expect(connected).toMatchObject({ user: 'app_user', database })
    expect(connected.principal).toMatch(/^arn:aws:iam::111111111111:user\//)
  })

  it('accepts a token signed with an STS session, and refuses it once the session expired', async () => {
    const session = lab.aws.issueSession(600)
    const value = await token({ credentials: session })
    const c = client(value)
    await c.connect()
    expect((await c.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }])
    await c.end()
    const error = await later(601_000, () => refusal(value))
    expect(error).toMatchObject({ code: '28P01', severity: 'FATAL' })
    expect(error.message).toBe(
      'The IAM authentication failed for the role app_user. Check the IAM token for this role and try again.',
    )
    expect(error.detail).toMatch(/^expired-credentials: /)
  })

  it('refuses a token signed for another host: the vpce name you dial is not the proxy name', async () => {
    const error = await refusal(await token({ hostname: lab.endpoint.dnsName! }))
    expect(error.code).toBe('28P01')
    expect(error.detail).toContain(
      `wrong-host: the token was signed for ${lab.endpoint.dnsName}:5432`,
    )
    const otherPort = await refusal(await token({ port: 6543 }))
    expect(otherPort.detail).toMatch(/^wrong-host: /)
  })

  it('refuses a token whose DBUser is not the user connecting', async () => {
    const error = await refusal(await token({ username: 'admin' }))
    expect(error).toMatchObject({ code: '28P01' })
    expect(error.detail).toBe(
      "user-mismatch: the token is for DBUser 'admin', the connection is for user 'app_user'",
    )
  })

  it('refuses a token 15 minutes old by the lab clock', async () => {
    const value = await token()
    await later(14 * 60_000, async () => {
      const c = client(value)
      await c.connect()
      await c.end()
    })
    const error = await later(15 * 60_000 + 2000, () => refusal(value))
    expect(error.code).toBe('28P01')
    expect(error.detail).toBe('expired-token: Request has expired.')
  })

  it('refuses a bad signature and an unknown key', async () => {
    const forged = await token({
      credentials: { ...lab.aws.credentials, secretAccessKey: 'not-the-secret' },
    })
    const error = await refusal(forged)
    expect(error.code).toBe('28P01')
    expect(error.detail).toMatch(/^bad-signature: The request signature we calculated/)
    expect(JSON.stringify(error)).not.toContain('not-the-secret')
    const unknown = await refusal(
      await token({ credentials: { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' } }),
    )
    expect(unknown.detail).toMatch(/^unknown-key: /)
    const notAToken = await refusal('hunter2')
    expect(notAToken.detail).toMatch(/^malformed-token: /)
  })

  it('refuses a plain (non-TLS) startup with SQLSTATE 28000, as RDS Proxy does', async () => {
    const error = await refusal(await token(), { ssl: false })
    expect(error).toMatchObject({
      code: '28000',
      severity: 'FATAL',
      message: 'This RDS Proxy requires TLS connections',
    })
    expect(front.stats().refused['no-tls']).toBeGreaterThanOrEqual(1)
  })

  it("serves a certificate for the proxy name only: dialling by the vpce name fails pg's name check", async () => {
    const c = client(await token(), { host: lab.endpoint.dnsName! })
    c.on('error', () => {})
    await expect(c.connect()).rejects.toThrow(/Hostname\/IP does not match certificate's altnames/)
    await c.end().catch(() => {})
  })

  it('refuses users outside `users`, and forwards upstream refusals as they come', async () => {
    const notAllowed = await refusal(
      await token({ hostname: restricted.proxyHost, port: 5433, username: 'app_user' }),
      { port: 5433, host: restricted.proxyHost },
    )
    expect(notAllowed.code).toBe('28P01')
    expect(notAllowed.detail).toMatch(/^user-not-allowed: /)
    const upstreamRefused = await refusal(
      await token({ hostname: restricted.proxyHost, port: 5433, username: 'reader' }),
      { port: 5433, host: restricted.proxyHost, user: 'reader' },
    )
    expect(upstreamRefused.code).toBe('3D000')
    expect(restricted.stats().refused).toMatchObject({
      'user-not-allowed': 1,
      'upstream-failed': 1,
    })
  })

  it('keeps tokens out of stats and events', async () => {
    const value = await token()
    await refusal(value, { user: 'someone' })
    const signature = /X-Amz-Signature=([0-9a-f]+)/.exec(value)![1]!
    const seen = JSON.stringify([front.stats(), front.events(), restricted.events()])
    expect(seen).not.toContain(signature)
    expect(seen).not.toContain(lab.aws.credentials.secretAccessKey)
    expect(seen).not.toContain('X-Amz-')
  })

  it('forwards a CancelRequest to PostgreSQL: a running query is cancelled', async () => {
    const c = client(await token())
    await c.connect()
    const { processID, secretKey } = c as unknown as { processID: number; secretKey: number }
    const sleeping = c.query('SELECT pg_sleep(30)').then(
      () => 'finished',
      (error: { code?: string }) => error.code,
    )
    const cancels = front.stats().cancels
    const target = zoneTarget(5432)
    const request = Buffer.alloc(16)
    request.writeInt32BE(16, 0)
    request.writeInt32BE(80_877_102, 4)
    request.writeInt32BE(processID, 8)
    request.writeInt32BE(secretKey, 12)
    const raw = new Socket()
    raw.on('error', () => {})
    raw.connect(target.port, target.address, () => raw.end(request))
    expect(await sleeping).toBe('57014')
    expect(front.stats().cancels).toBe(cancels + 1)
    await c.end()
  })

  it('accepts a token from `aws rds generate-db-auth-token` signed with session credentials', async (context) => {
    // Like Redis in test/support, an optional external tool: without the AWS CLI this reports as
    // skipped, and the recorded botocore token below still runs.
    const session = lab.aws.issueSession(3600)
    const generated = await run(
      'aws',
      [
        'rds',
        'generate-db-auth-token',
        '--hostname',
        front.proxyHost,
        '--port',
        '5432',
        '--username',
        'app_user',
        '--region',
        lab.region,
      ],
      {
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: process.env['HOME'] ?? '',
          AWS_ACCESS_KEY_ID: session.accessKeyId,
          AWS_SECRET_ACCESS_KEY: session.secretAccessKey,
          AWS_SESSION_TOKEN: session.sessionToken!,
          AWS_CONFIG_FILE: '/nonexistent',
          AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      },
    ).catch((error: { code?: string | number }) => {
      // Not installed, not readable, or a shim that finds no aws behind it (exit 127).
      if (error.code === 'ENOENT' || error.code === 'EACCES' || error.code === 127) return undefined
      throw error
    })
    if (generated === undefined) return context.skip('the AWS CLI is not installed')
    const { stdout } = generated
    const value = stdout.trim()
    expect(value).toMatch(/X-Amz-Security-Token=/)
    const c = client(value)
    await c.connect()
    expect((await c.query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }])
    await c.end()
  }, 60_000)

  it('lets psql connect with a token, sslmode=verify-full and hostaddr set to a zone ENI', async () => {
    const psql = await run('psql', ['--version']).catch(() => undefined)
    expect(psql?.stdout ?? 'psql missing', 'psql is installed on this machine').toMatch(/psql/)
    const dir = await mkdtemp(join(tmpdir(), 'privatelink-rds-proxy-'))
    try {
      const caFile = join(dir, 'lab-ca.pem')
      await writeFile(caFile, lab.ca.certificatePem)
      const target = zoneTarget(5432)
      const { stdout } = await run(
        'psql',
        [
          `host=${front.proxyHost} hostaddr=${target.address} port=${target.port} user=app_user dbname=${database} sslmode=verify-full sslrootcert=${caFile}`,
          '-tAc',
          "SELECT 'psql via ' || current_user",
        ],
        { env: { ...process.env, PGPASSWORD: await token(), PGCONNECT_TIMEOUT: '10' } },
      )
      expect(stdout.trim()).toBe(`psql via ${upstream.user}`)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('a token recorded from `aws rds generate-db-auth-token` (botocore)', () => {
  const recorded = JSON.parse(
    readFileSync(new URL('./fixtures/aws-cli-rds-token.json', import.meta.url), 'utf8'),
  ) as {
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }
    hostname: string
    port: number
    username: string
    region: string
    token: string
  }
  const signedAt = Date.parse(
    /X-Amz-Date=(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/
      .exec(recorded.token)!
      .slice(1)
      .reduce((iso, part, i) => iso + part + ['-', '-', 'T', ':', ':', 'Z'][i], ''),
  )
  const key = {
    ...recorded.credentials,
    arn: 'arn:aws:sts::1:assumed-role/r/s',
    account: '1',
    userId: 'AROA:s',
  }
  const check = (token: string, at = signedAt + 60_000) =>
    verifyRdsToken(token, {
      proxyHost: recorded.hostname,
      port: recorded.port,
      user: recorded.username,
      region: recorded.region,
      clock: () => at,
      store: { get: (id) => (id === key.accessKeyId ? key : undefined), isExpired: () => false },
    })

  it('is accepted with the key and session token that signed it, within its 900 s', () => {
    expect(check(recorded.token)).toEqual({
      ok: true,
      principalArn: key.arn,
      expiresAt: signedAt + 900_000,
    })
    expect(check(recorded.token, signedAt + 901_000)).toMatchObject({
      ok: false,
      reason: 'expired-token',
    })
  })

  it('is refused once edited', () => {
    const tampered = recorded.token.replace('IQoJb3JpZ2luX2VjEXAMPLE', 'IQoJb3JpZ2luX2VjEXAMPLF')
    expect(check(tampered)).toMatchObject({ ok: false, reason: 'bad-session-token' })
    expect(check(recorded.token.replace('DBUser=app_user', 'DBUser=app_usr'))).toMatchObject({
      ok: false,
      reason: 'user-mismatch',
    })
  })
})

describe('pg wire helpers', () => {
  it('cuts messages split across chunks and startup packets', () => {
    const reader = new MessageReader()
    const startup = startupMessage({ user: 'app_user', database: 'db' })
    reader.push(startup.subarray(0, 5))
    expect(reader.nextStartup()).toBeUndefined()
    reader.push(startup.subarray(5))
    expect(reader.nextStartup()).toEqual({
      kind: 'startup',
      protocol: 196_608,
      parameters: { user: 'app_user', database: 'db' },
    })
    const error = errorResponse({ severity: 'FATAL', code: '28P01', message: 'no', detail: 'why' })
    reader.push(error.subarray(0, 3))
    expect(reader.next()).toBeUndefined()
    reader.push(error.subarray(3))
    const message = reader.next()!
    expect(message.type).toBe('E')
    expect(parseErrorFields(message.body)).toEqual({
      S: 'FATAL',
      V: 'FATAL',
      C: '28P01',
      M: 'no',
      D: 'why',
    })
  })

  it('computes SCRAM-SHA-256 as RFC 7677 section 3 shows, and MD5 as PostgreSQL does', () => {
    const scram = scramClient('pencil', 'rOprNGfwEbeRWgbNEkqO', 'user')
    expect(scram.first()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO')
    expect(
      scram.final(
        'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
      ),
    ).toBe(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    )
    expect(scram.verify('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toBe(true)
    expect(scram.verify('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toBe(false)
    // PostgreSQL's own answer: SELECT 'md5' || md5(md5('secretalice') || 'abcd')
    expect(md5Password('alice', 'secret', Buffer.from('abcd'))).toBe(
      'md5c90bcafc0a2b54511742383e34d5dc9d',
    )
  })

  it('validates options at construction', () => {
    expect(() => rdsProxyFront({ upstream: { ...upstream, port: 0 } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    expect(() => rdsProxyFront({ upstream, proxyHost: 'Not A Host' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    expect(() => rdsProxyFront({ upstream, users: 'app_user' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    expect(() => rdsProxyFront({ upstream }).proxyHost).toThrow(/once the lab has started/)
  })
})
