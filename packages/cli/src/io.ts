/** A stream the CLI writes to: process.stdout / process.stderr, or a test double. */
export interface OutputStream {
  /** Writes text as given (the CLI adds its own newlines). */
  write(text: string): unknown
  /** True on a terminal: enables colour and the progress line. Absent counts as false. */
  readonly isTTY?: boolean
}

/** Everything the CLI touches outside itself, so `main()` runs in-process too. */
export interface CliIo {
  /** Results: the report, the token, `--json` documents. */
  stdout: OutputStream
  /** Errors, warnings and progress; never anything a script parses. */
  stderr: OutputStream
  /** Environment read in place of process.env (AWS_REGION, NO_COLOR, PRIVATELINK_ENDPOINTS, ...). */
  env: Record<string, string | undefined>
  /** Stops a long-running command (`lab`). @default SIGINT or SIGTERM */
  stopSignal?: () => Promise<string>
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env }
}

/**
 * Colour only on a terminal, never with NO_COLOR set to anything (https://no-color.org) or with
 * TERM=dumb: output that is piped, captured or read by a screen reader stays plain text.
 */
export function hasColour(stream: OutputStream, env: CliIo['env']): boolean {
  if (stream.isTTY !== true) return false
  if ((env['NO_COLOR'] ?? '') !== '') return false
  return env['TERM'] !== 'dumb'
}

export interface Palette {
  red(text: string): string
  green(text: string): string
  yellow(text: string): string
  dim(text: string): string
  bold(text: string): string
}

const sgr = (open: number, close: number) => (text: string) =>
  `\u001b[${open}m${text}\u001b[${close}m`
const plain = (text: string) => text

export function palette(enabled: boolean): Palette {
  if (!enabled) return { red: plain, green: plain, yellow: plain, dim: plain, bold: plain }
  return {
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    dim: sgr(2, 22),
    bold: sgr(1, 22),
  }
}

/** Writes whole lines. */
export function lineWriter(stream: OutputStream): (line?: string) => void {
  return (line = '') => void stream.write(`${line}\n`)
}

export interface Progress {
  /** Shows what runs now, replacing the previous progress line. */
  update(text: string): void
  /** Removes the progress line (before a result line is written). */
  clear(): void
}

/**
 * One self-overwriting status line on stderr while a slow check runs; nothing at all when stderr
 * is not a terminal, so logs and `--json` consumers never see carriage returns.
 */
export function progressLine(stream: OutputStream, env: CliIo['env']): Progress {
  if (stream.isTTY !== true || env['TERM'] === 'dumb') return { update() {}, clear() {} }
  let shown = false
  return {
    update(text) {
      stream.write(`\r\u001b[2K… ${text}`)
      shown = true
    },
    clear() {
      if (shown) stream.write('\r\u001b[2K')
      shown = false
    },
  }
}
