import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Signer } from '@aws-sdk/rds-signer'
import {
  createTestCa,
  type Lab,
  type RdsProxyMysqlFront,
  rdsProxyMysqlFront,
  startLab,
} from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findMariadb, type MariadbHandle } from '../../../test/support/mariadb.js'
import {
  greetingPayload,
  newScramble,
  PacketReader,
  packet,
  parseErr,
  parseGreeting,
} from '../src/mysql-wire.js'

const run = promisify(execFile)

let db: MariadbHandle | undefined
let unavailable = ''
let lab: Lab
let front: RdsProxyMysqlFront
let dir: string

beforeAll(async () => {
  const found = await findMariadb()
  if ('unavailable' in found) {
    unavailable = found.unavailable
    return
  }
  db = found
  front = rdsProxyMysqlFront({
    upstream: {
      host: db.host,
      port: db.port,
      user: db.user,
      password: db.password,
      database: db.database,
    },
  })
  lab = await startLab({
    fronts: [front],
    services: [{ name: 'mysql', port: 3306, target: { front: 'rds-proxy-mysql' } }],
  })
  dir = await mkdtemp(join(tmpdir(), 'privatelink-rds-proxy-mysql-'))
})
afterAll(async () => {
  await lab?.close()
  await db?.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

/** Where the lab's first zone ENI listens for 3306 (remapped when the port was taken). */
function zoneTarget() {
  const zone = lab.endpoint.zones[0]!
  return { address: zone.addresses[0]!, port: zone.portMap?.['3306'] ?? 3306 }
}

/** A command's result, or undefined when the binary cannot run here (not installed, a dead shim). */
async function tryRun(file: string, args: string[], env?: NodeJS.ProcessEnv) {
  return await run(file, args, { env, timeout: 30_000 }).catch(
    (error: { code?: string | number }) => {
      if (error.code === 'ENOENT' || error.code === 'EACCES' || error.code === 127) return undefined
      throw error
    },
  )
}

/**
 * Runs the `mariadb` client as it would run in the VPC: `--host` is the proxy name, which resolves
 * to the zone's ENI. A private mount namespace gives it an /etc/hosts with that one line (the
 * machine's is untouched), so the client verifies the certificate against the proxy name.
 */
async function mariadbClient(args: string[], password: string, ca: string) {
  const target = zoneTarget()
  const hosts = join(dir, `hosts-${Math.random().toString(36).slice(2)}`)
  await writeFile(hosts, `127.0.0.1 localhost\n${target.address} ${front.proxyHost}\n`)
  const caFile = join(dir, 'ca.pem')
  await writeFile(caFile, ca)
  return await run(
    'unshare',
    [
      '--user',
      '--map-root-user',
      '--mount',
      'sh',
      '-c',
      'mount --bind "$0" /etc/hosts && exec "$@"',
      hosts,
      'mariadb',
      `--host=${front.proxyHost}`,
      `--port=${target.port}`,
      '--user=app_user',
      '--enable-cleartext-plugin',
      `--ssl-ca=${caFile}`,
      '--ssl-verify-server-cert',
      '--connect-timeout=10',
      '-N',
      ...args,
    ],
    {
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '',
        MYSQL_PWD: password,
      },
      timeout: 30_000,
    },
  )
}

/** Why the mariadb client cannot be run as mariadbClient runs it, or undefined when it can. */
async function clientUnavailable(): Promise<string | undefined> {
  if ((await tryRun('mariadb', ['--version'])) === undefined)
    return 'the mariadb client is not installed'
  const namespace = await tryRun('unshare', ['--user', '--map-root-user', '--mount', 'true']).catch(
    (error: Error) => error,
  )
  if (namespace === undefined || namespace instanceof Error)
    return 'unshare cannot create a user and mount namespace here (needed to give the mariadb client the proxy name)'
  return undefined
}

describe('the RDS Proxy for MySQL emulator with independent clients', () => {
  it('lets the mariadb client log in with a token from `aws rds generate-db-auth-token`, cleartext plugin, certificate verified against the proxy name', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const session = lab.aws.issueSession(3600)
    const generated = await tryRun(
      'aws',
      [
        'rds',
        'generate-db-auth-token',
        '--hostname',
        front.proxyHost,
        '--port',
        '3306',
        '--username',
        'app_user',
        '--region',
        lab.region,
      ],
      {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '',
        AWS_ACCESS_KEY_ID: session.accessKeyId,
        AWS_SECRET_ACCESS_KEY: session.secretAccessKey,
        AWS_SESSION_TOKEN: session.sessionToken!,
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    )
    if (generated === undefined) return context.skip('the AWS CLI is not installed')
    const why = await clientUnavailable()
    if (why !== undefined) return context.skip(why)
    const token = generated.stdout.trim()
    expect(token).toMatch(
      /^lab-mysql\.proxy-[a-z0-9]{12}\.us-west-2\.rds\.amazonaws\.com:3306\/\?Action=connect&DBUser=app_user&/,
    )
    expect(token).toMatch(/X-Amz-Security-Token=/)
    const { stdout } = await mariadbClient(
      ['-e', "SELECT CONCAT('mariadb via ', CURRENT_USER()), @@version"],
      token,
      lab.ca.certificatePem,
    )
    // MariaDB's client warns (on stdout) that the option is obsolete: cleartext is always on there.
    expect(stdout.trim().split('\n').at(-1)).toMatch(new RegExp(`^mariadb via ${db.user}@`))
    const connected = front
      .events()
      .filter((e) => e.type === 'connected')
      .at(-1)!
    expect(connected).toMatchObject({ user: 'app_user', tls: true })
    expect(connected.principal).toMatch(/^arn:aws:sts::111111111111:assumed-role\//)

    // The same login with another CA: the client refuses the proxy's certificate (it verifies).
    const otherCa = await createTestCa()
    const untrusted = await mariadbClient(['-e', 'SELECT 1'], token, otherCa.certificatePem).catch(
      (error: { stderr: string }) => error,
    )
    expect((untrusted as { stderr: string }).stderr).toMatch(/ERROR 2026/)

    // The same client with the token's last signature digit changed: ERROR 1045, as RDS Proxy says it.
    const tampered = token.replace(/([0-9a-f])$/, (c) => (c === '0' ? '1' : '0'))
    const refused = await mariadbClient(['-e', 'SELECT 1'], tampered, lab.ca.certificatePem).catch(
      (error: { stderr: string }) => error,
    )
    expect((refused as { stderr: string }).stderr).toMatch(
      /ERROR 1045 \(28000\).*Access denied for user 'app_user'/,
    )
    expect(front.events().at(-1)).toMatchObject({ type: 'refused', reason: 'bad-signature' })
  }, 60_000)

  it('greets with the database version, TLS offered and the proxy as the auth plugin owner; refuses a client without TLS with MySQL 3159', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const target = zoneTarget()
    const socket = new Socket()
    const reader = new PacketReader()
    const packets: { sequence: number; payload: Buffer }[] = []
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.connect(target.port, target.address, resolve)
    })
    const nextPacket = () =>
      new Promise<{ sequence: number; payload: Buffer }>((resolve) => {
        const ready = reader.next()
        if (ready !== undefined) return resolve(ready)
        socket.once('data', (chunk: Buffer) => {
          reader.push(chunk)
          resolve(nextPacket())
        })
      })
    const greeting = parseGreeting((await nextPacket()).payload)
    expect(greeting.capabilities & 0x800).toBe(0x800)
    expect(greeting.authPlugin).toBe('mysql_native_password')
    expect(greeting.serverVersion).toMatch(/MariaDB|^\d/)
    // A HandshakeResponse41 without the SSL flag: user app_user, empty auth data.
    const payload = Buffer.concat([
      Buffer.from([0x05, 0xa2, 0x0a, 0x00]), // PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH ...
      Buffer.alloc(4 + 1 + 23),
      Buffer.from('app_user\0'),
      Buffer.from([0]),
    ])
    const header = Buffer.alloc(4)
    header.writeUIntLE(payload.length, 0, 3)
    header[3] = 1
    socket.write(Buffer.concat([header, payload]))
    const answer = await nextPacket()
    packets.push(answer)
    socket.destroy()
    expect(answer.sequence).toBe(2)
    expect(parseErr(answer.payload)).toEqual({
      errno: 3159,
      sqlState: 'HY000',
      message:
        'Connections using insecure transport are prohibited while --require_secure_transport=ON.',
    })
    expect(front.events().at(-1)).toMatchObject({ type: 'refused', reason: 'no-tls', tls: false })
  })

  it('refuses the mariadb client a token signed for another DBUser', async (context) => {
    if (db === undefined) return context.skip(unavailable)
    const why = await clientUnavailable()
    if (why !== undefined) return context.skip(why)
    const sign = (username: string) =>
      new Signer({
        hostname: front.proxyHost,
        port: 3306,
        username,
        region: lab.region,
        credentials: lab.aws.credentials,
      }).getAuthToken()
    const other = await mariadbClient(
      ['-e', 'SELECT 1'],
      await sign('someone_else'),
      lab.ca.certificatePem,
    ).catch((error: { stderr: string }) => error)
    expect((other as { stderr: string }).stderr).toMatch(/ERROR 1045/)
    expect(front.events().at(-1)).toMatchObject({ type: 'refused', reason: 'user-mismatch' })
  }, 60_000)
})

