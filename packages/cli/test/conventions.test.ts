import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { VERSION } from '../src/version.js'
import { cleanEnv, cliSource, repoRoot, runCli } from './support.js'

const commands = ['doctor', 'describe', 'resolve', 'token', 'lab']

describe('command-line conventions', { timeout: 60_000 }, () => {
  it('--help and --version print to stdout and exit 0', async () => {
    const help = await runCli(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: privatelink [options] [command]')
    for (const command of commands) expect(help.stdout).toContain(`${command} [options]`)
    expect(help.stderr).toBe('')
    const version = await runCli(['--version'])
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n`, stderr: '' })
  })

  it('the version is package.json’s', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'packages/cli/package.json'), 'utf8'))
    expect(VERSION).toBe(manifest.version)
  })

  it.each(commands)('%s --help prints its own usage to stdout, exit 0', async (command) => {
    const run = await runCli([command, '--help'])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`Usage: privatelink ${command} [options]`)
    expect(run.stdout).toContain('--json')
    expect(run.stderr).toBe('')
  })

  it('an unknown command is named, with exit 2', async () => {
    const run = await runCli(['doctr', 'vpce-0123456789abcdef0'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("unknown command 'doctr'")
    expect(run.stderr).toContain('(Did you mean doctor?)')
    expect(run.stdout).toBe('')
  })

  it('usage errors name our flags and exit 2', async () => {
    const port = await runCli(['doctor', 'vpce-0123456789abcdef0', '--port', '70000'])
    expect(port.code).toBe(2)
    expect(port.stderr).toContain("option '--port <number>' argument '70000' is invalid")
    const dns = await runCli(['resolve', 'api.example.com', '--dns', 'not a server'])
    expect(dns.code).toBe(2)
    expect(dns.stderr).toContain("option '--dns <host:port>' argument 'not a server' is invalid")
    expect(dns.stderr).not.toMatch(/servers|allowedRanges/)
    const missing = await runCli(['token', '--host', 'db.proxy-x.us-west-2.rds.amazonaws.com'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("required option '--user <name>' not specified")
    const target = await runCli(['describe', 'not_an endpoint'])
    expect(target.code).toBe(2)
    expect(target.stderr).toContain("value 'not_an endpoint' is invalid for argument 'endpoint'")
    const region = await runCli([
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

  it('no command prints the usage to stderr, exit 2', async () => {
    const run = await runCli([])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('Usage: privatelink')
    expect(run.stdout).toBe('')
  })

  it('--json errors are one JSON document on stdout', async () => {
    const run = await runCli([
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
      error: { code: 'ERR_USAGE' },
    })
  })

  // `script` gives the CLI a real terminal: colour there, none with NO_COLOR, none in a pipe.
  it('colour only on a terminal, never with NO_COLOR', () => {
    const inTerminal = (env: Record<string, string>) =>
      spawnSync(
        'script',
        ['-qec', `${process.execPath} --import tsx ${cliSource} resolve bad..name`, '/dev/null'],
        {
          cwd: repoRoot,
          env: cleanEnv({ TERM: 'xterm', ...env }),
          encoding: 'utf8',
        },
      )
    const coloured = inTerminal({})
    expect(coloured.stdout).toContain('\u001b[31m')
    const plain = inTerminal({ NO_COLOR: '1' })
    expect(plain.stdout).toContain("value 'bad..name' is invalid for argument 'name'")
    expect(plain.stdout).not.toContain('\u001b[')
  })

  it('a pipe gets no colour', async () => {
    const run = await runCli(['resolve', 'bad..name'])
    expect(run.stderr).toContain("value 'bad..name' is invalid for argument 'name'")
    expect(run.stderr).not.toContain('\u001b[')
  })
})
