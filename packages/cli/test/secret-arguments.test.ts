import type { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { createContext } from '../src/context.js'
import { buildProgram } from '../src/main.js'
import { cli } from './support.js'

// A connection URL with a password passed where a flag value or an argument goes (a pasted
// DATABASE_URL, a mistyped flag) must never come back on stdout or stderr: not in our parsers'
// messages, not in commander's own ("option '--host <name>' argument '...' is invalid", "unknown
// option '...'", "unknown command '...'"), in text and in --json. Every flag that takes a value
// is enumerated from the program definition, so a new flag is covered without editing this file.

const PASSWORD = 'S3cret-Pa55word'
const urls = [
  `postgres://app:${PASSWORD}@db.proxy-x.us-west-2.rds.amazonaws.com:5432/app`,
  `rediss://default:${PASSWORD}@cache.example.com:6379`,
  `https://user:${PASSWORD}@sts.example.com`,
  `app:${PASSWORD}@db.example.com:5432`,
  `db.example.com/?password=${PASSWORD}`,
]

const program = buildProgram(
  createContext({ stdout: { write() {} }, stderr: { write() {} }, env: {} }),
)
const commands = program.commands.filter((c) => c.name() !== 'help')

/** Arguments that make a command valid, so that only the value under test is wrong. */
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

const takesValue = (command: Command) =>
  command.options.filter((o) => (o.required || o.optional) && o.long !== undefined)

/** Drops `flag` and its value from `args`, so the value under test is the flag's only one. */
const without = (args: string[], flag: string) =>
  args.filter((arg, i) => arg !== flag && args[i - 1] !== flag)

function cases(url: string): { name: string; args: string[] }[] {
  const all: { name: string; args: string[] }[] = []
  for (const command of commands) {
    const name = command.name()
    const base = valid[name]!
    for (const option of takesValue(command)) {
      const rest = without(base, option.long!)
      all.push({ name: `${name} ${option.long} URL`, args: [name, ...rest, option.long!, url] })
      all.push({
        name: `${name} ${option.long}=URL`,
        args: [name, ...rest, `${option.long}=${url}`],
      })
      // A value inside a larger one: --service name:port=URL, --rds-proxy URL@host:port.
      all.push({
        name: `${name} ${option.long} x:1=URL`,
        args: [name, ...rest, option.long!, `x:1=${url}`],
      })
    }
    const positional = command.registeredArguments.length
    if (positional > 0)
      all.push({ name: `${name} <URL>`, args: [name, url, ...base.slice(positional)] })
    all.push({ name: `${name} --prot=URL`, args: [name, ...base, `--prot=${url}`] })
    all.push({ name: `${name} --prot URL`, args: [name, ...base, '--prot', url] })
    all.push({ name: `${name} extra URL`, args: [name, ...base, url] })
  }
  all.push({ name: 'URL as a command', args: [url] })
  all.push({ name: '--URL', args: [`--${url}`] })
  return all
}

// Should a case be accepted by mistake, it signs offline and its AWS calls go to a closed loopback
// port, never to AWS.
const env = {
  PATH: process.env['PATH'] ?? '',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'lab-only-secret',
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
}

describe('a password in a flag value or argument is never printed', () => {
  const table = urls.flatMap((url) =>
    cases(url).map((c) => ({ ...c, name: `${c.name} (${url.slice(0, 12)}…)` })),
  )

  it.each(table)('$name', async ({ args }) => {
    for (const argv of [args, [...args, '--json']]) {
      const run = await cli(argv, { env })
      // Every case is refused before anything runs.
      expect(run.code, run.stdout + run.stderr).not.toBe(0)
      expect(run.stdout + run.stderr, argv.join(' ')).not.toContain(PASSWORD)
      expect(run.stdout + run.stderr).not.toContain(encodeURIComponent(PASSWORD))
    }
  })
})

describe('the parsers quote a refused value without its credentials', () => {
  // buildProgram() is used without main()'s redacting output too (the usage tests do): each
  // parser's own message must already be safe.
  const parsers = [...program.commands, program].flatMap((command) =>
    [
      ...command.options.map((o) => [o.long, o.parseArg] as const),
      ...command.registeredArguments.map((a) => [a.name(), a.parseArg] as const),
    ].map(([name, parse]) => ({ name: `${command.name()} ${name}`, parse })),
  )
  it.each(parsers.filter((p) => p.parse !== undefined))('$name', ({ parse }) => {
    for (const url of urls)
      for (const value of [url, `x:1=${url}`]) {
        let message = ''
        try {
          parse!(value, undefined)
        } catch (error) {
          message = (error as Error).message
        }
        expect(message).not.toContain(PASSWORD)
      }
  })
})
