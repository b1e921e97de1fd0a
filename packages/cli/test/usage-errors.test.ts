import { mkdtempSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import { afterAll, describe, expect, it } from 'vitest'
import { createContext } from '../src/context.js'
import { buildProgram } from '../src/main.js'
import { cli, schemaValidator } from './support.js'

// Every usage error the command line has, enumerated from the program definition: each flag that
// takes a value gets values it must refuse, each command an unknown flag, a flag without its value,
// a missing and an extra argument. With --json each prints one privatelink.error/1 document on
// stdout naming the flag (ERR_USAGE, exit 2) and nothing on stderr; without it, commander's text on
// stderr naming the flag, exit 2, nothing on stdout.

const program = buildProgram(
  createContext({ stdout: { write() {} }, stderr: { write() {} }, env: {} }),
)
const commands = program.commands.filter((c) => c.name() !== 'help')

// A --ca file that is no PEM, and a folder: both refused after parsing, before any network.
const folder = mkdtempSync(join(tmpdir(), 'privatelink-cli-usage-'))
const notPem = join(folder, 'not-a-certificate.txt')
writeFileSync(notPem, 'hello\n')
afterAll(() => rm(folder, { recursive: true, force: true }))

/** Arguments that make a command valid, so that only the flag under test is wrong. */
const valid: Record<string, string[]> = {
  doctor: ['vpce-0123456789abcdef0', '--region', 'us-west-2'],
  describe: ['vpce-0123456789abcdef0', '--region', 'us-west-2'],
  resolve: ['api.example.com'],
  token: [
    '--host',
    'db.proxy-x.us-west-2.rds.amazonaws.com',
    '--user',
    'app',
    '--region',
    'us-west-2',
  ],
  lab: [],
}

const hostnames = ['', 'bad..name', '300.1.1.1', '-x.example.com']
const ports = ['0', '70000', 'abc', '5432.5', '']
const regions = ['', 'mars', 'US-WEST-2']
const urls = ['', 'not a url', 'ftp://ec2.example.com']
const dnsServers = ['', 'not a server', '300.1.1.1', 'dns.example.com', '127.0.0.1:0', '[::1']

/** Values each flag must refuse, by command. */
const badValues: Record<string, Record<string, string[]>> = {
  doctor: {
    '--port': ports,
    '--servername': hostnames,
    '--region': regions,
    '--vpc-id': ['', 'vpc-xyz', 'vpc-123', 'subnet-0123456789abcdef0'],
    '--dns': dnsServers,
    '--ca': ['/nonexistent/ca.pem', notPem, folder],
    '--starttls': ['', 'tls', 'POSTGRES'],
    '--timeout': ['0', '120001', '1.5', '-1', 'soon'],
    '--endpoint-url': urls,
    '--source': ['', '10.0.0.0/40', '10.0.0.300', 'sg-xyz', '::1', 'client.example.com'],
    '--format': ['', 'html', 'JSON'],
    '--action': ['', 'GetObject', 's3:', 's3:Get Object'],
    '--resource': ['', 'bucket/key', 'arn:aws:s3'],
    '--principal': ['', 'app', 'arn:aws:iam::12345:role/x', 'arn:aws:iam::123456789012:group/x'],
    '--pool-idle-timeout-ms': ['', '-1', '1.5', 'soon'],
    '--keep-alive': ['', 'yes', 'ON'],
    '--keep-alive-timeout-ms': ['', '-1', 'soon'],
    '--adapter-options': ['/nonexistent/options.json', notPem, folder],
    '--path-idle-timeout-ms': ['0', '6000001', 'soon'],
  },
  describe: {
    '--region': regions,
    '--vpc-id': ['', 'vpc-xyz'],
    '--endpoint-url': urls,
  },
  resolve: {
    '--dns': dnsServers,
    '--allow': ['', '10.0.0.5/8', '10.0.0.0/33', '10.0.0.0', 'x/8', '10.0.0.0/08', 'fc00::1/7'],
  },
  token: {
    '--host': hostnames,
    '--engine': ['', 'oracle', 'MYSQL'],
    '--port': ports,
    '--user': ['', 'a'.repeat(64), 'app\nuser'],
    '--region': regions,
    '--role-arn': ['', 'admin', 'arn:aws:iam::12345:role/x', 'arn:aws:iam::123456789012:user/x'],
    '--external-id': ['', 'x', 'has space'],
    '--sts-endpoint-url': urls,
  },
  lab: {
    '--service': ['', 'db', 'db:0=127.0.0.1:1', 'db:5432=300.1.1.1:5432', 'db:5432=127.0.0.1'],
    '--rds-proxy': ['', '@127.0.0.1:5432', 'postgres@', 'postgres@127.0.0.1:0'],
    '--rds-proxy-mysql': ['', '127.0.0.1:3306', '@127.0.0.1:3306', 'root@', 'root@127.0.0.1:0'],
    '--elasticache': [
      '',
      'Lab_Cache@127.0.0.1:6379',
      '@127.0.0.1:6379',
      'lab-cache@',
      'lab-cache@127.0.0.1:0',
    ],
    '--zones': ['0', '7', 'two'],
    '--region': regions,
    '--private-dns-name': hostnames,
  },
}

/** Usage errors found after parsing: combinations of flags, or a missing region. */
const afterParsing: { args: string[]; option: string; env?: Record<string, string> }[] = [
  { args: ['token', ...valid['token']!, '--external-id', 'abc123'], option: '--external-id' },
  {
    args: ['lab', '--service', 'db:5432=127.0.0.1:5432', '--rds-proxy', 'postgres@127.0.0.1:5432'],
    option: '--service',
  },
  {
    args: ['lab', '--service', 'rds-proxy:7000=127.0.0.1:1', '--rds-proxy', '127.0.0.1:5432'],
    option: '--service',
  },
  {
    args: ['lab', '--service', 'redis:6379=127.0.0.1:1', '--elasticache', '127.0.0.1:6379'],
    option: '--service',
  },
  {
    args: ['lab', '--service', 'elasticache:7000=127.0.0.1:1', '--elasticache', '127.0.0.1:6379'],
    option: '--service',
  },
  { args: ['token', '--host', 'db.proxy-x.example.com', '--user', 'app'], option: '--region' },
  { args: ['describe', 'vpce-0123456789abcdef0'], option: '--region' },
  { args: ['doctor', 'api.example.com'], option: '--region' },
  { args: ['doctor', ...valid['doctor']!, '--resource', 'arn:aws:s3:::b/k'], option: '--resource' },
  { args: ['doctor', ...valid['doctor']!, '--action', 's3:GetObject'], option: '--resource' },
]

const takesValue = (command: Command) =>
  command.options.filter((o) => (o.required || o.optional) && o.long !== undefined)

interface Case {
  name: string
  args: string[]
  /** The flag or argument the error must name (in the message and as `error.option`). */
  option: string | undefined
  /** Text the message must hold, when not the option itself (an argument is named 'endpoint'). */
  names?: string
  env?: Record<string, string>
}

function cases(): Case[] {
  const all: Case[] = []
  for (const command of commands) {
    const name = command.name()
    const base = valid[name]!
    for (const option of takesValue(command))
      for (const value of badValues[name]?.[option.long!] ?? []) {
        all.push({
          name: `${name} ${option.long} ${JSON.stringify(value)}`,
          args: [name, ...base, option.long!, value],
          option: option.long,
        })
      }
    for (const option of takesValue(command))
      all.push({
        name: `${name} ${option.long} without its value`,
        args: [name, ...base, option.long!],
        option: option.long,
      })
    all.push({
      name: `${name} with an unknown flag`,
      args: [name, ...base, '--prot', '5432'],
      option: '--prot',
    })
    for (const option of command.options.filter((o) => o.mandatory))
      all.push({
        name: `${name} without ${option.long}`,
        args: [
          name,
          ...base.filter((arg, i) => arg !== option.long && base[i - 1] !== option.long),
        ],
        option: option.long,
      })
    const positional = command.registeredArguments
    if (positional.length > 0) {
      all.push({
        name: `${name} without <${positional[0]!.name()}>`,
        args: [name, ...base.slice(positional.length)],
        option: `<${positional[0]!.name()}>`,
        names: `'${positional[0]!.name()}'`,
      })
      all.push({
        name: `${name} with a bad <${positional[0]!.name()}>`,
        args: [name, 'bad..name', ...base.slice(positional.length)],
        option: `<${positional[0]!.name()}>`,
        names: `'${positional[0]!.name()}'`,
      })
    }
    all.push({
      name: `${name} with an extra argument`,
      args: [name, ...base, 'extra'],
      option: undefined,
      names: `too many arguments for '${name}'`,
    })
  }
  all.push({ name: 'an unknown command', args: ['doctr'], option: undefined, names: "'doctr'" })
  all.push({ name: 'an unknown top-level flag', args: ['--prot', 'doctor'], option: '--prot' })
  for (const { args, option } of afterParsing)
    all.push({ name: `${args.join(' ')} (after parsing)`, args, option })
  return all
}

const env = { PATH: process.env['PATH'] ?? '' }

describe('every usage error', () => {
  it('the table has values to refuse for every flag that takes one', () => {
    for (const command of commands)
      for (const option of takesValue(command))
        expect(
          badValues[command.name()]?.[option.long!]?.length,
          `${command.name()} ${option.long}`,
        ).toBeGreaterThan(0)
  })

  const table = cases()

  it.each(table)('--json: $name', async ({ args, option, names }) => {
    const validate = await schemaValidator()
    // --json last, and first after the command: a usage error may stop the parse before it.
    for (const withJson of [
      [...args, '--json'],
      [args[0]!, '--json', ...args.slice(1)],
    ]) {
      const run = await cli(withJson, { env })
      expect(run.code, run.stdout + run.stderr).toBe(2)
      expect(run.stderr).toBe('')
      const document = JSON.parse(run.stdout)
      expect(validate('error.schema.json', document)).toEqual([])
      expect(document.error.code).toBe('ERR_USAGE')
      expect(document.error.option).toBe(option)
      expect(document.error.message).toContain(names ?? option)
      expect(document.error.hint).toMatch(/--help|--region|AWS_REGION|another|Pass/)
    }
  })

  it.each(table)('text: $name', async ({ args, option, names }) => {
    const run = await cli(args, { env })
    expect(run.code, run.stdout + run.stderr).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain(names ?? option)
  })
})
