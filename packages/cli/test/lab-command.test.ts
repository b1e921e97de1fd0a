import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { type Endpoint, endpointFromConfig } from '@privatelink/core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { LabReport, ResolveReport } from '../src/index.js'
import { cleanEnv, cli, schemaValidator, spawnCliProcess, startCli } from './support.js'

const upstream = new URL(inject('pgUrl'))
let echo: Server
let echoPort: number

beforeAll(async () => {
  echo = createServer((socket) => socket.pipe(socket))
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve))
  echoPort = (echo.address() as { port: number }).port
})
afterAll(() => new Promise((resolve) => echo.close(resolve)))

/** Starts `privatelink lab` in-process; `stop` plays the signal a user would send. */
const startLabCommand = (args: string[], env: Record<string, string> = {}) =>
  startCli(['lab', ...args], { env: cleanEnv(env), ready: 'lab running' })

describe('privatelink lab', { timeout: 60_000 }, () => {
  it('--json prints what an app needs, the other commands work with it, and a stop closes it cleanly', async () => {
    const user = decodeURIComponent(upstream.username || 'postgres')
    const lab = await startLabCommand(
      [
        '--json',
        '--zones',
        '2',
        '--service',
        `echo:7070=127.0.0.1:${echoPort}`,
        '--rds-proxy',
        `${user}@${upstream.hostname}:${upstream.port || 5432}`,
        '--private-dns-name',
        'api.lab.example.com',
      ],
      upstream.password
        ? { PRIVATELINK_LAB_PG_PASSWORD: decodeURIComponent(upstream.password) }
        : {},
    )
    try {
      const report = JSON.parse(lab.output().stdout) as LabReport
      const validate = await schemaValidator()
      expect(validate('lab.schema.json', report)).toEqual([])
      expect(report.rdsProxy).toMatchObject({ port: 5432, user })
      expect(report.env['AWS_ACCESS_KEY_ID']).toBe(report.credentials.accessKeyId)
      expect(report.env['NODE_EXTRA_CA_CERTS']).toBe(report.caFile)
      expect(existsSync(report.caFile)).toBe(true)
      expect(endpointFromConfig(report.env['PRIVATELINK_ENDPOINTS']!)).toEqual(report.endpoint)
      expect(report.commands.some((c) => c.startsWith('psql "host='))).toBe(true)

      // describe through the lab's EC2 API with the printed environment: the same endpoint back.
      const described = await cli(['describe', (report.endpoint as { id: string }).id, '--json'], {
        env: cleanEnv(report.env),
      })
      expect(described.code, described.stderr).toBe(0)
      expect(validate('endpoint.schema.json', JSON.parse(described.stdout))).toEqual([])
      // Discovery may know more (subnet CIDRs): the fields an app dials by must be the same.
      const dialled = (endpoint: Endpoint) => ({
        id: endpoint.id,
        dnsName: endpoint.dnsName,
        privateDnsName: endpoint.privateDnsName,
        zones: endpoint.zones.map((z) => [z.azName, z.azId, z.addresses, z.portMap]),
      })
      expect(dialled(endpointFromConfig(described.stdout))).toEqual(
        dialled(report.endpoint as Endpoint),
      )
      expect(described.stderr).toBe('')

      const resolved = await cli(
        [
          'resolve',
          'api.lab.example.com',
          '--dns',
          report.dns,
          '--allow',
          report.addressBlock,
          '--json',
        ],
        { env: cleanEnv(report.env) },
      )
      const answer = JSON.parse(resolved.stdout) as ResolveReport
      expect(validate('resolve.schema.json', answer)).toEqual([])
      expect(resolved.code).toBe(0)
      expect(answer.addresses.map((a) => [a.zone, a.allowed])).toEqual([
        ['us-west-2a (usw2-az1)', true],
        ['us-west-2b (usw2-az2)', true],
      ])
      const guarded = await cli(['resolve', 'api.lab.example.com', '--dns', report.dns])
      expect(guarded.code).toBe(1)
      expect(guarded.stdout).toContain('guard: would block api.lab.example.com')
    } finally {
      const code = await lab.stop('SIGINT')
      expect(code).toBe(0)
    }
    const { stderr, stdout } = lab.output()
    expect(stderr).toContain('SIGINT: stopping the lab')
    expect(stderr).toContain('lab stopped')
    expect(existsSync((JSON.parse(stdout) as LabReport).caFile)).toBe(false)
  })

  it('prints credentials, endpoint JSON, environment and commands as text; SIGTERM stops it', async () => {
    const lab = await startLabCommand([
      '--zones',
      '1',
      '--service',
      `echo:7071=127.0.0.1:${echoPort}`,
    ])
    const code = await lab.stop('SIGTERM')
    const { stdout, stderr } = lab.output()
    expect(code, stderr).toBe(0)
    for (const heading of [
      'Credentials (accepted by the lab only)',
      'Environment (paste into the shell that runs your app)',
      'Endpoint JSON (PRIVATELINK_ENDPOINTS, endpointFromConfig)',
      'Try',
    ])
      expect(stdout).toContain(heading)
    for (const name of [
      'PRIVATELINK_ENDPOINTS',
      'AWS_ENDPOINT_URL_EC2',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_EC2_METADATA_SERVICE_ENDPOINT',
    ])
      expect(stdout).toContain(`export ${name}=`)
    expect(stdout).toMatch(/privatelink doctor vpce-[0-9a-f]+ --dns 127\.0\.0\.1:\d+ --port 7071/)
    expect(stderr).toContain('SIGTERM: stopping the lab')
  })

  // The real signal, in a process of its own: the one spawn of this file.
  it('SIGINT stops the bin cleanly: exit 0, the CA file removed', async () => {
    const child = spawnCliProcess(
      ['lab', '--json', '--zones', '1', '--service', `echo:7072=127.0.0.1:${echoPort}`],
      cleanEnv(),
    )
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>
    while (!stderr.includes('lab running')) {
      const exited = await Promise.race([
        once(child.stderr, 'data').then(() => false),
        closed.then(() => true),
      ])
      if (exited) throw new Error(`lab exited early: ${stderr}`)
    }
    const caFile = (JSON.parse(stdout) as LabReport).caFile
    expect(existsSync(caFile)).toBe(true)
    child.kill('SIGINT')
    const [code, signal] = await closed
    expect({ code, signal }).toEqual({ code: 0, signal: null })
    expect(stderr).toContain('SIGINT: stopping the lab')
    expect(stderr).toContain('lab stopped')
    expect(existsSync(caFile)).toBe(false)
  })
})
