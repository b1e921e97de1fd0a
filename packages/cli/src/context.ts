import { PrivateLinkError } from '@privatelink/core'
import { type CliIo, hasColour, lineWriter, type Palette, palette } from './io.js'

/** What every command gets: its output streams, colours decided per stream, and the exit code. */
export interface CommandContext {
  io: CliIo
  out: (line?: string) => void
  err: (line?: string) => void
  /** Colours for stdout / stderr (plain unless that stream is a terminal and NO_COLOR is unset). */
  outColours: Palette
  errColours: Palette
  exitCode: number
}

export function createContext(io: CliIo): CommandContext {
  return {
    io,
    out: lineWriter(io.stdout),
    err: lineWriter(io.stderr),
    outColours: palette(hasColour(io.stdout, io.env)),
    errColours: palette(hasColour(io.stderr, io.env)),
    exitCode: 0,
  }
}

/** A usage problem found after parsing (e.g. a missing region): exit code 2, like a bad flag. */
export function usageError(message: string, hint: string, option?: string): PrivateLinkError {
  return new PrivateLinkError('ERR_USAGE', message, { hint, details: option ? { option } : {} })
}

export function isUsageError(error: unknown): boolean {
  return PrivateLinkError.isInstance(error) && error.code === 'ERR_USAGE'
}

/** JSON on stdout, one document, two-space indented. */
export function printJson(context: CommandContext, value: unknown): void {
  context.out(JSON.stringify(value, null, 2))
}