describe('the emulator and its database connections', () => {
  it('a client that leaves before logging in (a health check) leaves no database connection open; once the greeting is known, none is opened', async () => {
    // A stand-in database that greets and counts its open connections.
    const open = new Set<Socket>()
    let accepted = 0
    const database: Server = createServer((socket) => {
      accepted++
      open.add(socket)
      socket.on('error', () => {})
      socket.once('close', () => open.delete(socket))
      socket.write(
        packet(
          0,
          greetingPayload({
            serverVersion: '8.0.36',
            connectionId: accepted,
            scramble: newScramble(),
            capabilities: 0x200 | 0x8000 | 0x80000,
            charset: 45,
            status: 2,
            mariadbCapabilities: 0,
            authPlugin: 'mysql_native_password',
          }),
        ),
      )
    })
    await new Promise<void>((resolve) => database.listen(0, '127.0.0.1', resolve))
    const port = (database.address() as { port: number }).port
    const front = rdsProxyMysqlFront({ upstream: { host: '127.0.0.1', port, user: 'proxy' } })
    const own = await startLab({
      fronts: [front],
      services: [{ name: 'mysql', port: 3306, target: { front: 'rds-proxy-mysql' } }],
    })
    const zone = own.endpoint.zones[0]!
    /** Connects, waits for the proxy's greeting, leaves. */
    const probe = async () => {
      const socket = new Socket()
      socket.on('error', () => {})
      await new Promise<void>((resolve) =>
        socket.connect(zone.portMap?.['3306'] ?? 3306, zone.addresses[0]!, resolve),
      )
      await new Promise((resolve) => socket.once('data', resolve))
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve())
        socket.destroy()
      })
    }
    try {
      await probe()
      for (let turn = 0; turn < 500 && open.size > 0; turn++)
        await new Promise((resolve) => setImmediate(resolve))
      expect(accepted).toBe(1) // the first session reads the database's greeting
      expect(open.size).toBe(0) // and does not keep its connection when the client leaves
      await probe()
      await probe()
      expect(accepted).toBe(1) // later probes greet from what the first read
    } finally {
      await own.close()
      for (const socket of open) socket.destroy()
      await new Promise((resolve) => database.close(resolve))
    }
  })
})
