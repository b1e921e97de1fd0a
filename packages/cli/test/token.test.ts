import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type Lab, type RdsProxyFront, rdsProxyFront, startLab } from '@privatelink/lab'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { TokenReport } from '../src/index.js'
import { caFile, cli, labEnv, schemaValidator } from './support.js'

const upstreamUrl = new URL(inject('pgUrl'))
const user = decodeURIComponent(upstreamUrl.username || 'postgres')
const database = upstreamUrl.pathname.slice(1) || 'postgres'
let lab: Lab
let front: RdsProxyFront
let ca: Awaited<ReturnType<typeof caFile>>

beforeAll(async () => {
  front = rdsProxyFront({
    upstream: {
      host: upstreamUrl.hostname,
      port: Number(upstreamUrl.port || 5432),
      user,
      ...(upstreamUrl.password ? { password: decodeURIComponent(upstreamUrl.password) } : {}),
    },
  })
  lab = await startLab({
    fronts: [front],
    services: [{ name: 'postgres', port: 5432, target: { front: 'rds-proxy' } }],
  })
  ca = await caFile(lab)
})
afterAll(async () => {
  await ca?.remove()
  await lab?.close()
})

/** Where a client dials: zone a's ENI, on the port the lab could bind for 5432. */
const dial = () => {
  const zone = lab.endpoint.zones[0]!
  return { address: zone.addresses[0]!, port: zone.portMap?.['5432'] ?? 5432 }
}

const token = async (...extra: string[]) => {
  const run = await cli(
    ['token', '--host', front.proxyHost, '--port', '5432', '--user', user, ...extra],
    { env: labEnv(lab) },
  )
  expect(run.code, run.stderr).toBe(0)
  return run
}

describe('privatelink token', { timeout: 60_000 }, () => {
  it('prints only the token, as aws rds generate-db-auth-token does', async () => {
    const run = await token()
    expect(run.stdout).toMatch(
      new RegExp(
        `^${front.proxyHost.replaceAll('.', '\\.')}:5432/\\?Action=connect&DBUser=${user}&X-Amz-[^\\s]+\\n$`,
      ),
    )
    expect(run.stdout).toContain('X-Amz-Expires=900')
    expect(run.stderr).toBe('')
  })

  it('psql logs in through the RDS Proxy emulator with it (verify-full against the proxy name)', async () => {
    const onPath = (process.env['PATH'] ?? '')
      .split(':')
      .some((dir) => existsSync(join(dir, 'psql')))
    expect(onPath, 'psql must be installed (Debian: postgresql-client)').toBe(true)
    const password = (await token()).stdout.trim()
    const { address, port } = dial()
    const before = front.stats().authenticated
    const { stdout } = await promisify(execFile)(
      'psql',
      [
        `host=${front.proxyHost} hostaddr=${address} port=${port} user=${user} dbname=${database} sslmode=verify-full sslrootcert=${ca.file}`,
        '-Atc',
        'select 40 + 2',
      ],
      { env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' } },
    )
    expect(stdout.trim()).toBe('42')
    expect(front.stats().authenticated).toBe(before + 1)
  })

  it('pg logs in with it, and with a cross-account role token (--role-arn, --external-id)', async () => {
    const role = lab.aws.roles[0]!
    const plain = (await token()).stdout.trim()
    const assumed = (
      await token('--role-arn', role.arn, '--external-id', role.externalId!)
    ).stdout.trim()
    const { address, port } = dial()
    for (const password of [plain, assumed]) {
      const client = new pg.Client({
        host: address,
        port,
        user,
        database,
        password,
        ssl: { ca: lab.ca.certificatePem, servername: front.proxyHost },
      })
      await client.connect()
      try {
        expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }])
      } finally {
        await client.end()
      }
    }
    const principals = front
      .events()
      .filter((e) => e.type === 'connected')
      .map((e) => e.principal)
    expect(principals.some((p) => p?.includes('assumed-role/privatelink-cross-account'))).toBe(true)
  })

  it('--json follows schema/token.schema.json', async () => {
    const run = await token('--json')
    const report = JSON.parse(run.stdout) as TokenReport
    expect((await schemaValidator())('token.schema.json', report)).toEqual([])
    expect(report).toMatchObject({
      host: front.proxyHost,
      port: 5432,
      user,
      region: lab.region,
      roleArn: null,
    })
    expect(Date.parse(report.expiresAt) - Date.now()).toBeGreaterThan(800_000)
  })

  it('a bad role ARN is a usage error naming --role-arn', async () => {
    const run = await cli(
      ['token', '--host', front.proxyHost, '--user', user, '--role-arn', 'admin'],
      { env: labEnv(lab) },
    )
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("option '--role-arn <arn>' argument 'admin' is invalid")
  })

  // The credentials come from the environment the CLI is given (io.env), not from process.env:
  // what makes an in-process run the same as the bin's.
  it('signs with the credentials of its environment', async () => {
    const run = await cli(
      ['token', '--host', front.proxyHost, '--user', user, '--region', lab.region],
      { env: labEnv(lab, { AWS_ACCESS_KEY_ID: 'AKIAOTHERKEY000000000' }) },
    )
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('X-Amz-Credential=AKIAOTHERKEY000000000%2F')
  })
})
