import { PrivateLinkError } from '@privatelink/core'
import { Command, CommanderError } from 'commander'
import { registerDescribe } from './commands/describe.js'
import { registerDoctor } from './commands/doctor.js'
import { registerLab } from './commands/lab.js'
import { registerResolve } from './commands/resolve.js'
import { registerToken } from './commands/token.js'
import { type CommandContext, createContext, isUsageError } from './context.js'
import { type CliIo, hasColour, processIo } from './io.js'
import { redactingIo } from './redact.js'
import { commanderUsageError, wantsJson } from './usage.js'
import { VERSION } from './version.js'

/** Exit codes: 0 success, 1 a check failed or an error, 2 a usage error (bad flag, unknown command). */
export const EXIT = {
  /** Success; for `doctor`, no check failed (warnings allowed). */
  ok: 0,
  /** A check failed, or the command hit an error. */
  failed: 1,
  /** A usage error: a bad flag or argument, an unknown command. */
  usage: 2,
} as const

/**
 * The whole command line: every command, flag and parser. With `json`, commander's own error text
 * is held back: `main` prints the error as one `privatelink.error/1` document on stdout instead.
 */
export function buildProgram(context: CommandContext, json = false): Command {
  const { io } = context
  const program = new Command('privatelink')
    .description(
      'Diagnose and use AWS PrivateLink endpoints: doctor, describe, resolve, token, lab.',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print help for privatelink or a command')
    .helpCommand('help [command]', 'print help for a command')
    .showHelpAfterError('(run privatelink --help for usage)')
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void (json ? undefined : io.stderr.write(text)),
      getOutHasColors: () => hasColour(io.stdout, io.env),
      getErrHasColors: () => hasColour(io.stderr, io.env),
      outputError: (text, write) => write(context.errColours.red(text)),
    })
    .configureHelp({
      styleTitle: (text) => context.outColours.bold(text),
      showGlobalOptions: true,
    })
    .addHelpText(
      'after',
      '\nExit codes: 0 success, 1 a check failed or an error, 2 a usage error.\nColour only on a terminal and never with NO_COLOR. Every command takes --json.',
    )
    .exitOverride()
  registerDoctor(program, context)
  registerDescribe(program, context)
  registerResolve(program, context)
  registerToken(program, context)
  registerLab(program, context)
  for (const command of program.commands) {
    command
      .exitOverride()
      .showHelpAfterError(`(run privatelink ${command.name()} --help for usage)`)
    command.configureOutput(program.configureOutput())
    command.configureHelp(program.configureHelp())
  }
  return program
}

function report(error: unknown, context: CommandContext, json: boolean): number {
  const usage = isUsageError(error)
  const known = PrivateLinkError.isInstance(error)
  const code = known ? error.code : ((error as { name?: string } | null)?.name ?? 'Error')
  const message = error instanceof Error ? error.message : String(error)
  const hint = known ? error.hint : undefined
  const option = usage ? (error as PrivateLinkError).details['option'] : undefined
  if (json) {
    context.out(
      JSON.stringify(
        {
          schema: 'privatelink.error/1',
          error: {
            code,
            message,
            ...(hint ? { hint } : {}),
            ...(typeof option === 'string' ? { option } : {}),
          },
        },
        null,
        2,
      ),
    )
  } else {
    const c = context.errColours
    context.err(c.red(`error${usage ? '' : ` ${code}`}: ${message}`))
    if (hint) context.err(`hint: ${hint}`)
  }
  return usage ? EXIT.usage : EXIT.failed
}

/**
 * Runs the CLI on `argv` (without node and the script) and resolves to the exit code; it never
 * calls process.exit, so it runs in-process too.
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const context = createContext(redactingIo(io, argv))
  const json = wantsJson(argv)
  const program = buildProgram(context, json)
  try {
    await program.parseAsync(argv, { from: 'user' })
    if (argv.length === 0) {
      program.outputHelp({ error: true })
      return EXIT.usage
    }
    return context.exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT.ok
      // Without --json commander has printed the error (and where to find usage) on stderr.
      if (!json) return EXIT.usage
      const command = program.commands.find((c) => c.name() === argv[0])
      return report(
        commanderUsageError(error, `privatelink${command ? ` ${command.name()}` : ''}`),
        context,
        json,
      )
    }
    return report(error, context, json)
  }
}
