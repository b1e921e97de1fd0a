import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { VERSION } from '../src/version.js'
import { cleanEnv, cli, repoRoot, schemaValidator, spawnCli, spawnCliProcess } from './support.js'

const commands = ['doctor', 'describe', 'resolve', 'token', 'lab']

describe('command-line conventions', () => {
  it('--help and --version print to stdout and exit 0', async () => {
    const help = await cli(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: privatelink [options] [command]')
    for (const command of commands) expect(help.stdout).toContain(`${command} [options]`)
    expect(help.stderr).toBe('')
    const version = await cli(['--version'])
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n`, stderr: '' })
  })

  it('a reader that closes the pipe early (`privatelink --help | head -0`) ends the CLI quietly, no EPIPE crash', async () => {
    const child = spawnCliProcess(['--help'], cleanEnv())
    child.stdout.destroy() // the reader is gone before the CLI writes a byte
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const [code] = (await once(child, 'close')) as [number | null]
    expect(stderr).not.toMatch(/EPIPE|Unhandled|throw/)
    expect(code).toBe(0)
  })

  it('the version is package.json’s', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'packages/cli/package.json'), 'utf8'))
    expect(VERSION).toBe(manifest.version)
  })

  it.each(commands)('%s --help prints its own usage to stdout, exit 0', async (command) => {
    for (const args of [
      [command, '--help'],
      ['help', command],
    ]) {
      const run = await cli(args)
      expect(run.code).toBe(0)
      expect(run.stdout).toContain(`Usage: privatelink ${command} [options]`)
      expect(run.stdout).toContain('--json')
      expect(run.stderr).toBe('')
    }
  })

  it('an unknown command is named, with a suggestion, exit 2', async () => {
    const run = await cli(['doctr', 'vpce-0123456789abcdef0'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("unknown command 'doctr'")
    expect(run.stderr).toContain('(Did you mean doctor?)')
    expect(run.stdout).toBe('')
  })

  it('usage errors name our flags and exit 2', async () => {
    const port = await cli(['doctor', 'vpce-0123456789abcdef0', '--port', '70000'])
    expect(port.code).toBe(2)
    expect(port.stderr).toContain("option '--port <number>' argument '70000' is invalid")
    expect(port.stderr).toContain('(run privatelink doctor --help for usage)')
    const dns = await cli(['resolve', 'api.example.com', '--dns', 'not a server'])
    expect(dns.code).toBe(2)
    expect(dns.stderr).toContain("option '--dns <ip:port>' argument 'not a server' is invalid")
    expect(dns.stderr).not.toMatch(/servers|allowedRanges/)
    const missing = await cli(['token', '--host', 'db.proxy-x.us-west-2.rds.amazonaws.com'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("required option '--user <name>' not specified")
    const target = await cli(['describe', 'not_an endpoint'])
    expect(target.code).toBe(2)
    expect(target.stderr).toContain("value 'not_an endpoint' is invalid for argument 'endpoint'")
    const region = await cli([
      'token',
      '--host',
      'db.proxy-x.us-west-2.rds.amazonaws.com',
      '--user',
      'app',
    ])
    expect(region.code).toBe(2)
    expect(region.stderr).toContain('No region for the token')
    expect(region.stderr).toContain('hint: Pass --region')
  })

  // Issue 24: these three reached the library and exited 1 naming its option (username,
  // allowedRanges, servers).
  it.each([
    [['token', '--host', 'db.example.com', '--user', '', '--region', 'us-west-2'], '--user'],
    [['resolve', 'api.example.com', '--allow', '10.0.0.5/8'], '--allow'],
    [['resolve', 'api.example.com', '--dns', '300.1.1.1'], '--dns'],
  ])('%j is a usage error naming %s, never the library’s option', async (args, flag) => {
    const run = await cli(args)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(`option '${flag} <`)
    expect(run.stderr).not.toMatch(/username|allowedRanges|servers|ERR_INVALID_OPTION/)
  })

  it('no command prints the usage to stderr, exit 2', async () => {
    const run = await cli([])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('Usage: privatelink')
    expect(run.stdout).toBe('')
  })

  it('--json errors are one JSON document on stdout', async () => {
    const run = await cli([
      'token',
      '--host',
      'db.proxy-x.us-west-2.rds.amazonaws.com',
      '--user',
      'app',
      '--json',
    ])
    expect(run.code).toBe(2)
    expect(JSON.parse(run.stdout)).toMatchObject({
      schema: 'privatelink.error/1',
      error: { code: 'ERR_USAGE', option: '--region' },
    })
    expect(run.stderr).toBe('')
  })

  it('colour only on a terminal, never with NO_COLOR or TERM=dumb', async () => {
    const coloured = await cli(['resolve', 'bad..name'], {
      tty: true,
      env: cleanEnv({ TERM: 'xterm' }),
    })
    expect(coloured.stderr).toContain('\u001b[31m')
    for (const env of [cleanEnv({ TERM: 'xterm', NO_COLOR: '1' }), cleanEnv({ TERM: 'dumb' })]) {
      const plain = await cli(['resolve', 'bad..name'], { tty: true, env })
      expect(plain.stderr).toContain("value 'bad..name' is invalid for argument 'name'")
      expect(plain.stderr).not.toContain('\u001b[')
    }
  })

  it('a pipe gets no colour', async () => {
    const run = await cli(['resolve', 'bad..name'], { env: cleanEnv({ TERM: 'xterm' }) })
    expect(run.stderr).toContain("value 'bad..name' is invalid for argument 'name'")
    expect(run.stderr).not.toContain('\u001b[')
  })
})

// The bin's entry as a user runs it, in a process of its own: what only a real process shows.
// Behaviour is tested in-process above; these stay few, each a node start (~0.5 s).
describe('the bin (src/cli.ts in a process)', { timeout: 60_000 }, () => {
  it('--help: stdout, exit 0', async () => {
    const run = await spawnCli(['--help'])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('Usage: privatelink [options] [command]')
    expect(run.stderr).toBe('')
  })

  it('exit codes: 2 with one JSON document for a usage error, 1 for an error', async () => {
    const usage = await spawnCli(['lab', '--zones', '0', '--json'])
    expect(usage.code).toBe(2)
    expect((await schemaValidator())('error.schema.json', JSON.parse(usage.stdout))).toEqual([])
    expect(usage.stderr).toBe('')

    // An EC2 API that refuses: exit 1 with the code; the SDK's Node version warning stays out
    // (the bin sets the SDK's switch) and other warnings still print.
    const failed = await spawnCli(
      [
        'describe',
        'vpce-0123456789abcdef0',
        '--region',
        'us-west-2',
        '--endpoint-url',
        'http://127.0.0.1:9',
      ],
      {
        env: cleanEnv({
          AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'secret',
          NODE_OPTIONS:
            '--import=data:text/javascript,process.emitWarning(`privatelink-test-warning`)',
        }),
      },
    )
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain('privatelink-test-warning')
    expect(failed.stderr).not.toContain('NodeVersionSupportWarning')
    expect(failed.stderr).toContain('error ERR_DISCOVERY_FAILED: DescribeVpcEndpoints failed')
    expect(failed.stderr).not.toContain('secret')
  })
})
